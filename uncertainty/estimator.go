package uncertainty

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
)

// Score is one estimator's uncertainty for one group. Higher Value means
// less trustworthy.
type Score struct {
	// Value is the estimator's uncertainty.
	Value float64
	// Tiebreak orders scores with equal Value, lower first: u(r0) for the
	// CoCoA estimators, 0 for the others.
	Tiebreak float64
}

// Compare orders scores by Value, then by Tiebreak: it returns -1 when a is
// less uncertain than b, +1 when more, 0 when both keys are equal. Scores
// from this package are never NaN.
func Compare(a, b Score) int {
	if c := cmp.Compare(a.Value, b.Value); c != 0 {
		return c
	}
	return cmp.Compare(a.Tiebreak, b.Tiebreak)
}

// Estimator computes one uncertainty of a group. Implementations used by
// Batch must be safe for concurrent use.
type Estimator interface {
	// Name is the estimator's stable name, as registered.
	Name() string
	// Estimate returns g's score, or an error wrapping one of the
	// package's sentinels; never a NaN or infinite Score.
	Estimate(g *Group) (Score, error)
}

// Factory makes an estimator for a Config. It receives the Config with its
// defaults filled in, never nil.
type Factory func(c *Config) (Estimator, error)

var registry = struct {
	sync.RWMutex
	m map[string]Factory
}{m: map[string]Factory{}}

// Register makes an estimator available by name to New, NewAll and Names.
// It is meant for init functions and panics if name is empty, f is nil or
// name is taken, as database/sql.Register does.
func Register(name string, f Factory) {
	registry.Lock()
	defer registry.Unlock()
	if name == "" || f == nil {
		panic("uncertainty: Register with an empty name or a nil factory")
	}
	if _, dup := registry.m[name]; dup {
		panic("uncertainty: Register called twice for estimator " + name)
	}
	registry.m[name] = f
}

// Names returns the registered estimator names, sorted.
func Names() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// New returns the estimator registered as name, configured by c (nil means
// the zero Config). The package registers:
//
//	msp                 MSP(r0) = -Σ lp                    (LM-Polygraph MaximumSequenceProbability)
//	perplexity          exp(-mean lp) of r0                (exponentiated form)
//	log-perplexity      -mean lp of r0                     (LM-Polygraph "Perplexity")
//	mte                 mean token entropy of r0           (LM-Polygraph MeanTokenEntropy)
//	max-entropy         largest token entropy of r0
//	self-consistency    1 - a, a = share of samples agreeing with r0's answer
//	semantic-entropy    entropy of answer-class frequencies
//	semantic-entropy-weighted  same, classes weighted by exp(mean lp) of each trace
//	num-sem-sets        number of answer classes (unparsed answers count one each)
//	degmat              DegMat of the similarity matrix     (LM-Polygraph DegMat)
//	eccentricity        Eccentricity of it                  (LM-Polygraph Eccentricity)
//	eigval-laplacian    EigValLaplacian of it               (LM-Polygraph EigValLaplacian)
//	lexical-similarity  -mean pairwise ROUGE-L of the set   (LM-Polygraph LexicalSimilarity)
//	cocoa-msp           MSP(r0) · mean(1 - s(r0, r_i))      (LM-Polygraph CocoaMSP)
//	cocoa-ppl           log-PPL(r0) · mean(1 - s(r0, r_i))  (LM-Polygraph CocoaPPL)
//	cocoa-mte           MTE(r0) · mean(1 - s(r0, r_i))      (LM-Polygraph CocoaMTE)
//
// The information-based ones read Config.Part of the trace; the set-based
// ones read the samples (and r0 with Config.WithGreedy); the similarity is
// Config.Similarity. It returns ErrUnknown for a name not registered and
// ErrInvalid for a Config field out of range.
//
// Degenerate groups: K = 0 gives ErrNoSamples from every estimator that
// reads samples; an unparsed r0 gives ErrNoAnswer from self-consistency, and
// a set without any parsed answer gives it from semantic-entropy,
// semantic-entropy-weighted and num-sem-sets. Under AnswerMatch an unparsed
// answer is a class of its own, so an unparsed r0 makes CoCoA equal u(r0)
// and unparsed samples count as disagreeing. A set of one trace scores 0
// (semantic entropy, DegMat, Eccentricity) or 1 (NumSemSets,
// EigValLaplacian); lexical-similarity needs two and returns ErrNoSamples.
// Information-based estimators return ErrEmpty for a trace or part without
// tokens, ErrMissing without entropies (mte, max-entropy, cocoa-mte) and a
// *NonFiniteError for a NaN or infinite log-probability or entropy.
func New(name string, c *Config) (Estimator, error) {
	registry.RLock()
	f, ok := registry.m[name]
	registry.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknown, name)
	}
	d, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	e, err := f(&d)
	if err != nil {
		return nil, fmt.Errorf("uncertainty: estimator %s: %w", name, err)
	}
	return e, nil
}

// NewAll returns New(name, c) for each name, or for every registered name
// (in Names order) when names is empty.
func NewAll(c *Config, names ...string) ([]Estimator, error) {
	if len(names) == 0 {
		names = Names()
	}
	es := make([]Estimator, len(names))
	for i, n := range names {
		e, err := New(n, c)
		if err != nil {
			return nil, err
		}
		es[i] = e
	}
	return es, nil
}

// estimate checks an estimator's result: a non-finite score becomes an
// error, so a NaN never reaches a ranking.
func estimate(e Estimator, g *Group) (Score, error) {
	s, err := e.Estimate(g)
	if err != nil {
		return Score{}, err
	}
	if !finite(s.Value) || !finite(s.Tiebreak) {
		return Score{}, &NonFiniteError{What: "score of " + e.Name(), Value: s.Value + s.Tiebreak}
	}
	return s, nil
}
