//go:build cgo

package llama_test

import (
	"math"
	"reflect"
	"testing"

	"github.com/labelfree/labelfree/internal/gguf"
	"github.com/labelfree/labelfree/llama"
	"github.com/labelfree/labelfree/sampling"
)

// TestGeneratorAdapter checks that the sampling.Generator and
// sampling.Scorer methods on text give what the Session methods give on the
// tokens of that text. (A random model's output is mostly invalid UTF-8,
// which does not survive a round trip through text, so the comparison
// starts from tokens.)
func TestGeneratorAdapter(t *testing.T) {
	m := load(t, tinyModel(t, gguf.F32))
	s := exactSession(t, m, 3)
	var g interface {
		sampling.Generator
		sampling.Scorer
	} = llama.NewGenerator(s)
	params := &sampling.Params{Samples: 2, MaxTokens: 12, Seed: 5}
	viaText, err := g.Generate(t.Context(), sampling.Prompt{Text: genPrompt}, params)
	if err != nil {
		t.Fatal(err)
	}
	prompt, _ := m.Tokenize(genPrompt, true)
	viaTokens, err := s.Generate(t.Context(), prompt, params)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(viaText, viaTokens) {
		t.Errorf("Generator.Generate differs from Session.Generate")
	}
	conts := []string{"<think>\nSTAT1 activates IRF1.\n</think>", "<answer>down</answer>"}
	// Score packs both continuations into one decode; Session.Score below
	// takes them one at a time: float32 sums in another order differ ~1e-6.
	scored, err := g.Score(t.Context(), sampling.Prompt{Text: genPrompt}, conts)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range conts {
		toks, _ := m.Tokenize(c, true)
		want, err := s.Score(t.Context(), []llama.ScoreRequest{{Prompt: prompt, Continuation: toks}})
		if err != nil {
			t.Fatal(err)
		}
		if len(scored[i]) != len(want[0]) {
			t.Fatalf("continuation %d: %d tokens, want %d", i, len(scored[i]), len(want[0]))
		}
		for j := range want[0] {
			if d := math.Abs(scored[i][j].LogProb - want[0][j].LogProb); scored[i][j].ID != want[0][j].ID || d > 1e-5 {
				t.Errorf("continuation %d token %d: %+v, want %+v", i, j, scored[i][j], want[0][j])
			}
		}
	}
}

// TestGeneratorChatPrompt checks that a chat prompt is the model's chat
// template applied to the messages, thinking on and off.
func TestGeneratorChatPrompt(t *testing.T) {
	m := load(t, tinyModel(t, gguf.F32))
	s := exactSession(t, m, 2)
	g := llama.NewGenerator(s)
	params := &sampling.Params{Samples: 1, MaxTokens: 6, Seed: 3}
	for _, noThinking := range []bool{false, true} {
		prompt := sampling.Chat("Be brief.", "Does STAT1 knockdown change IRF1?")
		prompt.NoThinking = noThinking
		text, err := m.ChatTemplate(prompt.Messages, &llama.ChatOptions{NoThinking: noThinking})
		if err != nil {
			t.Fatal(err)
		}
		got, err := g.Generate(t.Context(), prompt, params)
		if err != nil {
			t.Fatal(err)
		}
		want, err := g.Generate(t.Context(), sampling.Prompt{Text: text}, params)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("NoThinking=%v: chat prompt generates differently from its templated text", noThinking)
		}
	}
}
