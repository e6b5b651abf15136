package eval

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/labelfree/labelfree/uncertainty"
)

// Number is a metric's value, or nothing when the data leave the metric
// undefined (ROC-AUC when every answer is right, say). The zero Number is
// undefined.
type Number struct {
	// Value is the metric's value; 0 when undefined.
	Value float64
	// Defined reports whether the data define the metric.
	Defined bool
}

// Some returns the defined Number v.
func Some(v float64) Number { return Number{Value: v, Defined: true} }

// Format returns the value with prec digits after the point, or "" when it
// is undefined.
func (n Number) Format(prec int) string {
	if !n.Defined {
		return ""
	}
	return strconv.FormatFloat(n.Value, 'f', prec, 64)
}

// Quality is how well one estimator's uncertainty tracks the correctness
// of the greedy answer r0 (quality 1 when r0 is right, 0 when it is wrong
// or unparsed).
type Quality struct {
	// Estimator is the estimator's name.
	Estimator string
	// N is the number of items, Wrong of those whose r0 is wrong.
	N, Wrong int
	// PRR is the prediction–rejection area (uncertainty.PRR).
	PRR float64
	// NormalizedPRR is (PRR − random)/(oracle − random)
	// (uncertainty.NormalizedPRR): 1 for a perfect ranking, about 0 for a
	// random one; undefined when every r0 is right or every one wrong.
	NormalizedPRR Number
	// ROCAUC is the ROC-AUC of the uncertainty as a detector of wrong
	// answers (uncertainty.ROCAUC with positive = wrong): the probability
	// that a wrong answer is more uncertain than a right one; undefined like
	// NormalizedPRR.
	ROCAUC Number
	// RiskCoverageAUC is the area under the risk–coverage curve
	// (uncertainty.RiskCoverageAUC); lower is better.
	RiskCoverageAUC float64
}

// Judge returns the Quality of an estimator's scores against correct[i],
// whether item i's answer is right. Scores are ranked by
// uncertainty.Compare, so tie-breaks count. Errors: ErrEmpty, ErrInvalid
// for slices of different lengths or a NaN score.
func Judge(estimator string, scores []uncertainty.Score, correct []bool) (*Quality, error) {
	u, err := rank(scores, len(correct))
	if err != nil {
		return nil, err
	}
	q := &Quality{Estimator: estimator, N: len(u)}
	quality := make([]float64, len(u))
	wrong := make([]bool, len(u))
	for i, c := range correct {
		if c {
			quality[i] = 1
		} else {
			wrong[i] = true
			q.Wrong++
		}
	}
	if q.PRR, err = uncertainty.PRR(u, quality); err != nil {
		return nil, fmt.Errorf("eval: %s: %w", estimator, err)
	}
	if q.RiskCoverageAUC, err = uncertainty.RiskCoverageAUC(u, quality); err != nil {
		return nil, fmt.Errorf("eval: %s: %w", estimator, err)
	}
	if q.NormalizedPRR, err = optional(uncertainty.NormalizedPRR(u, quality)); err != nil {
		return nil, fmt.Errorf("eval: %s: %w", estimator, err)
	}
	if q.ROCAUC, err = optional(uncertainty.ROCAUC(u, wrong)); err != nil {
		return nil, fmt.Errorf("eval: %s: %w", estimator, err)
	}
	return q, nil
}

// optional turns uncertainty.ErrUndefined into an undefined Number.
func optional(v float64, err error) (Number, error) {
	switch {
	case err == nil:
		return Some(v), nil
	case errors.Is(err, uncertainty.ErrUndefined):
		return Number{}, nil
	}
	return Number{}, err
}

// rank checks scores against n items and returns their ranks under
// uncertainty.Compare, one number per item that keeps the tie-break.
func rank(scores []uncertainty.Score, n int) ([]float64, error) {
	if len(scores) != n {
		return nil, fmt.Errorf("%w: %d scores for %d items", ErrInvalid, len(scores), n)
	}
	if n == 0 {
		return nil, ErrEmpty
	}
	for i, s := range scores {
		if math.IsNaN(s.Value) || math.IsNaN(s.Tiebreak) {
			return nil, fmt.Errorf("%w: score %d is NaN", ErrInvalid, i)
		}
	}
	return uncertainty.Rank(nil, scores), nil
}

// Bin is one bin of a reliability curve.
type Bin struct {
	// N is the number of items in the bin, Correct of those right.
	N, Correct int
	// Accuracy is Correct/N.
	Accuracy float64
	// Lo and Hi are the smallest and largest uncertainty (Score.Value) in
	// the bin.
	Lo, Hi float64
}

// Reliability returns the accuracy of the items in each of bins
// equal-count bins of uncertainty, least uncertain first: a reliability
// curve, which falls from left to right when the uncertainty tracks
// correctness. The items are ordered by uncertainty.Order (value, then
// tie-break, then input order) and bin b holds positions
// ⌊b·n/bins⌋ … ⌊(b+1)·n/bins⌋−1, so bins differ in size by at most one and
// tied items at a boundary are split by input order. With fewer items than
// bins, there are n bins of one item. Errors: ErrEmpty, ErrInvalid for
// slices of different lengths, a NaN score or bins < 1.
func Reliability(scores []uncertainty.Score, correct []bool, bins int) ([]Bin, error) {
	if bins < 1 {
		return nil, fmt.Errorf("%w: %d bins", ErrInvalid, bins)
	}
	if _, err := rank(scores, len(correct)); err != nil {
		return nil, err
	}
	n := len(scores)
	bins = min(bins, n)
	order := uncertainty.Order(nil, scores)
	out := make([]Bin, bins)
	for b := range out {
		lo, hi := b*n/bins, (b+1)*n/bins
		bin := &out[b]
		bin.N = hi - lo
		bin.Lo, bin.Hi = scores[order[lo]].Value, scores[order[hi-1]].Value
		for _, i := range order[lo:hi] {
			if correct[i] {
				bin.Correct++
			}
		}
		bin.Accuracy = float64(bin.Correct) / float64(bin.N)
	}
	return out, nil
}
