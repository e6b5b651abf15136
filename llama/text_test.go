//go:build cgo

package llama_test

import (
	"math"
	"testing"

	"github.com/labelfree/labelfree/internal/gguf"
	"github.com/labelfree/labelfree/internal/reference"
	"github.com/labelfree/labelfree/llama"
)

var roundTripTexts = []string{
	"Hello, world!",
	"  leading spaces and\ttabs\nand newlines\n\n",
	"<|im_start|>user\nIs IRF1 up-regulated when STAT1 is knocked down?<|im_end|>\n<|im_start|>assistant\n<think>\nSTAT1 drives IRF1.\n</think>\n<answer>down</answer><|im_end|>",
	"Ünïcödé: ß, 日本語, emoji 🧬, Greek αβγ, math ∑∫",
	"numbers 1234567890 3.14159 -2e-5",
	"",
}

// TestTokenizeRoundTripQwenVocab round-trips text, chat special tokens
// included, through the real 151,936-token Qwen vocabulary (Qwen2's file
// with Qwen3's added tokens, see internal/testmodel), loaded vocab-only.
func TestTokenizeRoundTripQwenVocab(t *testing.T) {
	m, err := llama.Load(t.Context(), qwenModel(t), &llama.ModelConfig{VocabOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, text := range roundTripTexts {
		toks, err := m.Tokenize(text, true)
		if err != nil {
			t.Fatal(err)
		}
		back, err := m.Detokenize(toks, true)
		if err != nil {
			t.Fatal(err)
		}
		if back != text {
			t.Errorf("round trip of %q gave %q (tokens %v)", text, back, toks)
		}
	}
	// Ids from Qwen3's tokenizer_config.json.
	for text, id := range map[string]int32{"<|im_start|>": 151644, "<|im_end|>": 151645, "<think>": 151667, "</think>": 151668} {
		toks, _ := m.Tokenize(text, true)
		if len(toks) != 1 || toks[0] != id {
			t.Errorf("%s tokenized as %v, want [%d]", text, toks, id)
		}
	}
	toks, _ := m.Tokenize("a<|im_end|>", true)
	if s, _ := m.Detokenize(toks, false); s != "a" {
		t.Errorf("Detokenize without special tokens = %q, want %q", s, "a")
	}
}

func TestTokenizeRoundTripByteVocab(t *testing.T) {
	m := load(t, tinyModel(t, gguf.F32))
	for _, text := range roundTripTexts {
		toks, err := m.Tokenize(text, true)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := m.Detokenize(toks, true); err != nil || back != text {
			t.Errorf("round trip of %q gave %q, %v", text, back, err)
		}
	}
	if _, err := m.Detokenize([]int32{1, 400}, true); err == nil {
		t.Error("token 400 accepted by a 261-token vocabulary")
	}
}

func TestChatTemplate(t *testing.T) {
	m := load(t, tinyModel(t, gguf.F32))
	msgs := []llama.Message{{Role: "system", Content: "You are a biologist."}, {Role: "user", Content: "Is IRF1 up?"}}
	want := "<|im_start|>system\nYou are a biologist.<|im_end|>\n<|im_start|>user\nIs IRF1 up?<|im_end|>\n<|im_start|>assistant\n"
	tests := []struct {
		name string
		opts *llama.ChatOptions
		want string
	}{
		{"thinking", nil, want},
		{"no thinking", &llama.ChatOptions{NoThinking: true}, want + "<think>\n\n</think>\n\n"},
	}
	for _, tt := range tests {
		got, err := m.ChatTemplate(msgs, tt.opts)
		if err != nil || got != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if _, err := m.ChatTemplate(nil, nil); err == nil {
		t.Error("no messages accepted")
	}
}

// TestEmbedMatchesReference compares llama.cpp's mean-pooled embedding with
// the mean over positions of the reference's final hidden states.
func TestEmbedMatchesReference(t *testing.T) {
	path := tinyModel(t, gguf.F32)
	ref, err := reference.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m := load(t, path)
	// Sequences 3 with a batch of 256 once aborted llama.cpp (see NewSession).
	s, err := m.NewSession(&llama.SessionConfig{ContextLen: 256, Sequences: 3, Embeddings: true,
		KVCache: llama.KVCacheF32, FlashAttention: llama.FlashAttentionOff})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var texts [][]int32
	for _, txt := range []string{"STAT1 knockdown", "IRF1 is an interferon regulatory factor", "x"} {
		toks, _ := m.Tokenize(txt, false)
		texts = append(texts, toks)
	}
	got, err := s.Embed(t.Context(), texts)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for i, toks := range texts {
		ids := make([]int, len(toks))
		for j, tok := range toks {
			ids[j] = int(tok)
		}
		hidden, err := ref.Hidden(ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(got[i]) != len(hidden[0]) {
			t.Fatalf("embedding of %d values, hidden size %d", len(got[i]), len(hidden[0]))
		}
		for d := range got[i] {
			var mean float64
			for _, h := range hidden {
				mean += h[d] / float64(len(hidden))
			}
			worst = max(worst, math.Abs(float64(got[i][d])-mean))
		}
	}
	t.Logf("max |embedding − reference mean hidden state| = %.2g", worst)
	if worst > 1e-4 {
		t.Errorf("embeddings differ from the reference by %g", worst)
	}
	plain := exactSession(t, m, 1)
	if _, err := plain.Embed(t.Context(), texts); err == nil {
		t.Error("Embed on a session without Embeddings succeeded")
	}
}
