package main

import (
	"fmt"
	"strconv"

	"github.com/labelfree/labelfree/uncertainty"
)

// closeness is a similarity of your own for numeric answers:
//
//	s(a, b) = 1 / (1 + |a − b|)
//
// 1 for equal answers, 1/2 for answers one apart, and 0 when either answer
// was not parsed. Unlike uncertainty.AnswerMatch, a sample that is off by
// one counts as half a disagreement in CoCoA, not a whole one. Like every
// uncertainty.Similarity it lies in [0, 1], is symmetric and is 1 for a
// trace and itself.
type closeness struct{}

func (closeness) Similarity(a, b *uncertainty.Trace) (float64, error) {
	if !a.OK || !b.OK {
		return 0, nil
	}
	x, err := number(a)
	if err != nil {
		return 0, err
	}
	y, err := number(b)
	if err != nil {
		return 0, err
	}
	return 1 / (1 + float64(max(x-y, y-x))), nil
}

// number returns a parsed trace's answer as a number.
func number(t *uncertainty.Trace) (int, error) {
	n, err := strconv.Atoi(t.Answer)
	if err != nil {
		return 0, fmt.Errorf("%w: answer %q is not a number", uncertainty.ErrInvalid, t.Answer)
	}
	return n, nil
}

// answerSpread is an estimator of your own: the mean distance of the
// parsed sampled answers from r0's,
//
//	spread = (1/m) Σ_i |a_i − a_0|
//
// over the m samples whose answer was parsed (the others are left out). It
// reads answers only, so it needs no log-probabilities. It returns an
// error wrapping uncertainty.ErrNoAnswer when r0's answer, or every
// sample's, was not parsed, and ErrNoSamples for K = 0.
type answerSpread struct{}

func (answerSpread) Name() string { return "answer-spread" }

func (answerSpread) Estimate(g *uncertainty.Group) (uncertainty.Score, error) {
	if len(g.Samples) == 0 {
		return uncertainty.Score{}, fmt.Errorf("%w: answer-spread needs samples", uncertainty.ErrNoSamples)
	}
	if !g.Greedy.OK {
		return uncertainty.Score{}, fmt.Errorf("%w: the greedy trace r0", uncertainty.ErrNoAnswer)
	}
	a0, err := number(&g.Greedy)
	if err != nil {
		return uncertainty.Score{}, err
	}
	sum, m := 0, 0
	for i := range g.Samples {
		s := &g.Samples[i]
		if !s.OK {
			continue
		}
		a, err := number(s)
		if err != nil {
			return uncertainty.Score{}, err
		}
		sum += max(a-a0, a0-a)
		m++
	}
	if m == 0 {
		return uncertainty.Score{}, fmt.Errorf("%w: none of %d samples", uncertainty.ErrNoAnswer, len(g.Samples))
	}
	return uncertainty.Score{Value: float64(sum) / float64(m)}, nil
}

// Registered, the estimator is available by name, like the built-in ones,
// to uncertainty.New and NewAll and so to score.Config.Estimators.
func init() {
	uncertainty.Register(answerSpread{}.Name(), func(*uncertainty.Config) (uncertainty.Estimator, error) {
		return answerSpread{}, nil
	})
}
