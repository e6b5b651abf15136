package uncertainty

import (
	"fmt"
)

// Trace is what the estimators read of one generated trace. Only the fields
// an estimator needs must be set: log-probabilities (or a Summary) for the
// information-based ones, answers for the consistency-based ones, tokens or
// text for the lexical similarities, an embedding for EmbeddingCosine.
//
// A sampling.Trace converts field by field: LogProbs[t] = Tokens[t].LogProb,
// Entropies[t] = Tokens[t].Entropy, Tokens[t] = Tokens[t].Text,
// IDs[t] = Tokens[t].ID, and Answer, OK from the task's parsed answer
// (Answer.Class, Answer.OK). A sampling.TraceRecord, as a trace file holds
// it, has no token texts: LogProbs, Entropies, IDs = TokenIDs, Text and
// Answer.Class, Answer.OK; split its parts with SplitReasoningIDs.
type Trace struct {
	// LogProbs holds lp_t for every generated token, natural log, under
	// the raw distribution.
	LogProbs []float64
	// Entropies holds H_t for every generated token in nats, or is empty
	// when the backend gives none.
	Entropies []float64
	// Summary, when its N is not zero, stands for LogProbs and Entropies:
	// it must already cover the Config.Part asked for, as nothing is left
	// to split. It lets a caller read each trace once.
	Summary Summary
	// Tokens are the token texts, in order; they locate the reasoning
	// markers and serve the lexical similarities.
	Tokens []string
	// IDs are the token ids; when both traces have them the lexical
	// similarities compare ids instead of texts, and EmbedGroup embeds
	// them.
	IDs []int32
	// Text is the trace's text: for EmbedGroupTexts, and the lexical
	// similarities' last resort (Words).
	Text string
	// Answer is the parsed answer's class or normalised text; OK reports
	// whether an answer was parsed at all. An answer with OK false
	// matches nothing.
	Answer string
	OK     bool
	// Embedding is the trace's embedding for EmbeddingCosine.
	Embedding []float32
}

// Group is one prompt's traces: the greedy trace r0 and K sampled traces.
type Group struct {
	// ID identifies the group for the caller; the estimators ignore it.
	ID      string
	Greedy  Trace   // r0
	Samples []Trace // r1..rK
}

// Config sets what the estimators of New read. A nil *Config means the
// zero Config; each field documents its zero value.
type Config struct {
	// Part is the span of each trace that the information-based
	// estimators, CoCoA's u and the weights of semantic-entropy-weighted
	// read; the zero value is Whole. Reasoning and Answer need Split, or
	// Trace.Tokens for the default Split, or a Summary of that part.
	Part Part
	// Split finds the reasoning and answer spans of a trace for Part; nil
	// means SplitReasoning(t.Tokens, Open, Close). With token ids only,
	// use SplitReasoningIDs with the markers' ids.
	Split func(t *Trace) (reasoning, answer Span, closed bool)
	// Open and Close are the reasoning markers of the default Split; ""
	// means ThinkOpen and ThinkClose.
	Open, Close string
	// Normalize maps answers to canonical form before the answer-based
	// estimators (self-consistency, semantic entropy, NumSemSets) and the
	// default similarity compare them; nil compares answers as they are.
	Normalize func(string) string
	// Similarity is the pairwise similarity of CoCoA, DegMat, Eccentricity
	// and EigValLaplacian; nil means AnswerMatch{Normalize: Normalize}.
	Similarity Similarity
	// WithGreedy adds r0 to the set the set-based estimators (semantic
	// entropy, NumSemSets, DegMat, Eccentricity, EigValLaplacian, lexical
	// similarity) read; false reads the K samples only, as LM-Polygraph.
	WithGreedy bool
	// EccentricityThreshold keeps the Laplacian eigenvectors whose
	// eigenvalue is below it; 0 means 0.9, LM-Polygraph's default.
	EccentricityThreshold float64
}

// withDefaults returns a copy of c (nil allowed) with defaults filled in,
// or an error for a field out of range.
func (c *Config) withDefaults() (Config, error) {
	var d Config
	if c != nil {
		d = *c
	}
	if d.Part < Whole || d.Part > Answer {
		return d, fmt.Errorf("%w: Config.Part %d", ErrInvalid, int(d.Part))
	}
	if d.Similarity == nil {
		d.Similarity = AnswerMatch{Normalize: d.Normalize}
	}
	if d.EccentricityThreshold == 0 {
		d.EccentricityThreshold = 0.9
	}
	if !finite(d.EccentricityThreshold) || d.EccentricityThreshold < 0 {
		return d, fmt.Errorf("%w: Config.EccentricityThreshold %v", ErrInvalid, d.EccentricityThreshold)
	}
	return d, nil
}

// summary returns the Summary of t's configured part.
func (c *Config) summary(t *Trace) (Summary, error) {
	if t.Summary.N != 0 {
		return t.Summary, nil
	}
	lp, h := t.LogProbs, t.Entropies
	if len(h) == 0 {
		h = nil
	}
	if c.Part != Whole {
		var reasoning, answer Span
		if c.Split != nil {
			reasoning, answer, _ = c.Split(t)
		} else {
			if len(t.Tokens) != len(lp) {
				return Summary{}, fmt.Errorf("%w: %s part needs token texts (%d for %d log-probabilities) or Config.Split",
					ErrMissing, c.Part, len(t.Tokens), len(lp))
			}
			reasoning, answer, _ = SplitReasoning(t.Tokens, c.Open, c.Close)
		}
		if reasoning.Start < 0 || reasoning.End < reasoning.Start || answer.Start < reasoning.End || answer.End > len(lp) || answer.End < answer.Start {
			return Summary{}, fmt.Errorf("%w: spans %v and %v of a %d-token trace", ErrInvalid, reasoning, answer, len(lp))
		}
		sp := reasoning
		if c.Part == Answer {
			sp = answer
		}
		if sp.Len() == 0 {
			return Summary{}, fmt.Errorf("%w: %s part has no tokens", ErrEmpty, c.Part)
		}
		lp = lp[sp.Start:sp.End]
		if h != nil {
			if len(h) != len(t.LogProbs) {
				return Summary{}, fmt.Errorf("%w: %d entropies for %d log-probabilities", ErrInvalid, len(h), len(t.LogProbs))
			}
			h = h[sp.Start:sp.End]
		}
	}
	return Summarize(lp, h)
}

// set returns the traces the set-based estimators read.
func (c *Config) set(g *Group) []*Trace {
	ts := make([]*Trace, 0, len(g.Samples)+1)
	if c.WithGreedy {
		ts = append(ts, &g.Greedy)
	}
	for i := range g.Samples {
		ts = append(ts, &g.Samples[i])
	}
	return ts
}

// classes returns the answer classes of ts: the index of the first trace
// with an equal (normalised) answer, NoAnswer for an unparsed one.
func (c *Config) classes(ts []*Trace) []int {
	keys := make([]string, len(ts))
	for i, t := range ts {
		keys[i] = t.Answer
		if c.Normalize != nil && t.OK {
			keys[i] = c.Normalize(t.Answer)
		}
	}
	cls := make([]int, len(ts))
	for i, t := range ts {
		cls[i] = NoAnswer
		if !t.OK {
			continue
		}
		cls[i] = i
		for j := range i {
			if ts[j].OK && keys[j] == keys[i] {
				cls[i] = j
				break
			}
		}
	}
	return cls
}
