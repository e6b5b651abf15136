package uncertainty

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// checkMetric validates the inputs shared by the metrics.
func checkMetric(uncertainty []float64, n int) error {
	if len(uncertainty) == 0 {
		return fmt.Errorf("%w: no items", ErrEmpty)
	}
	if len(uncertainty) != n {
		return fmt.Errorf("%w: %d uncertainties for %d labels", ErrInvalid, len(uncertainty), n)
	}
	for i, u := range uncertainty {
		if math.IsNaN(u) {
			return &NonFiniteError{What: "uncertainty", Index: i, Value: u}
		}
	}
	return nil
}

// retentionCurve returns (1/n) Σ_{k=1..n} (1/k) Σ_{r≤k} value[order_r] where
// order sorts uncertainty ascending; within a run of tied uncertainties
// every value is replaced by the run's mean, which is the expectation over
// the run's orders.
func retentionCurve(uncertainty, value []float64) float64 {
	n := len(uncertainty)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(uncertainty[a], uncertainty[b]) })
	var area, cum float64
	for lo := 0; lo < n; {
		hi := lo + 1
		for hi < n && uncertainty[idx[hi]] == uncertainty[idx[lo]] {
			hi++
		}
		var mean float64
		for _, i := range idx[lo:hi] {
			mean += value[i]
		}
		mean /= float64(hi - lo)
		for k := lo; k < hi; k++ {
			cum += mean
			area += cum / float64(k+1)
		}
		lo = hi
	}
	return area / float64(n)
}

// PRR returns the area under the prediction–rejection curve: the mean
// quality of the k least uncertain items, averaged over k = 1..n,
//
//	PRR = (1/n) Σ_{k=1..n} (1/k) Σ_{r≤k} q_(r)
//
// with q_(r) the quality of the r-th least uncertain item, as LM-Polygraph's
// PredictionRejectionArea computes it, except that LM-Polygraph first
// rescales the qualities to [0, 1] by their minimum and maximum and this
// function uses them as given (NormalizedPRR is the same either way).
// Errors: ErrEmpty, ErrInvalid for slices of different lengths, a
// *NonFiniteError for a NaN uncertainty or a non-finite quality.
func PRR(uncertainty, quality []float64) (float64, error) {
	if err := checkMetric(uncertainty, len(quality)); err != nil {
		return 0, err
	}
	if err := checkFinite("quality", quality); err != nil {
		return 0, err
	}
	return retentionCurve(uncertainty, quality), nil
}

// NormalizedPRR returns PRR relative to a random and an oracle ordering:
//
//	(PRR - PRR_random) / (PRR_oracle - PRR_random)
//
// PRR_random = mean(q) is the expected PRR of a random order (LM-Polygraph
// estimates it from 1,000 shuffles); PRR_oracle is the PRR of the order by
// decreasing quality. It is 1 for the oracle order, about 0 for a random
// one and negative for a worse one. It returns ErrUndefined when all
// qualities are equal (the oracle is then no better than random), and the
// errors of PRR.
func NormalizedPRR(uncertainty, quality []float64) (float64, error) {
	prr, err := PRR(uncertainty, quality)
	if err != nil {
		return 0, err
	}
	random, oracle, err := PRRBaselines(quality)
	if err != nil {
		return 0, err
	}
	if oracle == random {
		return 0, fmt.Errorf("%w: normalised PRR with all qualities equal", ErrUndefined)
	}
	return (prr - random) / (oracle - random), nil
}

// PRRBaselines returns the PRR of a random order, mean(q), and of the
// oracle order by decreasing quality, the two ends NormalizedPRR scales
// between. Errors: ErrEmpty and a *NonFiniteError for a non-finite quality.
func PRRBaselines(quality []float64) (random, oracle float64, err error) {
	if len(quality) == 0 {
		return 0, 0, fmt.Errorf("%w: no items", ErrEmpty)
	}
	if err := checkFinite("quality", quality); err != nil {
		return 0, 0, err
	}
	if slices.Min(quality) == slices.Max(quality) {
		return quality[0], quality[0], nil // every order is the same
	}
	for _, q := range quality {
		random += q
	}
	random /= float64(len(quality))
	neg := make([]float64, len(quality))
	for i, q := range quality {
		neg[i] = -q
	}
	return random, retentionCurve(neg, quality), nil
}

// RiskCoverageAUC returns the area under the risk–coverage curve: the mean
// risk 1 - q of the k least uncertain items, averaged over k = 1..n,
//
//	AURC = (1/n) Σ_{k=1..n} (1/k) Σ_{r≤k} (1 - q_(r))
//
// as LM-Polygraph's RiskCoverageCurveAUC (normalize=True) computes it,
// without its min–max rescaling of the qualities; lower is better. With
// qualities in [0, 1] it equals 1 - PRR. Errors are those of PRR.
func RiskCoverageAUC(uncertainty, quality []float64) (float64, error) {
	if err := checkMetric(uncertainty, len(quality)); err != nil {
		return 0, err
	}
	if err := checkFinite("quality", quality); err != nil {
		return 0, err
	}
	risk := make([]float64, len(quality))
	for i, q := range quality {
		risk[i] = 1 - q
	}
	return retentionCurve(uncertainty, risk), nil
}

// ROCAUC returns the area under the ROC curve of score as a detector of
// positive items: the probability that a random positive item scores
// higher than a random negative one, ties counting one half,
//
//	AUC = (R₊ - n₊(n₊+1)/2) / (n₊ n₋)
//
// with R₊ the sum of the positives' ranks, tied scores taking their average
// rank (the Mann–Whitney U statistic; sklearn's roc_auc_score gives the
// same). To judge an uncertainty, pass it with positive[i] = "item i is
// wrong". It returns ErrUndefined when all items are positive or all
// negative, ErrEmpty, ErrInvalid for slices of different lengths and a
// *NonFiniteError for a NaN score.
func ROCAUC(score []float64, positive []bool) (float64, error) {
	if err := checkMetric(score, len(positive)); err != nil {
		return 0, err
	}
	npos := 0
	for _, p := range positive {
		if p {
			npos++
		}
	}
	nneg := len(positive) - npos
	if npos == 0 || nneg == 0 {
		return 0, fmt.Errorf("%w: ROC-AUC with %d positive and %d negative items", ErrUndefined, npos, nneg)
	}
	ranks := averageRanks(make([]float64, len(score)), len(score), func(a, b int) int {
		return cmp.Compare(score[a], score[b])
	})
	var rpos float64
	for i, p := range positive {
		if p {
			rpos += ranks[i]
		}
	}
	np, nn := float64(npos), float64(nneg)
	return (rpos - np*(np+1)/2) / (np * nn), nil
}

// averageRanks fills dst[i] with the 1-based rank of item i of n under
// compare, tied items taking the mean of their ranks.
func averageRanks(dst []float64, n int, compare func(a, b int) int) []float64 {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, compare)
	for lo := 0; lo < n; {
		hi := lo + 1
		for hi < n && compare(idx[lo], idx[hi]) == 0 {
			hi++
		}
		r := float64(lo+1+hi) / 2 // mean of ranks lo+1..hi
		for _, i := range idx[lo:hi] {
			dst[i] = r
		}
		lo = hi
	}
	return dst
}

// Rank returns the 1-based rank of each score under Compare (value, then
// tie-break), tied scores taking their average rank: a single number per
// item that keeps the tie-break, for the metrics that take []float64. It
// grows dst when it is too short.
func Rank(dst []float64, s []Score) []float64 {
	if cap(dst) < len(s) {
		dst = make([]float64, len(s))
	}
	dst = dst[:len(s)]
	return averageRanks(dst, len(s), func(a, b int) int { return Compare(s[a], s[b]) })
}

// Order returns the indices of s from least to most uncertain under
// Compare, equal scores in index order. It grows dst when it is too short.
func Order(dst []int, s []Score) []int {
	if cap(dst) < len(s) {
		dst = make([]int, len(s))
	}
	dst = dst[:len(s)]
	for i := range dst {
		dst[i] = i
	}
	slices.SortStableFunc(dst, func(a, b int) int { return Compare(s[a], s[b]) })
	return dst
}
