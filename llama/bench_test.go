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
