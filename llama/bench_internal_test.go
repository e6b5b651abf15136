//go:build cgo

package llama

import (
	"os"
	"testing"
)

// BenchmarkGeneratePhases runs Generate with K = 16 sampled traces of 64
// tokens after a 128-token prompt on LABELFREE_BENCH_MODEL (the
// Qwen3-0.6B-shape Q4_K_M model of make bench) and splits each decode step
// into its parts, all measured in the same run: the llama_decode of the
// live sequences, the extraction of log Z, entropy and argmax from their
// full-vocabulary rows, and llama.cpp's sampling plus the bookkeeping of
// the step (pieces, stop checks). It reports extraction and sampling as
// fractions of the decode time.
func BenchmarkGeneratePhases(b *testing.B) {
	path := os.Getenv("LABELFREE_BENCH_MODEL")
	if path == "" {
		b.Skip("set LABELFREE_BENCH_MODEL (make bench does)")
	}
	m, err := Load(b.Context(), path, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	const k, promptLen, steps = 16, 128, 64
	s, err := m.NewSession(&SessionConfig{ContextLen: promptLen + k*steps + 16, Sequences: k, KVCache: KVCacheF32, FlashAttention: FlashAttentionOff})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	prompt := benchPrompt(promptLen)
	s.timings = &phaseTimes{}
	for b.Loop() {
		if _, err := s.Generate(b.Context(), prompt, &GenerateConfig{Samples: k, NoGreedy: true, MaxTokens: steps}); err != nil {
			b.Fatal(err)
		}
	}
	tm := s.timings
	perStep := func(d float64) float64 { return d / float64(tm.steps) * 1e3 }
	b.ReportMetric(perStep(tm.decode.Seconds()), "decode-ms/step")
	b.ReportMetric(perStep(tm.extract.Seconds()), "extract-ms/step")
	b.ReportMetric(perStep(tm.sample.Seconds()), "sample-ms/step")
	b.ReportMetric(tm.extract.Seconds()/tm.decode.Seconds(), "extract/decode")
	b.ReportMetric(tm.sample.Seconds()/tm.decode.Seconds(), "sample/decode")
}

// benchPrompt is n ordinary tokens (printable bytes in the byte vocabulary,
// ordinary ids in Qwen's).
func benchPrompt(n int) []int32 {
	p := make([]int32, n)
	for i := range p {
		p[i] = int32(32 + i%90)
	}
	return p
}
