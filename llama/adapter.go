package llama

import (
	"context"
	"fmt"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/uncertainty"
)

// Generator adapts a Session to sampling.Generator and sampling.Scorer:
// chat prompts are formatted with the model's chat template
// (Model.ChatTemplate), and prompts and continuations are tokenized with
// the session's model (special tokens such as <|im_start|> parsed). It is not safe for
// concurrent use, as its Session is not.
type Generator struct {
	s *Session
}

var (
	_ sampling.Generator   = (*Generator)(nil)
	_ sampling.Scorer      = (*Generator)(nil)
	_ uncertainty.Embedder = (*Session)(nil)
)

// NewGenerator returns a Generator that runs on s.
func NewGenerator(s *Session) *Generator { return &Generator{s: s} }

// Generate tokenizes prompt and calls Session.Generate.
func (g *Generator) Generate(ctx context.Context, prompt sampling.Prompt, p *sampling.Params) ([]sampling.Trace, error) {
	toks, err := g.tokenize(prompt)
	if err != nil {
		return nil, err
	}
	return g.s.Generate(ctx, toks, p)
}

// tokenize returns the tokens of prompt, formatted first if it is a chat.
func (g *Generator) tokenize(prompt sampling.Prompt) ([]int32, error) {
	text := prompt.Text
	if len(prompt.Messages) > 0 {
		var err error
		text, err = g.s.model.ChatTemplate(prompt.Messages, &ChatOptions{NoThinking: prompt.NoThinking})
		if err != nil {
			return nil, err
		}
	}
	return g.s.model.Tokenize(text, true)
}

// Score tokenizes prompt and each continuation and calls Session.Score.
// Continuations are tokenized on their own, as a model would have produced
// them after the prompt.
func (g *Generator) Score(ctx context.Context, prompt sampling.Prompt, continuations []string) ([][]sampling.Token, error) {
	p, err := g.tokenize(prompt)
	if err != nil {
		return nil, err
	}
	reqs := make([]ScoreRequest, len(continuations))
	for i, c := range continuations {
		toks, err := g.s.model.Tokenize(c, true)
		if err != nil {
			return nil, fmt.Errorf("llama: score: continuation %d: %w", i, err)
		}
		reqs[i] = ScoreRequest{Prompt: p, Continuation: toks}
	}
	return g.s.Score(ctx, reqs)
}
