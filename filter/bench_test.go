package filter_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/sampling"
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

// bigInput is BenchmarkFilterExport's input, made once per process (in
// a directory that TestMain removes) so that every sub-benchmark and
// every -count run reads the same files.
var bigInput struct {
	once           sync.Once
	dir            string
	traces, scores string
	err            error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bigInput.dir != "" {
		os.RemoveAll(bigInput.dir)
	}
	os.Exit(code)
}

// lineWriter counts the bytes written through it and takes the Location
// of the last Write, which a sampling.Writer makes one line.
type lineWriter struct {
	w    io.Writer
	n    int64
	last score.Location
}

func (c *lineWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.last = score.LocationOf(c.n, bytes.TrimSuffix(b, []byte{'\n'}))
	c.n += int64(n)
	return n, err
}

// makeBigInput writes a trace file of n groups in the shape of
// BenchmarkPipeline's (a chat prompt, r0 and four samples of 16 words and
// about 25 tokens with full log-probabilities and entropies, 5% of r0s
// unparsable, samples agreeing with r0 70% of the time) with a
// sampling.Writer, and its score file with a score.Writer: five
// estimators with pseudo-random scores, and the real Location of each
// group's line. Sampling that many groups through a samplingtest.Fake
// would take minutes.
func makeBigInput(dir string, n int) (traces, scores string, err error) {
	traces = filepath.Join(dir, "traces.jsonl")
	scores = filepath.Join(dir, "scores.jsonl")
	f, err := os.Create(traces)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	sum := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(f, sum), 1<<20)
	cw := &lineWriter{w: bw}
	w, err := sampling.NewWriter(cw, &sampling.Header{Model: "bench", Backend: "fake", Task: "bench", Params: (&sampling.Params{Samples: 4}).WithDefaults()})
	if err != nil {
		return "", "", err
	}
	words := strings.Fields("gene chromatin unchanged receptor stress likely mRNA cell factor represses knockdown phosphorylates perturbation promoter thus evidence levels cascade however signalling binds target")
	classes := []string{"up", "down", "none"}
	type meta struct {
		loc   score.Location
		class string
	}
	metas := make([]meta, n)
	rng := rand.New(rand.NewPCG(1, 2))
	g := sampling.Group{Traces: make([]sampling.TraceRecord, 5)}
	for i := range n {
		id := fmt.Sprintf("q%07d", i)
		g.Item = sampling.Item{ID: id, Label: classes[rng.IntN(3)]}
		g.Prompt = sampling.Chat("Reason inside <think></think>, then answer with one of up, down, none inside <answer></answer>.", "Question "+id+". Is the gene differentially expressed after the knockdown?")
		r0 := classes[rng.IntN(3)]
		if rng.Float64() < 0.05 {
			r0 = ""
		}
		for k := range g.Traces {
			class := r0
			if k > 0 && (class == "" || rng.Float64() > 0.7) {
				class = classes[rng.IntN(3)]
			}
			var text strings.Builder
			text.WriteString("<think>")
			for range 16 {
				text.WriteString(" " + words[rng.IntN(len(words))])
			}
			text.WriteString("</think>\n")
			t := sampling.TraceRecord{Greedy: k == 0, Finish: sampling.FinishEOG, LogProbKind: sampling.LogProbsFull,
				LogProbs: make([]float64, 25), Entropies: make([]float64, 25)}
			if class != "" {
				text.WriteString("<answer>" + class + "</answer>")
				t.Answer = sampling.Answer{Text: class, Class: class, OK: true}
			}
			if k > 0 {
				t.Seed = rng.Uint32()
			}
			t.Text = text.String()
			for j := range t.LogProbs {
				t.LogProbs[j] = -4 * rng.Float64() * rng.Float64()
				t.Entropies[j] = 7.5 * rng.Float64()
			}
			g.Traces[k] = t
		}
		if err := w.Write(&g); err != nil {
			return "", "", err
		}
		metas[i] = meta{loc: cw.last, class: r0}
	}
	if err := bw.Flush(); err != nil {
		return "", "", err
	}

	sf, err := os.Create(scores)
	if err != nil {
		return "", "", err
	}
	defer sf.Close()
	sbw := bufio.NewWriterSize(sf, 1<<20)
	names := score.DefaultEstimators()
	sw, err := score.NewWriter(sbw, &score.Header{Traces: traces, TracesSHA256: hex.EncodeToString(sum.Sum(nil)), Estimators: names})
	if err != nil {
		return "", "", err
	}
	for i, m := range metas {
		r := score.Record{ID: fmt.Sprintf("q%07d", i), Class: m.class, OK: m.class != "", Location: m.loc,
			Scores: map[string]uncertainty.Score{}}
		for j, e := range names {
			if !r.OK && (e == "cocoa-ppl" || e == "self-consistency") {
				if r.Errors == nil {
					r.Errors = map[string]string{}
				}
				r.Errors[e] = "uncertainty: no parsable answer: the greedy trace r0"
				continue
			}
			r.Scores[e] = uncertainty.Score{Value: float64((uint64(i*5+j)*0x9e3779b97f4a7c15)>>11) / (1 << 53)}
		}
		if err := sw.Write(&r); err != nil {
			return "", "", err
		}
	}
	return traces, scores, sbw.Flush()
}

// peakMemory samples the Go heap's live and unswept objects every
// millisecond while a benchmark runs, and reads the process's peak
// resident set (Linux's VmHWM, reset by /proc/self/clear_refs) at its end.
type peakMemory struct {
	stop     chan struct{}
	done     chan struct{}
	heap     uint64
	rssReset bool
}

func startPeakMemory() *peakMemory {
	runtime.GC()
	debug.FreeOSMemory()
	p := &peakMemory{stop: make(chan struct{}), done: make(chan struct{})}
	p.rssReset = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	go func() {
		defer close(p.done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			p.heap = max(p.heap, s[0].Value.Uint64())
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

// report stops the sampling and reports peak-heap-MB and, where Linux
// tells it, peak-RSS-MB.
func (p *peakMemory) report(b *testing.B) {
	close(p.stop)
	<-p.done
	b.ReportMetric(float64(p.heap)/1e6, "peak-heap-MB")
	if !p.rssReset {
		return
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	for l := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb float64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%f kB", &kb); err == nil {
				b.ReportMetric(kb*1024/1e6, "peak-RSS-MB")
			}
		}
	}
}

// BenchmarkFilterExport filters a score file of 1,000,000 groups per
// class (cocoa-ppl, fraction 0.3) and exports the kept groups' r0 traces
// with a 5% validation split, from a trace file of the shape of
// BenchmarkPipeline's (4.6 GB; made once per process, in TMPDIR, in
// about a minute, not timed), and reports groups/s of the score file and
// peak memory. The score file has Locations, so Export reads only the
// selected lines. Sub-benchmarks time filter.File alone, Export alone,
// and both, the target (3 s).
func BenchmarkFilterExport(b *testing.B) {
	const n = 1_000_000
	bigInput.once.Do(func() {
		bigInput.dir, bigInput.err = os.MkdirTemp("", "labelfree-bench-")
		if bigInput.err == nil {
			bigInput.traces, bigInput.scores, bigInput.err = makeBigInput(bigInput.dir, n)
		}
	})
	if bigInput.err != nil {
		b.Fatal(bigInput.err)
	}
	traces, scores := bigInput.traces, bigInput.scores
	if fi, err := os.Stat(traces); err == nil {
		b.Logf("trace file: %d groups, %.0f MB", n, float64(fi.Size())/1e6)
	}
	strategy := filter.PerClass{Estimator: "cocoa-ppl", Fraction: 0.3}
	cfg := &filter.ExportConfig{Validation: 0.05, Replace: true}
	dir := b.TempDir()
	selName := filepath.Join(dir, "sel.jsonl")
	sel, err := filter.File(b.Context(), scores, selName, strategy)
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range []struct {
		name           string
		file, exporter bool
	}{{"file", true, false}, {"export", false, true}, {"file+export", true, true}} {
		b.Run(s.name, func(b *testing.B) {
			out := b.TempDir()
			p := startPeakMemory()
			for b.Loop() {
				sel := sel
				if s.file {
					var err error
					if sel, err = filter.File(b.Context(), scores, selName, strategy); err != nil {
						b.Fatal(err)
					}
				}
				if s.exporter {
					if _, err := filter.Export(b.Context(), sel, traces, out, cfg); err != nil {
						b.Fatal(err)
					}
				}
			}
			p.report(b)
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "groups/s")
		})
	}
}
