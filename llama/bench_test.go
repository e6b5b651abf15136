//go:build cgo

package llama_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/labelfree/labelfree/internal/gguf"
	"github.com/labelfree/labelfree/llama"
)

// BenchmarkPromptLogProbs evaluates a 128-token prompt and the full-vocabulary
// log-softmax at every position, in the exact configuration and in
// llama.cpp's default one. Both run in every iteration, one after the other
// on the same loaded model, so the reported ratio exact/default comes from
// one run and the machine's drift cancels out. It runs on the tiny model, and
// on LABELFREE_BENCH_MODEL when set (make bench sets it to a generated
// Qwen3-0.6B-shape Q4_K_M model).
func BenchmarkPromptLogProbs(b *testing.B) {
	models := []string{tinyModel(b, gguf.F32)}
	if p := os.Getenv("LABELFREE_BENCH_MODEL"); p != "" {
		models = append(models, p)
	}
	tokens := make([]int32, 128)
	for i := range tokens {
		tokens[i] = int32(32 + i%90) // printable bytes; ordinary ids in the Qwen vocabulary too
	}
	for _, path := range models {
		b.Run("model="+filepath.Base(path), func(b *testing.B) {
			m, err := llama.Load(b.Context(), path, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			exact, err := m.NewSession(llama.ExactSession(256))
			if err != nil {
				b.Fatal(err)
			}
			def, err := m.NewSession(&llama.SessionConfig{ContextLen: 256})
			if err != nil {
				b.Fatal(err)
			}
			var tExact, tDefault time.Duration
			for b.Loop() {
				t0 := time.Now()
				if _, err := exact.LogProbs(b.Context(), tokens); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if _, err := def.LogProbs(b.Context(), tokens); err != nil {
					b.Fatal(err)
				}
				tExact, tDefault = tExact+t1.Sub(t0), tDefault+time.Since(t1)
			}
			n := float64(len(tokens) * b.N)
			b.ReportMetric(n/tExact.Seconds(), "exact-tokens/s")
			b.ReportMetric(n/tDefault.Seconds(), "default-tokens/s")
			b.ReportMetric(tExact.Seconds()/tDefault.Seconds(), "exact/default")
		})
	}
}

// BenchmarkLogSoftmax is the float64 Go log-softmax over one row of the real
// Qwen vocabulary (151,936 logits), the per-token cost of exact log-probs.
func BenchmarkLogSoftmax(b *testing.B) {
	logits := make([]float32, 151936)
	for i := range logits {
		logits[i] = float32(i%1000) / 100
	}
	dst := make([]float64, len(logits))
	for b.Loop() {
		llama.LogSoftmax(dst, logits)
	}
}

// BenchmarkGenerateBatched generates K = 16 sampled traces of 64 tokens after
// a 128-token prompt on LABELFREE_BENCH_MODEL, first decoded together (one
// Generate call: the prompt once, 16 sequences per decode), then the same
// 16 traces (same seeds) one after another (16 Generate calls on a
// one-sequence session). Both run in every iteration on the same loaded
// model; the reported speed-up is sequential time / batched time.
func BenchmarkGenerateBatched(b *testing.B) {
	path := os.Getenv("LABELFREE_BENCH_MODEL")
	if path == "" {
		b.Skip("set LABELFREE_BENCH_MODEL (make bench does)")
	}
	const k, promptLen, steps = 16, 128, 64
	m, err := llama.Load(b.Context(), path, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	exact := func(seqs, ctx int) *llama.Session {
		cfg := llama.ExactSession(ctx)
		cfg.Sequences = seqs
		s, err := m.NewSession(cfg)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	together, alone := exact(k, promptLen+k*steps+16), exact(1, promptLen+steps+16)
	defer together.Close()
	defer alone.Close()
	prompt := make([]int32, promptLen)
	for i := range prompt {
		prompt[i] = int32(32 + i%90)
	}
	var tBatched, tSequential time.Duration
	var tokens int
	for b.Loop() {
		t0 := time.Now()
		traces, err := together.Generate(b.Context(), prompt, &llama.GenerateConfig{Samples: k, NoGreedy: true, MaxTokens: steps, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		for i := range k {
			// Trace i+1 of seed 1 has seed 2+i: alone it is trace 1 of seed 1+i.
			if _, err := alone.Generate(b.Context(), prompt, &llama.GenerateConfig{Samples: 1, NoGreedy: true, MaxTokens: steps, Seed: uint64(1 + i)}); err != nil {
				b.Fatal(err)
			}
		}
		tBatched, tSequential = tBatched+t1.Sub(t0), tSequential+time.Since(t1)
		for _, tr := range traces {
			tokens += len(tr.Tokens)
		}
	}
	b.ReportMetric(float64(tokens)/tBatched.Seconds(), "batched-tokens/s")
	b.ReportMetric(float64(tokens)/tSequential.Seconds(), "sequential-tokens/s")
	b.ReportMetric(tSequential.Seconds()/tBatched.Seconds(), "speedup")
}
