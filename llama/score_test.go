//go:build cgo

package llama_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/internal/gguf"
	"github.com/labelfree/labelfree/internal/reference"
	"github.com/labelfree/labelfree/llama"
)

// TestScoreMatchesGenerateAndReference scores the traces Generate produced
// (teacher forcing) and checks that each token's log-probability and entropy
// agree with what Generate reported and with the reference forward pass, to
// 1e-4, whether the texts are scored one at a time or packed four to a
// decode in batches of 7 tokens.
func TestScoreMatchesGenerateAndReference(t *testing.T) {
	path := tinyModel(t, gguf.F32)
	ref, err := reference.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m := load(t, path)
	prompt, _ := m.Tokenize(genPrompt, true)
	traces, err := exactSession(t, m, 4).Generate(t.Context(), prompt, &llama.GenerateConfig{Samples: 3, MaxTokens: 20, Seed: 3, Temperature: 1})
	if err != nil {
		t.Fatal(err)
	}
	reqs := make([]llama.ScoreRequest, len(traces))
	for i, tr := range traces {
		for _, tok := range tr.Tokens {
			reqs[i].Continuation = append(reqs[i].Continuation, tok.ID)
		}
		reqs[i].Prompt = prompt
	}
	packedCfg := &llama.SessionConfig{ContextLen: 512, BatchSize: 7, Sequences: 4, KVCache: llama.KVCacheF32, FlashAttention: llama.FlashAttentionOff}
	packed, err := m.NewSession(packedCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer packed.Close()
	single := exactSession(t, m, 1)
	for name, score := range map[string]func() ([][]llama.Token, error){
		"packed": func() ([][]llama.Token, error) { return packed.Score(t.Context(), reqs) },
		"one at a time": func() ([][]llama.Token, error) {
			var all [][]llama.Token
			for _, r := range reqs {
				got, err := single.Score(t.Context(), []llama.ScoreRequest{r})
				if err != nil {
					return nil, err
				}
				all = append(all, got[0])
			}
			return all, nil
		},
	} {
		t.Run(name, func(t *testing.T) {
			scored, err := score()
			if err != nil {
				t.Fatal(err)
			}
			var vsGen, vsRef float64
			for i, tr := range traces {
				if len(scored[i]) != len(tr.Tokens) {
					t.Fatalf("trace %d: %d scored tokens, %d generated", i, len(scored[i]), len(tr.Tokens))
				}
				ids := make([]int, 0, len(prompt)+len(tr.Tokens))
				for _, p := range prompt {
					ids = append(ids, int(p))
				}
				for _, tok := range tr.Tokens {
					ids = append(ids, int(tok.ID))
				}
				want, _ := ref.LogProbs(ids)
				for j, tok := range scored[i] {
					g := tr.Tokens[j]
					if tok.ID != g.ID || tok.Text != g.Text {
						t.Fatalf("trace %d token %d: scored %d %q, generated %d %q", i, j, tok.ID, tok.Text, g.ID, g.Text)
					}
					vsGen = max(vsGen, math.Abs(tok.LogProb-g.LogProb), math.Abs(tok.Entropy-g.Entropy))
					row := want[len(prompt)-1+j]
					vsRef = max(vsRef, math.Abs(tok.LogProb-row[tok.ID]), math.Abs(tok.Entropy-reference.Entropy(row)))
				}
			}
			t.Logf("max |Δ| scoring vs generation %.2g, vs reference %.2g", vsGen, vsRef)
			if vsGen > 1e-4 || vsRef > 1e-4 {
				t.Errorf("scoring differs from generation by %g and from the reference by %g; want ≤ 1e-4", vsGen, vsRef)
			}
		})
	}
}

func TestScoreErrors(t *testing.T) {
	m := load(t, tinyModel(t, gguf.F32))
	s := exactSession(t, m, 2)
	tests := []struct {
		name string
		reqs []llama.ScoreRequest
		want string
	}{
		{"empty continuation", []llama.ScoreRequest{{Prompt: []int32{1}}}, "request 0"},
		{"empty prompt", []llama.ScoreRequest{{Prompt: []int32{1}, Continuation: []int32{2}}, {Continuation: []int32{2}}}, "request 1"},
		{"bad token", []llama.ScoreRequest{{Prompt: []int32{1}, Continuation: []int32{5000}}}, "vocabulary"},
		{"too long", []llama.ScoreRequest{{Prompt: make([]int32, s.ContextLen()), Continuation: []int32{1}}}, "context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Score(t.Context(), tt.reqs); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	if got, err := s.Score(t.Context(), nil); err != nil || len(got) != 0 {
		t.Errorf("no requests: %v, %v", got, err)
	}
	s.Close()
	if _, err := s.Score(t.Context(), []llama.ScoreRequest{{Prompt: []int32{1}, Continuation: []int32{2}}}); !errors.Is(err, llama.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}
