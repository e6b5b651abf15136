package gemini

import (
	"errors"
	"fmt"
	"slices"

	"google.golang.org/genai"

	"github.com/labelfree/labelfree/sampling"
)

// turn is one message of the conversation sent: role "user" or "model".
type turn struct {
	role, text string
}

// request is a prompt as the API takes it.
type request struct {
	system     []string // systemInstruction parts
	turns      []turn
	noThinking bool
}

// newRequest maps a prompt: a chat prompt's leading system messages become
// the systemInstruction, user messages role "user" and assistant messages
// role "model"; a raw prompt is one user message, as the API has no raw
// completion.
func newRequest(p sampling.Prompt) (*request, error) {
	r := &request{noThinking: p.NoThinking}
	if len(p.Messages) == 0 {
		if p.Text == "" {
			return nil, errors.New("gemini: empty prompt")
		}
		r.turns = []turn{{role: genai.RoleUser, text: p.Text}}
		return r, nil
	}
	for i, m := range p.Messages {
		switch m.Role {
		case "system":
			if len(r.turns) > 0 {
				return nil, fmt.Errorf("gemini: message %d: a system message after the conversation began (the API takes one system instruction, before it)", i)
			}
			r.system = append(r.system, m.Content)
		case "user":
			r.turns = append(r.turns, turn{role: genai.RoleUser, text: m.Content})
		case "assistant":
			r.turns = append(r.turns, turn{role: genai.RoleModel, text: m.Content})
		default:
			return nil, fmt.Errorf("gemini: message %d: unknown role %q", i, m.Role)
		}
	}
	if len(r.turns) == 0 {
		return nil, errors.New("gemini: a chat prompt with no user message")
	}
	return r, nil
}

// contents returns the conversation as the SDK takes it, new each time:
// the SDK fills in defaults in what it is given, and requests run
// concurrently.
func (r *request) contents() []*genai.Content {
	cs := make([]*genai.Content, len(r.turns))
	for i, t := range r.turns {
		cs[i] = &genai.Content{Role: t.role, Parts: []*genai.Part{{Text: t.text}}}
	}
	return cs
}

// job is one request: n traces, the first of which is trace first of the
// result and has k (0 for the greedy trace, k ≥ 1 for sampled trace k).
type job struct {
	first, n, k int
}

// seed returns the seed a job's request carries: uint32(Seed)+k, so the
// greedy request is seeded too (at temperature 0 the API is only mostly
// deterministic) and sampled trace k draws with the seed sampling.Params
// documents. The API's seed is an int32; the same 32 bits are sent.
func (j job) seed(d *sampling.Params) uint32 {
	return uint32(d.Seed) + uint32(j.k)
}

// config returns the generation settings of j's request; lp asks for
// log-probabilities.
func (b *Backend) config(r *request, d *sampling.Params, j job, lp bool) *genai.GenerateContentConfig {
	cont := false
	c := &genai.GenerateContentConfig{
		CandidateCount:  int32(j.n),
		MaxOutputTokens: int32(d.MaxTokens),
		StopSequences:   slices.Clone(d.Stop),
		Seed:            genai.Ptr(int32(j.seed(d))),
		// A response cut at the API's per-request limit is a trace of
		// FinishLength, not a request to send again: the SDK's merge of
		// continued responses is not known to keep logprobsResult whole.
		AutomaticContinuation: &cont,
	}
	if len(r.system) > 0 {
		s := &genai.Content{Role: genai.RoleUser}
		for _, text := range r.system {
			s.Parts = append(s.Parts, &genai.Part{Text: text})
		}
		c.SystemInstruction = s
	}
	if j.k == 0 {
		c.Temperature = genai.Ptr[float32](0)
	} else {
		c.Temperature = genai.Ptr(float32(d.Temperature))
		c.TopP = genai.Ptr(float32(d.TopP))
		if d.TopK > 0 {
			c.TopK = genai.Ptr(float32(d.TopK))
		}
	}
	if lp {
		c.ResponseLogprobs = true
		if b.s.logprobs > 0 {
			c.Logprobs = genai.Ptr(int32(b.s.logprobs))
		}
	}
	var tc genai.ThinkingConfig
	switch {
	case r.noThinking:
		tc.ThinkingBudget = genai.Ptr[int32](0)
	case b.s.budget > 0:
		tc.ThinkingBudget = genai.Ptr(int32(b.s.budget))
	}
	tc.IncludeThoughts = b.s.thoughts
	if tc.ThinkingBudget != nil || tc.IncludeThoughts {
		c.ThinkingConfig = &tc
	}
	return c
}
