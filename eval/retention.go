package eval

import (
	"fmt"
	"math"
)

// DefaultFractions returns the retention fractions of the paper's analysis:
// 0.05, 0.10, …, 1.00, each computed as k/20 so that they print exactly.
func DefaultFractions() []float64 {
	f := make([]float64, 20)
	for k := range f {
		f[k] = float64(k+1) / 20
	}
	return f
}

// checkFractions returns ErrInvalid unless every fraction lies in (0, 1].
func checkFractions(fractions []float64) error {
	if len(fractions) == 0 {
		return fmt.Errorf("%w: no retention fractions", ErrInvalid)
	}
	for _, f := range fractions {
		if !(f > 0 && f <= 1) {
			return fmt.Errorf("%w: retention fraction %v outside (0, 1]", ErrInvalid, f)
		}
	}
	return nil
}

// Point is the quality of one selection: the groups a strategy kept at one
// retention fraction, judged against their gold labels.
type Point struct {
	// Fraction is the fraction the strategy was asked to keep.
	Fraction float64
	// Eligible is the number of groups the strategy could keep, Kept the
	// number it kept.
	Eligible, Kept int
	// Accuracy and MacroF1 are those of the kept groups' r0 answers
	// (Classify over the label set); 0 when nothing was kept.
	Accuracy, MacroF1 float64
	// Classes has one entry per label of the label set, in its order.
	Classes []ClassPoint
}

// ClassPoint is one class's share of a Point. The class of a group is its
// r0 answer, as filtering sees it.
type ClassPoint struct {
	// Label is the class.
	Label string
	// Eligible is the number of eligible groups whose r0 answered Label,
	// Kept the number of them kept.
	Eligible, Kept int
	// Retained is Kept/Eligible: how much of the class survived filtering;
	// undefined when the class has no eligible group.
	Retained Number
	// Accuracy is the share of the kept groups answering Label whose gold
	// label is Label (the class's precision on the kept set); undefined
	// when none was kept.
	Accuracy Number
	// F1 is the class's F1 on the kept set, one class against the rest
	// (Classify, zero_division=0): it also counts the kept groups labelled
	// Label that r0 answered otherwise.
	F1 float64
	// Recall is the class's recall on the kept set.
	Recall float64
}

// Judged is one group as a retention curve sees it.
type Judged struct {
	// Pred is r0's answer, one of the label set (filtering drops
	// unparsed answers before ranking).
	Pred string
	// Gold is the gold label.
	Gold string
}

// NewPoint judges the selection keep (indices into eligible) at fraction
// q, over the label set labels. eligible are the groups the strategy could
// keep. Errors: those of NewConfusion, and ErrInvalid for an index out of
// range or repeated.
func NewPoint(labels []string, q float64, eligible []Judged, keep []int) (*Point, error) {
	index, err := labelIndex(labels)
	if err != nil {
		return nil, err
	}
	p := &Point{Fraction: q, Eligible: len(eligible), Kept: len(keep), Classes: make([]ClassPoint, len(labels))}
	for i, l := range labels {
		p.Classes[i].Label = l
	}
	for i, g := range eligible {
		k, ok := index[g.Pred]
		if !ok {
			return nil, &LabelError{What: "prediction", Index: i, Label: g.Pred}
		}
		p.Classes[k].Eligible++
	}
	seen := make(map[int]bool, len(keep))
	pred := make([]string, len(keep))
	gold := make([]string, len(keep))
	for j, i := range keep {
		if i < 0 || i >= len(eligible) || seen[i] {
			return nil, fmt.Errorf("%w: kept index %d out of range or repeated", ErrInvalid, i)
		}
		seen[i] = true
		pred[j], gold[j] = eligible[i].Pred, eligible[i].Gold
		p.Classes[index[pred[j]]].Kept++
	}
	for i := range p.Classes {
		c := &p.Classes[i]
		if c.Eligible > 0 {
			c.Retained = Some(float64(c.Kept) / float64(c.Eligible))
		}
	}
	if len(keep) == 0 {
		return p, nil
	}
	cl, err := Classify(labels, pred, gold)
	if err != nil {
		return nil, err
	}
	p.Accuracy, p.MacroF1 = cl.Accuracy, cl.MacroF1
	for i, m := range cl.PerClass {
		c := &p.Classes[i]
		c.F1, c.Recall = m.F1, m.Recall
		if c.Kept > 0 {
			c.Accuracy = Some(m.Precision)
		}
	}
	return p, nil
}

// Balance returns the smallest Retained over the classes that have
// eligible groups divided by the largest: 1 when every class keeps the same
// share, 0 when filtering starved a class entirely. It is undefined when
// nothing is kept.
func (p *Point) Balance() Number {
	lo, hi := math.Inf(1), 0.0
	for _, c := range p.Classes {
		if c.Retained.Defined {
			lo, hi = min(lo, c.Retained.Value), max(hi, c.Retained.Value)
		}
	}
	if hi == 0 {
		return Number{}
	}
	return Some(lo / hi)
}
