package score

import (
	"errors"
	"fmt"
	"slices"

	"github.com/labelfree/labelfree/uncertainty"
)

// Similarity names, for Config.Similarity and Settings.Similarity.
const (
	// SimilarityAnswer is uncertainty.AnswerMatch: 1 when two traces'
	// answers agree, 0 otherwise (CoCoA as "perplexity + self-consistency").
	SimilarityAnswer = "answer"
	// SimilarityJaccard is uncertainty.TokenJaccard over token ids (or
	// words of the text when a trace file has no token ids).
	SimilarityJaccard = "jaccard"
	// SimilarityRougeL is uncertainty.TokenRougeL, likewise.
	SimilarityRougeL = "rougel"
	// SimilarityEmbedding is uncertainty.EmbeddingCosine of the traces'
	// embeddings from Config.Embedder, which then is required.
	SimilarityEmbedding = "embedding"
)

// Qwen3's reasoning markers <think> and </think> are single tokens with
// these ids: Config.ThinkIDs' default.
const (
	Qwen3ThinkOpen  int32 = 151667
	Qwen3ThinkClose int32 = 151668
)

// DefaultEstimators returns the estimators File runs when Config.Estimators
// is empty: cocoa-ppl, self-consistency, log-perplexity, msp, mte.
func DefaultEstimators() []string {
	return []string{"cocoa-ppl", "self-consistency", "log-perplexity", "msp", "mte"}
}

// Config configures File and Convert. A nil *Config means the zero Config;
// each field documents its zero value.
type Config struct {
	// Estimators are the names of the estimators to run (see
	// uncertainty.New), in the order the score file lists them; empty
	// means DefaultEstimators.
	Estimators []string
	// Part is the span of each trace the information-based estimators and
	// CoCoA's u read (uncertainty.Config.Part); the zero value is the whole
	// trace. The reasoning and answer parts are found by ThinkIDs, so they
	// need a trace file with token ids.
	Part uncertainty.Part
	// Similarity names the similarity of CoCoA and the graph estimators:
	// SimilarityAnswer (""), SimilarityJaccard, SimilarityRougeL or
	// SimilarityEmbedding.
	Similarity string
	// Normalize compares answers after uncertainty.NormalizeAnswer; false
	// compares them as the task's parser gave them, which suits classes.
	Normalize bool
	// WithGreedy adds r0 to the set the set-based estimators read
	// (uncertainty.Config.WithGreedy).
	WithGreedy bool
	// EccentricityThreshold is the eccentricity estimator's threshold; 0
	// means 0.9.
	EccentricityThreshold float64
	// ThinkIDs are the token ids of the open and close reasoning markers,
	// for the reasoning and answer parts; the zero value means Qwen3's,
	// {Qwen3ThinkOpen, Qwen3ThinkClose}.
	ThinkIDs [2]int32
	// TopNEntropies accepts the entropies of "top-n" traces (over an API's
	// n most likely alternatives only) as token entropies. false drops
	// them, so that mte, max-entropy and cocoa-mte report an error for such
	// traces instead of a number that is not a mean token entropy.
	TopNEntropies bool
	// Embedder embeds the traces' token ids for SimilarityEmbedding, one
	// Embed call per group, from one goroutine at a time; it is required
	// then and unused otherwise.
	Embedder uncertainty.Embedder
	// Workers is the number of goroutines that decode the trace file, and
	// of those that run the estimators; 0 means GOMAXPROCS.
	Workers int
}

// errConfig is wrapped by the errors of a Config out of range.
var errConfig = errors.New("score: bad config")

// settings returns c's Settings with defaults applied, and the estimator
// names, or an error for a field out of range.
func (c *Config) settings() (Settings, []string, error) {
	var d Config
	if c != nil {
		d = *c
	}
	s := Settings{
		Part:                  d.Part.String(),
		Similarity:            d.Similarity,
		Normalize:             d.Normalize,
		WithGreedy:            d.WithGreedy,
		EccentricityThreshold: d.EccentricityThreshold,
		ThinkIDs:              d.ThinkIDs,
		TopNEntropies:         d.TopNEntropies,
	}
	if d.Part < uncertainty.Whole || d.Part > uncertainty.Answer {
		return s, nil, fmt.Errorf("%w: Part %d", errConfig, int(d.Part))
	}
	if s.Similarity == "" {
		s.Similarity = SimilarityAnswer
	}
	switch s.Similarity {
	case SimilarityAnswer, SimilarityJaccard, SimilarityRougeL:
	case SimilarityEmbedding:
		if d.Embedder == nil {
			return s, nil, fmt.Errorf("%w: similarity %q needs an Embedder", errConfig, s.Similarity)
		}
	default:
		return s, nil, fmt.Errorf("%w: unknown similarity %q (want %q, %q, %q or %q)", errConfig, s.Similarity,
			SimilarityAnswer, SimilarityJaccard, SimilarityRougeL, SimilarityEmbedding)
	}
	if s.EccentricityThreshold == 0 {
		s.EccentricityThreshold = 0.9
	}
	if s.ThinkIDs == [2]int32{} {
		s.ThinkIDs = [2]int32{Qwen3ThinkOpen, Qwen3ThinkClose}
	}
	names := d.Estimators
	if len(names) == 0 {
		names = DefaultEstimators()
	}
	for i, n := range names {
		if slices.Contains(names[:i], n) {
			return s, nil, fmt.Errorf("%w: estimator %q listed twice", errConfig, n)
		}
	}
	return s, slices.Clone(names), nil
}

// uncertaintyConfig returns the uncertainty.Config of s.
func (s *Settings) uncertaintyConfig() *uncertainty.Config {
	uc := &uncertainty.Config{
		WithGreedy:            s.WithGreedy,
		EccentricityThreshold: s.EccentricityThreshold,
	}
	switch s.Part {
	case uncertainty.Reasoning.String():
		uc.Part = uncertainty.Reasoning
	case uncertainty.Answer.String():
		uc.Part = uncertainty.Answer
	}
	if s.Normalize {
		uc.Normalize = uncertainty.NormalizeAnswer
	}
	switch s.Similarity {
	case SimilarityAnswer:
		uc.Similarity = uncertainty.AnswerMatch{Normalize: uc.Normalize}
	case SimilarityJaccard:
		uc.Similarity = uncertainty.TokenJaccard{}
	case SimilarityRougeL:
		uc.Similarity = uncertainty.TokenRougeL{}
	case SimilarityEmbedding:
		uc.Similarity = uncertainty.EmbeddingCosine{}
	}
	open, close := s.ThinkIDs[0], s.ThinkIDs[1]
	uc.Split = func(t *uncertainty.Trace) (reasoning, answer uncertainty.Span, closed bool) {
		if len(t.IDs) != len(t.LogProbs) {
			// No token ids to find the markers by: spans the estimators
			// reject as invalid, explained by Convert's note.
			return uncertainty.Span{Start: -1, End: -1}, uncertainty.Span{Start: -1, End: -1}, false
		}
		return uncertainty.SplitReasoningIDs(t.IDs, open, close)
	}
	return uc
}

// NewEstimators returns the estimators c configures, in order, and the
// Settings a score file records for them: how File sets itself up, for a
// caller that scores groups itself (with Convert and uncertainty.Batch) and
// wants the same numbers.
func NewEstimators(c *Config) ([]uncertainty.Estimator, Settings, error) {
	s, names, err := c.settings()
	if err != nil {
		return nil, s, err
	}
	es, err := uncertainty.NewAll(s.uncertaintyConfig(), names...)
	if err != nil {
		return nil, s, fmt.Errorf("score: %w", err)
	}
	return es, s, nil
}
