package uncertainty

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// Errors of the hot path, made once so that a degenerate group costs no
// allocation either.
var (
	errNoSamples   = fmt.Errorf("%w: the group has no sampled traces (K = 0)", ErrNoSamples)
	errGreedyNoAns = fmt.Errorf("%w: the greedy trace r0", ErrNoAnswer)
)

// builtin is an estimator of this package: a name, its Config (with
// defaults) and the function that reads a group.
type builtin struct {
	name string
	c    Config
	f    func(c *Config, g *Group) (Score, error)
}

func (e *builtin) Name() string { return e.name }

func (e *builtin) Estimate(g *Group) (Score, error) { return e.f(&e.c, g) }

func init() {
	for name, f := range map[string]func(c *Config, g *Group) (Score, error){
		"msp":                       info(Summary.MSP),
		"perplexity":                info(Summary.Perplexity),
		"log-perplexity":            info(Summary.LogPerplexity),
		"mte":                       info(Summary.MeanTokenEntropy),
		"max-entropy":               info(Summary.MaxTokenEntropy),
		"self-consistency":          selfConsistency,
		"semantic-entropy":          semanticEntropy(false),
		"semantic-entropy-weighted": semanticEntropy(true),
		"num-sem-sets":              numSemSets,
		"degmat":                    graph(func(_ *Config, w mat.Symmetric) (float64, error) { return DegMat(w) }),
		"eccentricity":              graph(func(c *Config, w mat.Symmetric) (float64, error) { return Eccentricity(w, c.EccentricityThreshold) }),
		"eigval-laplacian":          graph(func(_ *Config, w mat.Symmetric) (float64, error) { return EigValLaplacian(w) }),
		"lexical-similarity":        lexicalSimilarity,
		"cocoa-msp":                 cocoa(Summary.MSP),
		"cocoa-ppl":                 cocoa(Summary.LogPerplexity),
		"cocoa-mte":                 cocoa(Summary.MeanTokenEntropy),
	} {
		Register(name, func(c *Config) (Estimator, error) {
			return &builtin{name: name, c: *c, f: f}, nil
		})
	}
}

// info scores r0 by one number of its Summary.
func info(pick func(Summary) (float64, error)) func(c *Config, g *Group) (Score, error) {
	return func(c *Config, g *Group) (Score, error) {
		s, err := c.summary(&g.Greedy)
		if err != nil {
			return Score{}, err
		}
		v, err := pick(s)
		return Score{Value: v}, err
	}
}

// selfConsistency is 1 - a. It compares answers directly (no allocation)
// unless Config.Normalize is set.
func selfConsistency(c *Config, g *Group) (Score, error) {
	k := len(g.Samples)
	if k == 0 {
		return Score{}, errNoSamples
	}
	if !g.Greedy.OK {
		return Score{}, errGreedyNoAns
	}
	r0 := g.Greedy.Answer
	if c.Normalize != nil {
		r0 = c.Normalize(r0)
	}
	agree := 0
	for i := range g.Samples {
		s := &g.Samples[i]
		if !s.OK {
			continue
		}
		a := s.Answer
		if c.Normalize != nil {
			a = c.Normalize(a)
		}
		if a == r0 {
			agree++
		}
	}
	return Score{Value: 1 - float64(agree)/float64(k)}, nil
}

// semanticEntropy is SemanticEntropy over the set's answer classes,
// weighted by each trace's mean log-probability (its Config.Part) if
// weighted.
func semanticEntropy(weighted bool) func(c *Config, g *Group) (Score, error) {
	return func(c *Config, g *Group) (Score, error) {
		ts := c.set(g)
		var w []float64
		if weighted {
			w = make([]float64, len(ts))
			for i, t := range ts {
				s, err := c.summary(t)
				if err == nil {
					w[i], err = s.LogPerplexity()
				}
				if err != nil {
					return Score{}, fmt.Errorf("%w (trace %d of the set)", err, i)
				}
				w[i] = -w[i]
			}
		}
		v, err := SemanticEntropy(c.classes(ts), w)
		return Score{Value: v}, err
	}
}

// numSemSets is NumSemSets over the set's answer classes.
func numSemSets(c *Config, g *Group) (Score, error) {
	ts := c.set(g)
	if len(ts) == 0 {
		return Score{}, fmt.Errorf("%w: no traces in the set", ErrNoSamples)
	}
	if !anyParsed(ts) {
		return Score{}, fmt.Errorf("%w: none of %d answers", ErrNoAnswer, len(ts))
	}
	return Score{Value: float64(NumSemSets(c.classes(ts)))}, nil
}

func anyParsed(ts []*Trace) bool {
	for _, t := range ts {
		if t.OK {
			return true
		}
	}
	return false
}

// graph scores the set's similarity matrix under Config.Similarity.
func graph(f func(c *Config, w mat.Symmetric) (float64, error)) func(c *Config, g *Group) (Score, error) {
	return func(c *Config, g *Group) (Score, error) {
		w, err := SimilarityMatrix(c.set(g), c.Similarity)
		if err != nil {
			return Score{}, err
		}
		v, err := f(c, w)
		return Score{Value: v}, err
	}
}

// lexicalSimilarity is -LexicalSimilarity of the set under TokenRougeL.
func lexicalSimilarity(c *Config, g *Group) (Score, error) {
	ts := c.set(g)
	if len(ts) < 2 {
		return Score{}, fmt.Errorf("%w: lexical similarity needs 2 traces, have %d", ErrNoSamples, len(ts))
	}
	w, err := SimilarityMatrix(ts, TokenRougeL{})
	if err != nil {
		return Score{}, err
	}
	s, err := LexicalSimilarity(w)
	return Score{Value: -s}, err
}

// cocoa is u(r0) · mean_i (1 - s(r0, r_i)), tie-broken by u(r0). It needs
// no allocation beyond what the similarity does.
func cocoa(pick func(Summary) (float64, error)) func(c *Config, g *Group) (Score, error) {
	return func(c *Config, g *Group) (Score, error) {
		k := len(g.Samples)
		if k == 0 {
			return Score{}, errNoSamples
		}
		s, err := c.summary(&g.Greedy)
		if err != nil {
			return Score{}, err
		}
		u, err := pick(s)
		if err != nil {
			return Score{}, err
		}
		var d float64
		for i := range g.Samples {
			v, err := similarity(c.Similarity, &g.Greedy, &g.Samples[i])
			if err != nil {
				return Score{}, fmt.Errorf("%w (similarity of r0 and sample %d)", err, i+1)
			}
			d += 1 - v
		}
		return Score{Value: u * d / float64(k), Tiebreak: u}, nil
	}
}
