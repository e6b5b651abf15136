package uncertainty

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Retained is the quality of the least uncertain items kept at one
// retention fraction.
type Retained struct {
	// Fraction is the fraction asked for.
	Fraction float64
	// N is the number of items kept: ceil(Fraction·n), and more when items
	// tie with the last one kept, since no uncertainty tells them apart.
	N int
	// Threshold is the largest uncertainty kept.
	Threshold float64
	// Accuracy is the share of kept items whose prediction equals the
	// gold label.
	Accuracy float64
	// MacroF1 is the unweighted mean over labels of the per-label F1 on the
	// kept items, 2TP/(2TP+FP+FN), over the labels that occur among their
	// predictions or gold labels, as sklearn's f1_score(average="macro").
	MacroF1 float64
}

// Retention returns the accuracy and macro-F1 of the least uncertain items
// at each retention fraction in (0, 1]: the quality of the data an
// uncertainty filter would keep. A prediction that is no gold label (an
// unparsed answer, say) counts as wrong and as a label of its own.
// Errors: ErrEmpty, ErrInvalid for slices of different lengths or a
// fraction outside (0, 1], a *NonFiniteError for a NaN uncertainty.
func Retention[L comparable](uncertainty []float64, pred, gold []L, fractions []float64) ([]Retained, error) {
	if err := checkMetric(uncertainty, len(pred)); err != nil {
		return nil, err
	}
	if len(gold) != len(pred) {
		return nil, fmt.Errorf("%w: %d predictions for %d gold labels", ErrInvalid, len(pred), len(gold))
	}
	n := len(uncertainty)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(uncertainty[a], uncertainty[b]) })
	out := make([]Retained, len(fractions))
	for f, frac := range fractions {
		if !(frac > 0 && frac <= 1) {
			return nil, fmt.Errorf("%w: retention fraction %v outside (0, 1]", ErrInvalid, frac)
		}
		// The tolerance keeps 0.3·10 = 3.0000000000000004 at 3.
		k := max(1, int(math.Ceil(frac*float64(n)-1e-9)))
		for k < n && uncertainty[idx[k]] == uncertainty[idx[k-1]] {
			k++
		}
		acc, f1 := classification(idx[:k], pred, gold)
		out[f] = Retained{Fraction: frac, N: k, Threshold: uncertainty[idx[k-1]], Accuracy: acc, MacroF1: f1}
	}
	return out, nil
}

// classification returns the accuracy and macro-F1 of the items keep.
func classification[L comparable](keep []int, pred, gold []L) (accuracy, macroF1 float64) {
	type counts struct{ tp, fp, fn int }
	per := map[L]*counts{}
	var order []*counts // summed in order of first appearance, so the result is reproducible
	at := func(l L) *counts {
		c := per[l]
		if c == nil {
			c = new(counts)
			per[l] = c
			order = append(order, c)
		}
		return c
	}
	correct := 0
	for _, i := range keep {
		p, g := pred[i], gold[i]
		if p == g {
			correct++
			at(p).tp++
		} else {
			at(p).fp++
			at(g).fn++
		}
	}
	var sum float64
	for _, c := range order {
		sum += 2 * float64(c.tp) / float64(2*c.tp+c.fp+c.fn)
	}
	return float64(correct) / float64(len(keep)), sum / float64(len(per))
}
