package sampling_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/samplingtest"
)

// BenchmarkRunOverhead measures what Run adds to its backend at K = 8: each
// iteration generates 16 groups (greedy + 8 samples of about 510 tokens,
// the Fake with 500 words and no delay) twice, by calling the Fake
// directly (Task.Prompt and Generate) and through Run on one Generator
// (which also parses answers, encodes, writes and, in "sync", fsyncs each
// group). Both sides alternate in the same loop so the machine's drift
// cancels out. Metrics: ns per group of each side, their difference, and
// that difference per generated token, which compares with a real
// backend's time per token.
func BenchmarkRunOverhead(b *testing.B) {
	for _, bc := range []struct {
		name   string
		noSync bool
	}{{"K=8/sync", false}, {"K=8/nosync", true}} {
		b.Run(bc.name, func(b *testing.B) {
			f := &samplingtest.Fake{Words: 500}
			items := f.Items(16)
			task := f.Task()
			out := filepath.Join(b.TempDir(), "out.jsonl")
			c := fakeConfig(f, items, out, 1, nil)
			c.Params = &sampling.Params{Samples: 8, Seed: 1}
			c.NoSync = bc.noSync
			params := c.Params.WithDefaults()
			var direct, run time.Duration
			var iters, tokens int
			for b.Loop() {
				t0 := time.Now()
				for _, it := range items {
					prompt, err := task.Prompt(it)
					if err != nil {
						b.Fatal(err)
					}
					p := params
					p.Seed = sampling.GroupSeed(params.Seed, it.ID)
					traces, err := f.Generate(b.Context(), prompt, &p)
					if err != nil {
						b.Fatal(err)
					}
					for _, tr := range traces {
						tokens += len(tr.Tokens)
					}
				}
				t1 := time.Now()
				if _, err := sampling.Run(b.Context(), c); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				direct += t1.Sub(t0)
				run += t2.Sub(t1)
				iters++
				if err := os.Remove(out); err != nil {
					b.Fatal(err)
				}
			}
			groups := float64(iters * len(items))
			b.ReportMetric(float64(direct.Nanoseconds())/groups, "fake-ns/group")
			b.ReportMetric(float64(run.Nanoseconds())/groups, "run-ns/group")
			b.ReportMetric(float64((run-direct).Nanoseconds())/groups, "overhead-ns/group")
			b.ReportMetric(float64((run-direct).Nanoseconds())/float64(tokens), "overhead-ns/token")
		})
	}
}
