//go:build cgo

package llama_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/internal/gguf"
	"github.com/labelfree/labelfree/internal/reference"
	"github.com/labelfree/labelfree/llama"
)

const genPrompt = "<|im_start|>user\nIs IRF1 up when STAT1 is knocked down?<|im_end|>\n<|im_start|>assistant\n<think>\n"

func exactSession(t *testing.T, m *llama.Model, seqs int) *llama.Session {
	t.Helper()
	cfg := llama.ExactSession(512)
	cfg.Sequences = seqs
	// One thread: ggml's worker threads spin while they wait, and test
	// binaries run side by side on a 2-core machine.
	cfg.Threads = 1
	s, err := m.NewSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestGenerateExact checks every generated token's log-probability and
// entropy against the reference forward pass run on prompt + trace, for
// the greedy trace and K = 4 sampled traces decoded together (after the
// prompt's sequence copy), and that the greedy trace follows the
// reference's argmax.
func TestGenerateExact(t *testing.T) {
	path := tinyModel(t, gguf.F32)
	ref, err := reference.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m := load(t, path)
	prompt, err := m.Tokenize(genPrompt, true)
	if err != nil {
		t.Fatal(err)
	}
	s := exactSession(t, m, 5)
	traces, err := s.Generate(t.Context(), prompt, &llama.GenerateConfig{Samples: 4, MaxTokens: 24, Seed: 42, Temperature: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(traces) != 5 || !traces[0].Greedy || traces[1].Greedy {
		t.Fatalf("got %d traces, greedy flags %v %v", len(traces), traces[0].Greedy, traces[1].Greedy)
	}
	var worstLP, worstH float64
	for k, tr := range traces {
		if len(tr.Tokens) == 0 || tr.Finish == "" {
			t.Fatalf("trace %d: %d tokens, finish %q", k, len(tr.Tokens), tr.Finish)
		}
		ids := make([]int, 0, len(prompt)+len(tr.Tokens))
		for _, p := range prompt {
			ids = append(ids, int(p))
		}
		for _, tok := range tr.Tokens {
			ids = append(ids, int(tok.ID))
		}
		want, err := ref.LogProbs(ids)
		if err != nil {
			t.Fatal(err)
		}
		var text strings.Builder
		for i, tok := range tr.Tokens {
			row := want[len(prompt)-1+i]
			worstLP = max(worstLP, math.Abs(tok.LogProb-row[tok.ID]))
			worstH = max(worstH, math.Abs(tok.Entropy-reference.Entropy(row)))
			if tr.Greedy {
				best := 0
				for v := range row {
					if row[v] > row[best] {
						best = v
					}
				}
				if int(tok.ID) != best {
					t.Errorf("greedy token %d = %d, reference argmax %d", i, tok.ID, best)
				}
			}
			if tr.Finish != llama.FinishEOG || i < len(tr.Tokens)-1 {
				text.WriteString(tok.Text)
			}
		}
		if tr.Text != text.String() {
			t.Errorf("trace %d: Text %q is not its pieces %q", k, tr.Text, text.String())
		}
	}
	t.Logf("5 traces: max |Δ log p| = %.2g, max |Δ entropy| = %.2g against the reference", worstLP, worstH)
	if worstLP > 1e-4 || worstH > 1e-4 {
		t.Errorf("max |Δ log p| %g, |Δ entropy| %g; want ≤ 1e-4", worstLP, worstH)
	}
}

// TestGenerateReproducible: the same seed gives the same traces, sampled
// trace k depends only on its own seed (so it is the same decoded alone or
// beside others), and different seeds differ.
func TestGenerateReproducible(t *testing.T) {
	m := load(t, tinyModel(t, gguf.F32))
	prompt, _ := m.Tokenize(genPrompt, true)
	s := exactSession(t, m, 5)
	gen := func(cfg *llama.GenerateConfig) []llama.Trace {
		t.Helper()
		tr, err := s.Generate(t.Context(), prompt, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	ids := func(tr llama.Trace) []int32 {
		out := make([]int32, len(tr.Tokens))
		for i, tok := range tr.Tokens {
			out[i] = tok.ID
		}
		return out
	}
	a := gen(&llama.GenerateConfig{Samples: 4, MaxTokens: 16, Seed: 7, Temperature: 1.2})
	b := gen(&llama.GenerateConfig{Samples: 4, MaxTokens: 16, Seed: 7, Temperature: 1.2})
	for k := range a {
		if !reflect.DeepEqual(ids(a[k]), ids(b[k])) {
			t.Errorf("trace %d differs between two runs with the same seed", k)
		}
	}
	// Sampled trace 3 of seed 7 has seed 10; alone it is trace 1 of seed 9.
	alone := gen(&llama.GenerateConfig{Samples: 1, NoGreedy: true, MaxTokens: 16, Seed: 9, Temperature: 1.2})
	if alone[0].Seed != a[3].Seed || !reflect.DeepEqual(ids(alone[0]), ids(a[3])) {
		t.Errorf("trace with seed %d alone: %v; beside others (seed %d): %v", alone[0].Seed, ids(alone[0]), a[3].Seed, ids(a[3]))
	}
	distinct := map[string]bool{}
	for _, tr := range a[1:] {
		distinct[tr.Text] = true
	}
	if len(distinct) < 3 {
		t.Errorf("4 sampled traces at temperature 1.2 gave only %d distinct texts", len(distinct))
	}
}

func TestGenerateStops(t *testing.T) {
	m := load(t, tinyModel(t, gguf.F32))
	prompt, _ := m.Tokenize(genPrompt, true)
	s := exactSession(t, m, 3)
	// Find a character the greedy trace produces, then stop on it.
	free, err := s.Generate(t.Context(), prompt, &llama.GenerateConfig{MaxTokens: 12})
	if err != nil {
		t.Fatal(err)
	}
	if got := free[0]; got.Finish != llama.FinishLength && got.Finish != llama.FinishEOG {
		t.Fatalf("finish %q", got.Finish)
	}
	if free[0].Finish == llama.FinishLength && len(free[0].Tokens) != 12 {
		t.Errorf("length finish after %d tokens, budget 12", len(free[0].Tokens))
	}
	stop := free[0].Tokens[2].Text
	stopped, err := s.Generate(t.Context(), prompt, &llama.GenerateConfig{MaxTokens: 12, Stop: []string{"no such text", stop}})
	if err != nil {
		t.Fatal(err)
	}
	if g := stopped[0]; g.Finish != llama.FinishStop || g.Stop != stop || !strings.HasSuffix(g.Text, stop) || len(g.Tokens) > 3 {
		t.Errorf("stop %q: finish %q stop %q, %d tokens, text %q", stop, g.Finish, g.Stop, len(g.Tokens), g.Text)
	}
}

func TestGenerateErrors(t *testing.T) {
	m := load(t, tinyModel(t, gguf.F32))
	prompt, _ := m.Tokenize(genPrompt, true)
	s := exactSession(t, m, 2)
	tests := []struct {
		name   string
		prompt []int32
		cfg    *llama.GenerateConfig
		want   string
	}{
		{"too many traces", prompt, &llama.GenerateConfig{Samples: 2}, "sequences"},
		{"nothing asked", prompt, &llama.GenerateConfig{NoGreedy: true}, "no traces"},
		{"empty prompt", nil, nil, "no tokens"},
		{"bad token", []int32{1, 999}, nil, "vocabulary"},
		{"negative samples", prompt, &llama.GenerateConfig{Samples: -1}, "Samples"},
		{"top-p above 1", prompt, &llama.GenerateConfig{TopP: 1.5}, "TopP"},
		{"prompt fills context", make([]int32, s.ContextLen()), nil, "context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Generate(t.Context(), tt.prompt, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	// A cancelled context stops generation; the session stays usable.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Generate(ctx, prompt, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
	if _, err := s.Generate(t.Context(), prompt, &llama.GenerateConfig{MaxTokens: 4}); err != nil {
		t.Errorf("after cancellation: %v", err)
	}
	// A budget beyond the context ends traces with FinishContext.
	small, err := m.NewSession(&llama.SessionConfig{ContextLen: 256, Sequences: 2, KVCache: llama.KVCacheF32, FlashAttention: llama.FlashAttentionOff})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	tr, err := small.Generate(t.Context(), prompt, &llama.GenerateConfig{Samples: 1, MaxTokens: 1000, Temperature: 2, TopK: -1, TopP: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range tr {
		t.Logf("trace finished %q after %d tokens (context %d)", x.Finish, len(x.Tokens), small.ContextLen())
		if x.Finish != llama.FinishContext && x.Finish != llama.FinishEOG {
			t.Errorf("finish %q after %d tokens in a context of %d", x.Finish, len(x.Tokens), small.ContextLen())
		}
	}
	s.Close()
	if _, err := s.Generate(t.Context(), prompt, nil); !errors.Is(err, llama.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}
