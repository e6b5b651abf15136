//go:build cgo

package llama_test

import (
	"math"
	"testing"

	"github.com/labelfree/labelfree/internal/gguf"
	"github.com/labelfree/labelfree/internal/reference"
	"github.com/labelfree/labelfree/llama"
)

// TestExactLogProbs is the proof behind "exact token log-probabilities": on
// the generated tiny Qwen3 model (F32 weights), llama.cpp's log-softmax at
// every position of a prompt must match the pure-Go float64 reference
// forward pass (internal/reference) to 1e-4 in the ExactSession
// configuration. LLAMACPP.md records agreement to about 1e-6; the default
// configuration (flash attention auto, F16 KV cache) is measured beside it
// and reported, bounded by the ~1e-2 that DESIGN.md states.
func TestExactLogProbs(t *testing.T) {
	path := tinyModel(t, gguf.F32)
	ref, err := reference.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m := load(t, path)
	text := "<|im_start|>user\nIs IRF1 up when STAT1 is knocked down?<|im_end|>\n<|im_start|>assistant\n<think>\n"
	tokens, err := m.Tokenize(text, true)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int, len(tokens))
	for i, tok := range tokens {
		ids[i] = int(tok)
	}
	want, err := ref.LogProbs(ids)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		cfg   *llama.SessionConfig
		bound float64
	}{
		{"exact", llama.ExactSession(256), 1e-4},
		{"exact, batches of 7", &llama.SessionConfig{ContextLen: 256, BatchSize: 7, KVCache: llama.KVCacheF32, FlashAttention: llama.FlashAttentionOff}, 1e-4},
		{"default (flash auto, f16 KV)", &llama.SessionConfig{ContextLen: 256}, 2e-2},
		{"flash on, f16 KV", &llama.SessionConfig{ContextLen: 256, FlashAttention: llama.FlashAttentionOn}, 2e-2},
		{"flash off, f16 KV", &llama.SessionConfig{ContextLen: 256, FlashAttention: llama.FlashAttentionOff}, 2e-2},
		{"flash on, f32 KV", &llama.SessionConfig{ContextLen: 256, FlashAttention: llama.FlashAttentionOn, KVCache: llama.KVCacheF32}, 2e-2},
		{"flash on, q8_0 KV", &llama.SessionConfig{ContextLen: 256, FlashAttention: llama.FlashAttentionOn, KVCache: llama.KVCacheQ8_0}, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := m.NewSession(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got, err := s.LogProbs(t.Context(), tokens)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d positions, reference has %d", len(got), len(want))
			}
			d := maxDiff(got, want)
			t.Logf("%d positions × %d tokens: max |log p(llama.cpp) − log p(reference)| = %.3g", len(got), len(got[0]), d)
			if d > tt.bound || math.IsNaN(d) {
				t.Errorf("max difference %g exceeds %g", d, tt.bound)
			}
		})
	}
}

// TestExactLogProbsGPU offloads every layer of the tiny model to a GPU and
// checks the same 1e-4 bound against the reference. It runs where ggml
// finds a GPU device (a CUDA build: make test LLAMA_FLAGS=--cuda) and skips
// elsewhere.
func TestExactLogProbsGPU(t *testing.T) {
	devs, err := llama.Devices()
	if err != nil {
		t.Fatal(err)
	}
	gpu := ""
	for _, d := range devs {
		if d.Type == "gpu" {
			gpu = d.Name
		}
	}
	if gpu == "" {
		t.Skip("no GPU device: install a CUDA llama.cpp (make test LLAMA_FLAGS=--cuda) on a machine with a GPU")
	}
	path := tinyModel(t, gguf.F32)
	ref, err := reference.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := llama.Load(t.Context(), path, &llama.ModelConfig{GPULayers: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s, err := m.NewSession(llama.ExactSession(256))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tokens, _ := m.Tokenize(genPrompt, true)
	got, err := s.LogProbs(t.Context(), tokens)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int, len(tokens))
	for i, tok := range tokens {
		ids[i] = int(tok)
	}
	want, _ := ref.LogProbs(ids)
	d := maxDiff(got, want)
	t.Logf("%s, all layers offloaded: max |Δ log p| = %.2g", gpu, d)
	if d > 1e-4 {
		t.Errorf("max difference %g exceeds 1e-4", d)
	}
}
