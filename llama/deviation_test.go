//go:build cgo

package llama_test

import (
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/llama"
)

// TestConfigDeviation measures what llama.cpp's faster session
// configurations do to log-probabilities on a real-shape model: it scores
// 8 sampled traces of 96 tokens after a 128-token prompt (teacher forcing)
// in each configuration and compares every token with the exact one: max
// and mean |Δ log p| and the change of each trace's perplexity. It needs
// LABELFREE_BENCH_MODEL (make bench sets it to the Qwen3-0.6B-shape Q4_K_M
// model) and prints a Markdown table for the README.
func TestConfigDeviation(t *testing.T) {
	path := os.Getenv("LABELFREE_BENCH_MODEL")
	if path == "" {
		t.Skip("set LABELFREE_BENCH_MODEL to a real-shape GGUF (make bench does)")
	}
	m := load(t, path)
	prompt := make([]int32, 128)
	for i := range prompt {
		prompt[i] = int32(32 + i%90)
	}
	const k, n = 8, 96
	gen, err := m.NewSession(&llama.SessionConfig{ContextLen: 128 + k*n + 16, Sequences: k, KVCache: llama.KVCacheF32, FlashAttention: llama.FlashAttentionOff})
	if err != nil {
		t.Fatal(err)
	}
	traces, err := gen.Generate(t.Context(), prompt, &llama.GenerateConfig{Samples: k, NoGreedy: true, MaxTokens: n, Temperature: 1, Seed: 11})
	gen.Close()
	if err != nil {
		t.Fatal(err)
	}
	reqs := make([]llama.ScoreRequest, len(traces))
	for i, tr := range traces {
		reqs[i].Prompt = prompt
		for _, tok := range tr.Tokens {
			reqs[i].Continuation = append(reqs[i].Continuation, tok.ID)
		}
	}
	configs := []struct {
		name string
		cfg  llama.SessionConfig
	}{
		{"exact: F32 KV cache, flash attention off", llama.SessionConfig{KVCache: llama.KVCacheF32, FlashAttention: llama.FlashAttentionOff}},
		{"F16 KV cache, flash attention off", llama.SessionConfig{KVCache: llama.KVCacheF16, FlashAttention: llama.FlashAttentionOff}},
		{"F16 KV cache, flash attention auto (llama.cpp's default)", llama.SessionConfig{}},
		{"F32 KV cache, flash attention on", llama.SessionConfig{KVCache: llama.KVCacheF32, FlashAttention: llama.FlashAttentionOn}},
		{"Q8_0 KV cache, flash attention on", llama.SessionConfig{KVCache: llama.KVCacheQ8_0, FlashAttention: llama.FlashAttentionOn}},
	}
	var base [][]llama.Token
	var table strings.Builder
	fmt.Fprintf(&table, "| configuration | max \\|Δ log p\\| | mean \\|Δ log p\\| | max \\|Δ PPL\\| / PPL |\n| --- | --- | --- | --- |\n")
	for _, c := range configs {
		cfg := c.cfg
		cfg.ContextLen, cfg.Sequences = 128+n+16, 1
		s, err := m.NewSession(&cfg)
		if err != nil {
			t.Fatal(err)
		}
		scored, err := s.Score(t.Context(), reqs)
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		if base == nil {
			base = scored
			continue
		}
		var maxD, sumD, maxPPL float64
		var count int
		for i := range scored {
			var nll, nllBase float64
			for j, tok := range scored[i] {
				d := math.Abs(tok.LogProb - base[i][j].LogProb)
				maxD, sumD, count = max(maxD, d), sumD+d, count+1
				nll -= tok.LogProb
				nllBase -= base[i][j].LogProb
			}
			ppl, pplBase := math.Exp(nll/float64(len(scored[i]))), math.Exp(nllBase/float64(len(scored[i])))
			maxPPL = max(maxPPL, math.Abs(ppl-pplBase)/pplBase)
		}
		fmt.Fprintf(&table, "| %s | %.2g | %.2g | %.2g |\n", c.name, maxD, sumD/float64(count), maxPPL)
	}
	t.Logf("%d traces × %d tokens on %s, each configuration against the exact one:\n%s", k, n, path, table.String())
}
