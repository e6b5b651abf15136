//go:build cgo

package llama_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/labelfree/labelfree/internal/gguf"
	"github.com/labelfree/labelfree/llama"
	"github.com/labelfree/labelfree/sampling"
)

// BenchmarkRunOverhead measures what sampling.Run adds to the llama
// backend at K = 8: each iteration generates the same 8 groups (greedy + 8
// samples, one exact session of 9 sequences, one thread) twice, in
// alternation so that the machine's drift cancels out:
//
//   - direct: Task.Prompt and Generator.Generate for each item, with the
//     seeds Run would use;
//   - run: sampling.Run over the same items into a new trace file in a
//     temporary directory, with its defaults (fsync after each group),
//     which adds the goroutines, answer parsing, encoding with token ids,
//     writing and syncing.
//
// The two sides' difference carries the noise of two generations, which
// on a busy machine is larger than the runner's cost on the tiny model; so
// the run side also times its Generator's calls, and the rest of its wall
// time is the runner's own, measured within one run (runner-ns/group,
// runner-frac = runner's time / run's wall time).
//
// On the tiny model (random weights) traces run to the 256-token budget;
// on the toy reasoner they end after about 15 tokens, which makes the
// runner's per-group costs weigh the most they can. Metrics: ns per group
// of each side, their difference, overhead-frac = (run − direct) / run
// (noise can make it negative), and the runner's own time as above.
func BenchmarkRunOverhead(b *testing.B) {
	for _, bc := range []struct {
		name      string
		model     func(testing.TB) string
		maxTokens int
	}{
		{"model=tiny/K=8", func(tb testing.TB) string { return tinyModel(tb, gguf.F32) }, 256},
		{"model=toy/K=8", toyModel, 64},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := load(b, bc.model(b))
			cfg := llama.ExactSession(64 + 9*bc.maxTokens)
			cfg.Sequences, cfg.Threads = 9, 1
			s, err := m.NewSession(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			g := llama.NewGenerator(s)
			timed := &timedGenerator{g: g}
			items, task := toyItems(8), toyTask{}
			params := &sampling.Params{Samples: 8, MaxTokens: bc.maxTokens, Seed: 1}
			out := filepath.Join(b.TempDir(), "traces.jsonl")
			run := &sampling.RunConfig{
				Items: items, Task: task, Generators: []sampling.Generator{timed}, Params: params,
				Out: out, Model: "bench.gguf", Backend: "llama", TaskName: "bench", TokenIDs: true,
			}
			// Warm up: the session's first decode and the file system's
			// first file are slower than the rest.
			if _, err := sampling.Run(b.Context(), run); err != nil {
				b.Fatal(err)
			}
			if err := os.Remove(out); err != nil {
				b.Fatal(err)
			}
			var direct, viaRun, backend time.Duration
			var iters, tokens int
			for b.Loop() {
				t0 := time.Now()
				for _, it := range items {
					prompt, err := task.Prompt(it)
					if err != nil {
						b.Fatal(err)
					}
					p := params.WithDefaults()
					p.Seed = sampling.GroupSeed(params.Seed, it.ID)
					traces, err := g.Generate(b.Context(), prompt, &p)
					if err != nil {
						b.Fatal(err)
					}
					for _, tr := range traces {
						tokens += len(tr.Tokens)
					}
				}
				t1 := time.Now()
				timed.d = 0
				if _, err := sampling.Run(b.Context(), run); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				direct += t1.Sub(t0)
				viaRun += t2.Sub(t1)
				backend += timed.d
				iters++
				if err := os.Remove(out); err != nil {
					b.Fatal(err)
				}
			}
			groups := float64(iters * len(items))
			b.ReportMetric(float64(tokens)/groups, "tokens/group")
			b.ReportMetric(float64(direct.Nanoseconds())/groups, "direct-ns/group")
			b.ReportMetric(float64(viaRun.Nanoseconds())/groups, "run-ns/group")
			b.ReportMetric(float64((viaRun-direct).Nanoseconds())/groups, "overhead-ns/group")
			b.ReportMetric((viaRun-direct).Seconds()/viaRun.Seconds(), "overhead-frac")
			b.ReportMetric(float64((viaRun-backend).Nanoseconds())/groups, "runner-ns/group")
			b.ReportMetric((viaRun-backend).Seconds()/viaRun.Seconds(), "runner-frac")
		})
	}
}

// timedGenerator adds up the time its Generator's calls take. Run calls a
// single Generator from one goroutine at a time, and d is read after Run
// returns.
type timedGenerator struct {
	g sampling.Generator
	d time.Duration
}

func (t *timedGenerator) Generate(ctx context.Context, prompt sampling.Prompt, p *sampling.Params) ([]sampling.Trace, error) {
	t0 := time.Now()
	traces, err := t.g.Generate(ctx, prompt, p)
	t.d += time.Since(t0)
	return traces, err
}
