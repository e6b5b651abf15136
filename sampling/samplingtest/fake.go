// Package samplingtest provides a test double for the sampling package: a
// deterministic fake model that implements sampling.Generator and
// sampling.Scorer without loading anything, a Task that reads its answers,
// and items to feed it. It is for tests of code that consumes traces
// (runners, filters, uncertainty scores), not a model of any real one.
package samplingtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labelfree/labelfree/sampling"
)

// Fake is a fake reasoning model. Its traces read
//
//	<think> word word … word</think>
//	<answer>CLASS</answer>
//
// followed by an end-of-generation token, and everything in them is a
// function of the prompt, the Params and the draw's seed alone:
//
//   - the greedy trace's class is fixed by the prompt; a sampled trace
//     agrees with it with a probability that is also fixed by the prompt
//     (between 0.3 and 0.95), so items differ in self-consistency;
//   - sampled trace k (1 ≤ k ≤ Samples) draws with seed uint32(Seed)+k, as
//     the llama backend does; Temperature, TopK, TopP and MinP change
//     nothing;
//   - token t's log-probability (in [−4, 0]) and entropy (in [0, 7.5]) are
//     functions of the prompt and the text up to and including the token,
//     so Score of a trace's text gives the trace's own numbers back;
//   - MaxTokens and Stop end traces as sampling.Params documents.
//
// Token texts concatenate to the trace's Text, except that of the final
// end-of-generation token ("<|im_end|>", id 2), which, as with a real
// model, is in Tokens and not in Text.
//
// A Fake is safe for concurrent use; its fields must not change while it is
// in use. The zero Fake is ready to use.
type Fake struct {
	// Classes are the answers it gives; nil means up, down and none.
	Classes []string
	// Words is the number of words in each <think> block; 0 draws between
	// 16 and 48 per trace.
	Words int
	// Unparsable is the probability, in [0, 1], that a trace ends without
	// an <answer>, drawn per trace.
	Unparsable float64
	// Delay is how long each Generate and Score call waits before it
	// works, returning ctx's error if ctx ends first.
	Delay time.Duration
	// Fail, if not nil, is called by each Generate call with its prompt; a
	// non-nil error is returned as the call's error.
	Fail func(sampling.Prompt) error

	calls atomic.Int64
}

var (
	_ sampling.Generator = (*Fake)(nil)
	_ sampling.Scorer    = (*Fake)(nil)
)

// defaultClasses are the classes of a Fake with nil Classes.
var defaultClasses = []string{"up", "down", "none"}

func (f *Fake) classes() []string {
	if len(f.Classes) == 0 {
		return defaultClasses
	}
	return f.Classes
}

// Calls returns the number of Generate calls so far, failed ones included.
func (f *Fake) Calls() int64 { return f.calls.Load() }

// wait sleeps for f.Delay or until ctx ends.
func (f *Fake) wait(ctx context.Context) error {
	if f.Delay <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(f.Delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Generate returns the greedy trace (unless p.NoGreedy) and p.Samples
// sampled ones for prompt, as described at Fake.
func (f *Fake) Generate(ctx context.Context, prompt sampling.Prompt, p *sampling.Params) ([]sampling.Trace, error) {
	f.calls.Add(1)
	if p == nil {
		p = &sampling.Params{}
	}
	c := p.WithDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	if f.Fail != nil {
		if err := f.Fail(prompt); err != nil {
			return nil, err
		}
	}
	ph, err := promptHash(prompt)
	if err != nil {
		return nil, err
	}
	var traces []sampling.Trace
	if !c.NoGreedy {
		traces = append(traces, f.trace(ph, &c, true, 0))
	}
	for k := 1; k <= c.Samples; k++ {
		traces = append(traces, f.trace(ph, &c, false, uint32(c.Seed)+uint32(k)))
	}
	return traces, nil
}

// Score returns the tokens of each continuation after prompt, with the
// numbers Generate gives the same text after the same prompt (no
// end-of-generation token is added).
func (f *Fake) Score(ctx context.Context, prompt sampling.Prompt, continuations []string) ([][]sampling.Token, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	ph, err := promptHash(prompt)
	if err != nil {
		return nil, err
	}
	out := make([][]sampling.Token, len(continuations))
	for i, c := range continuations {
		out[i] = tokens(ph, split(c))
	}
	return out, nil
}

// promptHash is FNV-1a 64 of the prompt's JSON encoding.
func promptHash(p sampling.Prompt) (uint64, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return 0, fmt.Errorf("samplingtest: %w", err)
	}
	return fnv(fnvOffset, string(b)), nil
}

// vocabulary is what the fake model thinks in.
var vocabulary = strings.Fields(`gene knockdown expression pathway
transcription factor binds promoter represses activates signalling cascade
cell line perturbation downstream upstream interferon response stress
ribosome splicing chromatin enhancer kinase phosphorylates receptor
therefore likely unlikely because however thus suggests evidence
regulates target complex protein mRNA levels increase decrease unchanged`)

// trace returns one trace for the prompt with hash ph.
func (f *Fake) trace(ph uint64, c *sampling.Params, greedy bool, seed uint32) sampling.Trace {
	classes := f.classes()
	first := classes[ph%uint64(len(classes))]
	agree := 0.3 + 0.65*float64(ph>>11)/(1<<53)
	stream := uint64(seed)
	if greedy {
		stream = 1 << 32 // no uint32 seed collides with the greedy draw
	}
	rng := rand.New(rand.NewPCG(ph, stream))
	class := first
	if !greedy && len(classes) > 1 && rng.Float64() >= agree {
		// One of the other classes, uniformly.
		j := rng.IntN(len(classes) - 1)
		if classes[j] == first {
			j = len(classes) - 1
		}
		class = classes[j]
	}
	words := f.Words
	if words <= 0 {
		words = 16 + rng.IntN(33)
	}
	var b strings.Builder
	b.WriteString("<think>")
	for range words {
		b.WriteByte(' ')
		b.WriteString(vocabulary[rng.IntN(len(vocabulary))])
	}
	b.WriteString("</think>\n")
	if rng.Float64() < f.Unparsable {
		b.WriteString("I cannot tell.")
	} else {
		b.WriteString("<answer>" + class + "</answer>")
	}
	// The text's tokens, then the end-of-generation token.
	toks := tokens(ph, append(split(b.String()), eogText))
	end := toks[len(toks)-1]
	end.ID = eogID
	toks = toks[:len(toks)-1]
	tr := sampling.Trace{Greedy: greedy, Seed: seed, Finish: sampling.FinishEOG}
	var text strings.Builder
	for i, tok := range toks {
		if i == c.MaxTokens {
			tr.Finish = sampling.FinishLength
			break
		}
		text.WriteString(tok.Text)
		tr.Tokens = append(tr.Tokens, tok)
		if stop, ok := stopIn(text.String(), len(tok.Text), c.Stop); ok {
			tr.Finish, tr.Stop = sampling.FinishStop, stop
			break
		}
	}
	tr.Text = text.String()
	if tr.Finish == sampling.FinishEOG {
		if len(tr.Tokens) == c.MaxTokens {
			tr.Finish = sampling.FinishLength
		} else {
			tr.Tokens = append(tr.Tokens, end)
		}
	}
	return tr
}

// stopIn reports the first stop string that ends in the last n bytes of
// text (it may begin before them).
func stopIn(text string, n int, stops []string) (string, bool) {
	for _, s := range stops {
		if s == "" {
			continue
		}
		from := max(0, len(text)-n-len(s)+1)
		if strings.Contains(text[from:], s) {
			return s, true
		}
	}
	return "", false
}
