package web

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/labelfree/labelfree/annotate"
	"github.com/labelfree/labelfree/sampling"
)

// Item is one trace as the page shows it: the greedy trace r0 of a drawn
// group, whose uncertainty stays hidden until the annotator has rated it.
type Item struct {
	// ID is the group's id.
	ID string
	// System and Question are the prompt: the system message ("" if
	// none) and the user message(s), or a raw prompt's text.
	System   string
	Question string
	// Reasoning is r0's text inside its <think> block, trimmed; Answer the
	// text after "</think>", trimmed. A trace without "</think>" has all
	// its text in Answer and Unclosed set.
	Reasoning string
	Answer    string
	Unclosed  bool
	// Class is r0's parsed answer class ("" if unparsable).
	Class string
	// Estimator, U and Quantile are the uncertainty the sample was drawn
	// by: revealed, with the spans, only after the item is rated.
	Estimator string
	U         float64
	Quantile  int
	// Spans are r0's text cut into pieces of whole characters with each
	// piece's token-level confidence, for the shading; nil when it cannot
	// be shown, NoShading then says why.
	Spans     []Span
	NoShading string
}

// Span is one piece of a trace's text: one token, or a few tokens whose
// bytes form whole UTF-8 characters only together.
type Span struct {
	Text string `json:"text"`
	// P is the probability the model gave the span's tokens, the exp of
	// the sum of their log-probabilities; nil when the trace has none.
	P *float64 `json:"p,omitempty"`
	// H is the largest entropy in nats of the span's tokens' next-token
	// distributions; nil when the trace has none.
	H *float64 `json:"h,omitempty"`
}

// TokenTexter gives a token's text, as llama.Model's TokenText does
// (special tokens rendered, the bytes of a character possibly split across
// tokens).
type TokenTexter interface {
	TokenText(token int32) (string, error)
}

// NewItem returns the Item of g's greedy trace; c is the group as drawn
// (Quantile is its uncertainty quantile, see annotate.Stratify). With tt
// nil, or a trace without token ids or log-probabilities, the item has no
// spans and NoShading says why. It returns an error if g has no greedy
// trace or no prompt, or if tt fails on a token.
func NewItem(g *sampling.Group, c annotate.Candidate, estimator string, quantile int, tt TokenTexter) (Item, error) {
	r0 := slices.IndexFunc(g.Traces, func(t sampling.TraceRecord) bool { return t.Greedy })
	if r0 < 0 {
		return Item{}, fmt.Errorf("web: group %q has no greedy trace", g.Item.ID)
	}
	t := &g.Traces[r0]
	it := Item{ID: g.Item.ID, Class: t.Answer.Class, Estimator: estimator, U: c.U, Quantile: quantile}
	var users []string
	for _, m := range g.Prompt.Messages {
		switch m.Role {
		case "system":
			it.System = m.Content
		default:
			users = append(users, m.Content)
		}
	}
	it.Question = strings.Join(users, "\n\n")
	if len(g.Prompt.Messages) == 0 {
		it.Question = g.Prompt.Text
	}
	if strings.TrimSpace(it.Question) == "" {
		return Item{}, fmt.Errorf("web: group %q has an empty prompt", g.Item.ID)
	}
	it.Reasoning, it.Answer, it.Unclosed = split(t.Text)
	spans, why, err := Spans(t, tt)
	if err != nil {
		return Item{}, fmt.Errorf("web: group %q: %w", g.Item.ID, err)
	}
	it.Spans, it.NoShading = spans, why
	return it, nil
}

// split cuts a trace's text at its last "</think>".
func split(text string) (reasoning, answer string, unclosed bool) {
	i := strings.LastIndex(text, "</think>")
	if i < 0 {
		return "", strings.TrimSpace(text), true
	}
	reasoning = strings.TrimSpace(text[:i])
	reasoning = strings.TrimSpace(strings.TrimPrefix(reasoning, "<think>"))
	return reasoning, strings.TrimSpace(text[i+len("</think>"):]), false
}

// errMismatch: the token texts do not make up the trace's text.
var errMismatch = errors.New("the token texts do not make up the trace text")

// Spans cuts t's text into spans of whole characters with their tokens'
// confidence. A token whose bytes end inside a character is joined with
// the next ones until the bytes are whole characters again; the span's P
// is then the product of the tokens' probabilities and H the largest of
// their entropies. It returns no spans and the reason, with a nil error,
// when tt is nil, when t has no token ids or no log-probabilities, or when
// the tokens' texts do not join up to t.Text (the trace came from another
// tokenizer); an error only when tt fails.
func Spans(t *sampling.TraceRecord, tt TokenTexter) (spans []Span, why string, err error) {
	switch {
	case tt == nil:
		return nil, "no tokenizer: start the server with the model to see token confidence", nil
	case len(t.TokenIDs) == 0:
		return nil, "the trace file has no token ids for this trace", nil
	case t.LogProbs == nil:
		return nil, "the backend returned no log-probabilities for this trace", nil
	}
	var text strings.Builder
	var buf []byte
	lp, h := 0.0, math.Inf(-1)
	for i, id := range t.TokenIDs {
		piece, err := tt.TokenText(id)
		if err != nil {
			return nil, "", fmt.Errorf("token %d: %w", i, err)
		}
		buf = append(buf, piece...)
		lp += t.LogProbs[i]
		if t.Entropies != nil {
			h = max(h, t.Entropies[i])
		}
		if !utf8.Valid(buf) && i < len(t.TokenIDs)-1 {
			continue
		}
		s := Span{Text: string(buf)}
		p := math.Exp(lp)
		s.P = &p
		if t.Entropies != nil {
			hh := h
			s.H = &hh
		}
		spans = append(spans, s)
		text.Write(buf)
		buf, lp, h = buf[:0], 0, math.Inf(-1)
	}
	if text.String() != t.Text {
		return nil, errMismatch.Error() + " (was it sampled with another model?)", nil
	}
	return spans, "", nil
}
