package filter

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Strategy is how a selection keeps groups: PerClass, Global or Random.
// The set is closed; Select type-switches over it.
type Strategy interface {
	// spec returns the strategy's normalised description, or an error for
	// a field out of range.
	spec() (spec, error)
}

// PerClass keeps, within each class (r0's answer), the groups with the
// lowest uncertainty under Estimator: the fraction Fraction of the class's
// eligible groups, rounded up (see Size), or N of them (all when fewer).
// Exactly one of Fraction and N is set.
//
// Balancing, applied after that count: Cap > 0 keeps at most Cap per class;
// Balance keeps the same number in every class, the least of the counts
// just described over the classes that have eligible groups (so a class
// with one eligible group makes every class keep one).
type PerClass struct {
	// Estimator ranks the groups; required.
	Estimator string
	// Fraction is q in (0, 1].
	Fraction float64
	// N is the count per class, at least 1.
	N int
	// Balance keeps the same count in every class.
	Balance bool
	// Cap bounds the count per class; 0 means no bound.
	Cap int
	// Gates exclude groups before ranking (see Gate).
	Gates []Gate
}

// Global keeps the groups with the lowest uncertainty under Estimator
// over all classes at once: the fraction Fraction of all eligible groups,
// rounded up (see Size), N of them, or every group with Value <=
// *Threshold. Exactly one of the three is set.
type Global struct {
	// Estimator ranks the groups; required.
	Estimator string
	// Fraction is q in (0, 1].
	Fraction float64
	// N is the count kept, at least 1.
	N int
	// Threshold, if not nil, keeps every eligible group whose score's
	// Value is at most *Threshold.
	Threshold *float64
	// Gates exclude groups before ranking (see Gate).
	Gates []Gate
}

// Random keeps a seeded random subset of the eligible groups: the
// baseline a ranked selection must beat. Its size is Fraction of the
// eligible groups (rounded up, see Size), N, or Like's: exactly one of the
// three is set. With PerClass the size applies within each class (with
// Like, each class keeps as many as Like kept of it), otherwise overall
// (with Like, Like's total). A class or pool with fewer eligible groups
// than asked keeps all of them.
//
// Each group draws a 64-bit key, the first output of math/rand/v2's PCG
// seeded with (Seed, FNV-1a 64 of the id), and the groups with the lowest
// keys are kept (ties, which need a 64-bit collision, by id). PCG is a
// fixed algorithm, so the same Seed selects the same ids on every machine,
// whatever the order of the score file, and a larger size keeps a superset
// of a smaller one.
//
// Estimator, if set, excludes the groups it could not score, so that the
// pool is the one a ranked selection under that estimator drew from, and
// puts its scores in the records; it does not order anything. Gates apply
// as for the other strategies.
type Random struct {
	// Seed seeds the draw.
	Seed uint64
	// Fraction is q in (0, 1].
	Fraction float64
	// N is the count kept (per class with PerClass), at least 1.
	N int
	// Like is the Summary of the selection whose size to match.
	Like *Summary
	// PerClass draws within each class instead of overall.
	PerClass bool
	// Estimator is optional; see Random.
	Estimator string
	// Gates exclude groups before the draw (see Gate).
	Gates []Gate
}

// kind is a strategy's kind.
type kind int

const (
	perClass kind = iota
	global
	random
)

// spec is a strategy in one form for Select.
type spec struct {
	kind      kind
	name      string
	estimator string
	fraction  float64
	n         int
	threshold *float64
	balance   bool
	cap       int
	seed      uint64
	perClass  bool // count per class (PerClass always, Random with PerClass)
	like      *Summary
	gates     []Gate
}

// errStrategy is wrapped by the errors of a strategy out of range.
var errStrategy = errors.New("filter: bad strategy")

func (s PerClass) spec() (spec, error) {
	sp := spec{kind: perClass, name: NamePerClass, estimator: s.Estimator, fraction: s.Fraction, n: s.N,
		balance: s.Balance, cap: s.Cap, perClass: true, gates: slices.Clone(s.Gates)}
	switch {
	case s.Estimator == "":
		return sp, fmt.Errorf("%w: per-class needs an estimator", errStrategy)
	case s.Cap < 0:
		return sp, fmt.Errorf("%w: cap %d < 0", errStrategy, s.Cap)
	}
	return sp, sp.checkSize(s.Fraction != 0, s.N != 0)
}

func (s Global) spec() (spec, error) {
	sp := spec{kind: global, name: NameGlobal, estimator: s.Estimator, fraction: s.Fraction, n: s.N, gates: slices.Clone(s.Gates)}
	if s.Threshold != nil {
		t := *s.Threshold
		if math.IsNaN(t) {
			return sp, fmt.Errorf("%w: threshold NaN", errStrategy)
		}
		sp.threshold = &t
	}
	if s.Estimator == "" {
		return sp, fmt.Errorf("%w: global needs an estimator", errStrategy)
	}
	return sp, sp.checkSize(s.Fraction != 0, s.N != 0, s.Threshold != nil)
}

func (s Random) spec() (spec, error) {
	sp := spec{kind: random, name: NameRandom, estimator: s.Estimator, fraction: s.Fraction, n: s.N,
		seed: s.Seed, perClass: s.PerClass, gates: slices.Clone(s.Gates)}
	if s.Like != nil {
		l := *s.Like
		l.Classes = slices.Clone(l.Classes)
		sp.like = &l
	}
	return sp, sp.checkSize(s.Fraction != 0, s.N != 0, s.Like != nil)
}

// checkSize checks that exactly one way of sizing is set, and the
// fraction's and count's ranges, and the gates.
func (sp *spec) checkSize(set ...bool) error {
	k := 0
	for _, b := range set {
		if b {
			k++
		}
	}
	switch {
	case k != 1:
		return fmt.Errorf("%w: %s needs exactly one of its sizes (fraction, n, ...), %d given", errStrategy, sp.name, k)
	case sp.fraction != 0 && !(sp.fraction > 0 && sp.fraction <= 1):
		return fmt.Errorf("%w: fraction %v outside (0, 1]", errStrategy, sp.fraction)
	case sp.n < 0:
		return fmt.Errorf("%w: n %d < 1", errStrategy, sp.n)
	}
	for i, g := range sp.gates {
		if g.Estimator == "" || math.IsNaN(g.Max) {
			return fmt.Errorf("%w: gate %d: estimator %q, max %v", errStrategy, i, g.Estimator, g.Max)
		}
	}
	return nil
}

// Size returns how many of n groups a fraction q in (0, 1] keeps:
// ⌈q·n⌉, where q·n is first rounded to the nearest integer if it lies
// within 1e-9·q·n of it and is at least 1, so that a product that floating point
// puts just above an integer (0.3·10 = 3.0000000000000004) keeps that
// integer (3, not 4). Size(q, 0) is 0 and Size(q, n) >= 1 for n >= 1.
func Size(q float64, n int) int {
	x := q * float64(n)
	if r := math.Round(x); r >= 1 && math.Abs(x-r) <= 1e-9*x {
		return int(r)
	}
	return int(math.Ceil(x))
}
