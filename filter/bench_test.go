package filter_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/sampling/samplingtest"
	"github.com/labelfree/labelfree/score"
	"github.com/labelfree/labelfree/uncertainty"
)

// BenchmarkPipeline scores, filters and exports the trace file of 100,000
// groups (r0 and four samples of about 25 tokens each, from a
// samplingtest.Fake; about 250 MB), one stage per sub-benchmark, and
// reports groups/s. Making the trace file is not timed.
func BenchmarkPipeline(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	traces := fakeTraces(b, b.Context(), dir, &samplingtest.Fake{Words: 16, Unparsable: 0.05}, n, 4)
	if fi, err := os.Stat(traces); err == nil {
		b.Logf("trace file: %d groups, %.0f MB", n, float64(fi.Size())/1e6)
	}
	// Each stage's input, made once so that any sub-benchmark runs alone.
	scores := filepath.Join(dir, "scores.jsonl")
	if _, err := score.File(b.Context(), traces, scores, nil); err != nil {
		b.Fatal(err)
	}
	strategy := filter.PerClass{Estimator: "cocoa-ppl", Fraction: 0.5}
	sel, err := filter.File(b.Context(), scores, filepath.Join(dir, "sel.jsonl"), strategy)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("score", func(b *testing.B) {
		for b.Loop() {
			if _, err := score.File(b.Context(), traces, scores, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "groups/s")
	})
	b.Run("filter", func(b *testing.B) {
		for b.Loop() {
			if _, err := filter.File(b.Context(), scores, filepath.Join(dir, "sel.jsonl"), strategy); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "groups/s")
	})
	b.Run("export", func(b *testing.B) {
		out := b.TempDir()
		for b.Loop() {
			if _, err := filter.Export(b.Context(), sel, traces, out, &filter.ExportConfig{Validation: 0.05, Replace: true}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "groups/s")
	})
}

// BenchmarkSelect ranks score records already in memory: the cost of the
// strategies themselves, without reading a file.
func BenchmarkSelect(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		recs := make([]score.Record, n)
		classes := []string{"up", "down", "none"}
		for i := range recs {
			u := float64((uint64(i)*0x9e3779b97f4a7c15)>>40) / (1 << 24)
			recs[i] = score.Record{ID: fmt.Sprintf("q%07d", i), Class: classes[i%3], OK: true,
				Scores: map[string]uncertainty.Score{"cocoa-ppl": {Value: u}}}
		}
		h := &score.Header{Estimators: []string{"cocoa-ppl"}}
		for _, s := range []filter.Strategy{
			filter.PerClass{Estimator: "cocoa-ppl", Fraction: 0.3},
			filter.Global{Estimator: "cocoa-ppl", Fraction: 0.3},
			filter.Random{Seed: 1, Fraction: 0.3, PerClass: true},
		} {
			b.Run(fmt.Sprintf("%T/%d", s, n), func(b *testing.B) {
				for b.Loop() {
					if _, err := filter.Select(h, score.Records(recs), s); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "groups/s")
			})
		}
	}
}

// BenchmarkFile filters a score file of 1,000,000 groups (five
// estimators each, about 280 MB) per class: reading the file, which
// dominates, and ranking.
func BenchmarkFile(b *testing.B) {
	const n = 1_000_000
	dir := b.TempDir()
	scores := filepath.Join(dir, "scores.jsonl")
	f, err := os.Create(scores)
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	names := score.DefaultEstimators()
	w, err := score.NewWriter(bw, &score.Header{Traces: "traces.jsonl", Estimators: names})
	if err != nil {
		b.Fatal(err)
	}
	classes := []string{"up", "down", "none"}
	for i := range n {
		r := score.Record{ID: fmt.Sprintf("q%07d", i), Class: classes[i%3], OK: true, Label: classes[i%7%3],
			Scores: map[string]uncertainty.Score{}}
		for j, e := range names {
			r.Scores[e] = uncertainty.Score{Value: float64((uint64(i*5+j)*0x9e3779b97f4a7c15)>>11) / (1 << 53)}
		}
		if err := w.Write(&r); err != nil {
			b.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	for b.Loop() {
		if _, err := filter.File(b.Context(), scores, filepath.Join(dir, "sel.jsonl"), filter.PerClass{Estimator: "cocoa-ppl", Fraction: 0.3}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "groups/s")
}
