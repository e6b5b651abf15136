package sampling

import (
	"context"
	"fmt"
)

// Generator samples traces for a prompt: the greedy trace r0 first (unless
// Params.NoGreedy) and Params.Samples sampled ones, each token with its raw
// log-probability and entropy. The llama package's Generator is one.
type Generator interface {
	Generate(ctx context.Context, prompt Prompt, p *Params) ([]Trace, error)
}

// Scorer returns the log-probability and entropy of every token of each
// continuation after prompt, under teacher forcing: how traces from any
// teacher get token log-probabilities.
type Scorer interface {
	Score(ctx context.Context, prompt Prompt, continuations []string) ([][]Token, error)
}

// Params configures a Generator. A nil *Params means the zero value; each
// field documents its zero value. The zero sampling settings are Qwen3's
// recommended ones for thinking mode.
type Params struct {
	// Samples is K, the number of sampled traces beside the greedy one.
	Samples int
	// NoGreedy leaves out the greedy trace r0.
	NoGreedy bool
	// MaxTokens is the token budget of each trace; 0 means 1024.
	MaxTokens int
	// Temperature of the sampled traces; 0 means 0.6. (The greedy trace is
	// the temperature-zero one.)
	Temperature float64
	// TopK keeps the K most likely tokens; 0 means 20, negative disables.
	TopK int
	// TopP keeps the smallest set of tokens whose probability reaches P;
	// 0 means 0.95, 1 disables.
	TopP float64
	// MinP drops tokens less likely than MinP times the most likely one;
	// 0 disables.
	MinP float64
	// Seed: sampled trace k (1 ≤ k ≤ Samples) draws with seed uint32(Seed)+k,
	// so the same Seed gives the same traces and traces differ from each other.
	Seed uint64
	// Stop ends a trace when its text contains one of these strings (the
	// string stays in the text and the trace records which one matched).
	Stop []string
}

// WithDefaults returns a copy of p with zero fields replaced by their
// documented defaults.
func (c *Params) WithDefaults() Params {
	d := *c
	if d.MaxTokens == 0 {
		d.MaxTokens = 1024
	}
	if d.Temperature == 0 {
		d.Temperature = 0.6
	}
	if d.TopK == 0 {
		d.TopK = 20
	}
	if d.TopP == 0 {
		d.TopP = 0.95
	}
	return d
}

// Validate reports the first field of p outside its range.
func (c *Params) Validate() error {
	switch {
	case c.Samples < 0:
		return fmt.Errorf("sampling: Samples %d < 0", c.Samples)
	case c.MaxTokens < 0:
		return fmt.Errorf("sampling: MaxTokens %d < 0", c.MaxTokens)
	case c.Temperature < 0:
		return fmt.Errorf("sampling: Temperature %g < 0", c.Temperature)
	case c.TopP < 0 || c.TopP > 1:
		return fmt.Errorf("sampling: TopP %g outside [0, 1]", c.TopP)
	case c.MinP < 0 || c.MinP > 1:
		return fmt.Errorf("sampling: MinP %g outside [0, 1]", c.MinP)
	}
	return nil
}

// FinishReason says why a trace ended.
type FinishReason string

// Finish reasons.
const (
	FinishEOG     FinishReason = "eog"     // an end-of-generation token (included in Tokens, not in Text)
	FinishStop    FinishReason = "stop"    // a stop string (included in Text)
	FinishLength  FinishReason = "length"  // the MaxTokens budget
	FinishContext FinishReason = "context" // the session's context filled up
	// FinishFiltered: the backend withheld the rest (a remote API's safety
	// or recitation filter).
	FinishFiltered FinishReason = "filtered"
	// FinishOther: the backend ended the trace for a reason of its own.
	FinishOther FinishReason = "other"
)

// Token is one generated or scored token.
type Token struct {
	ID   int32
	Text string // the token's bytes; special tokens rendered
	// LogProb is log p(token | everything before it), natural log, under the
	// raw distribution (log-softmax of the raw logits, full vocabulary).
	LogProb float64
	// Entropy is −Σ_v p_v log p_v of that full distribution, in nats.
	Entropy float64
}

// Trace is one generated continuation.
type Trace struct {
	Greedy bool
	Seed   uint32 // the draw's seed; 0 for the greedy trace
	Tokens []Token
	Text   string // the pieces of Tokens, without an end-of-generation token
	Finish FinishReason
	Stop   string // the stop string that ended the trace, if any
	// LogProbKind says what the tokens' numbers are when a backend differs
	// from trace to trace (a remote API that returned log-probabilities for
	// some traces only); "" means what the run says (RunConfig.LogProbs).
	LogProbKind LogProbKind
}
