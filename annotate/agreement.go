package annotate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// CohenKappa returns Cohen's kappa for two raters who each put the same n
// items into nominal categories, a[i] and b[i] being their categories for
// item i:
//
//	κ = (p_o - p_e) / (1 - p_e)
//	p_o = (1/n) Σ_i [a_i = b_i]
//	p_e = Σ_c (n_a(c)/n)(n_b(c)/n)
//
// with n_a(c) the number of items rater a put in category c. Every string,
// the empty one included, is a category. It returns ErrEmpty for no items,
// ErrInvalid for slices of different lengths, and ErrNoVariation when
// p_e = 1 (both raters used one and the same category throughout), where
// κ is 0/0.
func CohenKappa(a, b []string) (float64, error) {
	if err := checkPair(len(a), len(b)); err != nil {
		return 0, err
	}
	index := make(map[string]int)
	ia, ib := make([]int, len(a)), make([]int, len(b))
	for i := range a {
		ia[i] = category(index, a[i])
		ib[i] = category(index, b[i])
	}
	return kappa(ia, ib, len(index), func(c, k int) float64 {
		if c == k {
			return 0
		}
		return 1
	})
}

func category(index map[string]int, s string) int {
	c, ok := index[s]
	if !ok {
		c = len(index)
		index[s] = c
	}
	return c
}

func checkPair(na, nb int) error {
	if na != nb {
		return fmt.Errorf("%w: %d ratings against %d", ErrInvalid, na, nb)
	}
	if na == 0 {
		return fmt.Errorf("%w: no items", ErrEmpty)
	}
	return nil
}

// Weighting says how WeightedKappa penalises a disagreement between two
// ordinal ratings x and y.
type Weighting int

const (
	// Unweighted counts every disagreement as 1: nominal kappa.
	Unweighted Weighting = iota
	// Linear weights a disagreement by |x - y|.
	Linear
	// Quadratic weights a disagreement by (x - y)².
	Quadratic
)

// WeightedKappa returns Cohen's weighted kappa for two raters who each
// gave the same n items a numeric ordinal rating, such as a soundness score
// from 1 to 5:
//
//	κ_w = 1 - Σ_{x,y} w(x,y) o(x,y) / Σ_{x,y} w(x,y) e(x,y)
//
// with o(x,y) the proportion of items rated x by a and y by b, e(x,y) =
// o(x,·) o(·,y) its expectation under independence, and w the Weighting.
// The weights are computed from the rating values themselves, not from
// their positions among the values that occur, so a rating scale with a
// level nobody used keeps its spacing (sklearn's cohen_kappa_score uses
// positions; the two agree whenever the used values are consecutive
// integers). Unweighted gives CohenKappa of the values. It returns
// ErrEmpty, ErrInvalid for slices of different lengths, a non-finite
// rating or an unknown Weighting, and ErrNoVariation when the denominator
// is 0 (both raters used one and the same value throughout).
func WeightedKappa(a, b []float64, w Weighting) (float64, error) {
	if err := checkPair(len(a), len(b)); err != nil {
		return 0, err
	}
	var weight func(x, y float64) float64
	switch w {
	case Unweighted:
		weight = func(x, y float64) float64 {
			if x == y {
				return 0
			}
			return 1
		}
	case Linear:
		weight = func(x, y float64) float64 { return math.Abs(x - y) }
	case Quadratic:
		weight = func(x, y float64) float64 { return (x - y) * (x - y) }
	default:
		return 0, fmt.Errorf("%w: weighting %d", ErrInvalid, w)
	}
	for _, s := range [][]float64{a, b} {
		for i, v := range s {
			if !finite(v) {
				return 0, fmt.Errorf("%w: rating %d is %v", ErrInvalid, i, v)
			}
		}
	}
	values := slices.Concat(a, b)
	slices.Sort(values)
	values = slices.Compact(values)
	ia, ib := make([]int, len(a)), make([]int, len(b))
	for i := range a {
		ia[i], _ = slices.BinarySearch(values, a[i])
		ib[i], _ = slices.BinarySearch(values, b[i])
	}
	return kappa(ia, ib, len(values), func(c, k int) float64 { return weight(values[c], values[k]) })
}

// kappa returns 1 - Σ w·o / Σ w·e for category indices in [0, k).
func kappa(a, b []int, k int, weight func(c, k int) float64) (float64, error) {
	n := float64(len(a))
	obs := make([]float64, k*k)
	ma, mb := make([]float64, k), make([]float64, k)
	for i := range a {
		obs[a[i]*k+b[i]]++
		ma[a[i]]++
		mb[b[i]]++
	}
	var do, de float64
	for c := range k {
		for d := range k {
			w := weight(c, d)
			do += w * obs[c*k+d] / n
			de += w * (ma[c] / n) * (mb[d] / n)
		}
	}
	if de == 0 {
		return 0, fmt.Errorf("%w: both raters used a single value", ErrNoVariation)
	}
	return 1 - do/de, nil
}

// Metric is the level of measurement of KrippendorffAlpha: the squared
// difference δ²(c,k) between two values c and k.
type Metric int

const (
	// Nominal: δ² = 0 if c = k, else 1.
	Nominal Metric = iota
	// Ordinal: δ²(c,k) = (Σ_{g=c..k} n_g - (n_c + n_k)/2)², with n_g the
	// number of pairable values equal to g and the sum running over the
	// values that occur, from c to k in order; only the order of the
	// values matters.
	Ordinal
	// Interval: δ² = (c - k)².
	Interval
)

// KrippendorffAlpha returns Krippendorff's alpha for ratings[u][j], the
// value coder j gave unit u, NaN where coder j did not rate unit u. It
// follows the coincidence-matrix method of Krippendorff (2011),
// "Computing Krippendorff's Alpha-Reliability":
//
//	o_ck = Σ_u (number of ordered pairs (c,k) of values of unit u from
//	       different coders) / (m_u - 1)
//	n_c  = Σ_k o_ck,   n = Σ_c n_c
//	α    = 1 - (n - 1) Σ_{c,k} o_ck δ²(c,k) / Σ_{c,k} n_c n_k δ²(c,k)
//
// where m_u is the number of values of unit u. Units with fewer than two
// values are not pairable and are left out. Rows may have different
// lengths; a value of ±Inf is an error. It returns ErrNoPairs when no unit
// has two values, ErrNoVariation when every pairable value is the same
// (α is then 0/0; Krippendorff leaves it undefined), and ErrInvalid for
// an infinite value or an unknown Metric. α is 1 for perfect agreement,
// about 0 for agreement at chance and can be negative.
func KrippendorffAlpha(ratings [][]float64, metric Metric) (float64, error) {
	if metric != Nominal && metric != Ordinal && metric != Interval {
		return 0, fmt.Errorf("%w: metric %d", ErrInvalid, metric)
	}
	// The distinct pairable values, in order.
	var values []float64
	for u, row := range ratings {
		m := 0
		for j, v := range row {
			if math.IsInf(v, 0) {
				return 0, fmt.Errorf("%w: unit %d coder %d is %v", ErrInvalid, u, j, v)
			}
			if !math.IsNaN(v) {
				m++
			}
		}
		if m < 2 {
			continue
		}
		for _, v := range row {
			if !math.IsNaN(v) {
				values = append(values, v)
			}
		}
	}
	if len(values) == 0 {
		return 0, fmt.Errorf("%w: no unit has two or more values", ErrNoPairs)
	}
	slices.Sort(values)
	values = slices.Compact(values)
	k := len(values)
	if k == 1 {
		return 0, fmt.Errorf("%w: every pairable value is %v", ErrNoVariation, values[0])
	}
	o := make([]float64, k*k)
	counts := make([]float64, k)
	for _, row := range ratings {
		clear(counts)
		m := 0
		for _, v := range row {
			if !math.IsNaN(v) {
				c, _ := slices.BinarySearch(values, v)
				counts[c]++
				m++
			}
		}
		if m < 2 {
			continue
		}
		// Ordered pairs from different coders: counts[c]·counts[d] for
		// c ≠ d and counts[c]·(counts[c]-1) for c = d.
		for c := range k {
			if counts[c] == 0 {
				continue
			}
			for d := range k {
				pairs := counts[c] * counts[d]
				if c == d {
					pairs = counts[c] * (counts[c] - 1)
				}
				o[c*k+d] += pairs / float64(m-1)
			}
		}
	}
	nc := make([]float64, k)
	var n float64
	for c := range k {
		for d := range k {
			nc[c] += o[c*k+d]
		}
		n += nc[c]
	}
	delta := func(c, d int) float64 {
		switch metric {
		case Nominal:
			if c == d {
				return 0
			}
			return 1
		case Interval:
			x := values[c] - values[d]
			return x * x
		}
		lo, hi := min(c, d), max(c, d)
		var s float64
		for g := lo; g <= hi; g++ {
			s += nc[g]
		}
		s -= (nc[lo] + nc[hi]) / 2
		return s * s
	}
	var do, de float64
	for c := range k {
		for d := range k {
			if c == d {
				continue // δ²(c,c) = 0 for every metric
			}
			dd := delta(c, d)
			do += o[c*k+d] * dd
			de += nc[c] * nc[d] * dd
		}
	}
	// de > 0: at least two distinct values have n_c > 0 and δ² > 0
	// between distinct values for every metric.
	return 1 - (n-1)*do/de, nil
}

// Spearman returns Spearman's rank correlation of x and y: the Pearson
// correlation of their ranks, tied values taking the mean of the ranks they
// span (scipy.stats.spearmanr's default),
//
//	ρ = Σ (r_i - r̄)(s_i - s̄) / √(Σ (r_i - r̄)² Σ (s_i - s̄)²)
//
// It returns ErrEmpty, ErrInvalid for slices of different lengths or a
// NaN, and ErrNoVariation when x or y is constant (fewer than two items
// included). ±Inf are ranked like any other value.
func Spearman(x, y []float64) (float64, error) {
	if err := checkPair(len(x), len(y)); err != nil {
		return 0, err
	}
	for _, s := range [][]float64{x, y} {
		for i, v := range s {
			if math.IsNaN(v) {
				return 0, fmt.Errorf("%w: value %d is NaN", ErrInvalid, i)
			}
		}
	}
	rx, ry := ranks(x), ranks(y)
	mean := float64(len(x)+1) / 2 // the mean of average ranks is always (n+1)/2
	var sxy, sxx, syy float64
	for i := range rx {
		dx, dy := rx[i]-mean, ry[i]-mean
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return 0, fmt.Errorf("%w: a constant side in a rank correlation", ErrNoVariation)
	}
	return sxy / math.Sqrt(sxx*syy), nil
}

// ranks returns the 1-based rank of each x, ties taking their mean rank.
func ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(x[a], x[b]) })
	r := make([]float64, len(x))
	for lo := 0; lo < len(idx); {
		hi := lo + 1
		for hi < len(idx) && x[idx[hi]] == x[idx[lo]] {
			hi++
		}
		for _, i := range idx[lo:hi] {
			r[i] = float64(lo+1+hi) / 2
		}
		lo = hi
	}
	return r
}

// finite reports whether v is neither NaN nor ±Inf.
func finite(v float64) bool { return v-v == 0 }
