package annotate

import (
	"errors"
	"math"
	"strconv"
	"testing"

	"github.com/labelfree/labelfree/uncertainty"
)

// tol is the tolerance of comparisons with testdata/agreement.py, which
// prints float64 values computed by a different summation order.
const tol = 1e-12

var nan = math.NaN()

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func concat(ss ...[]string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s...)
	}
	return out
}

// The soundness ratings of two raters, testdata/agreement.py's ord_a, ord_b.
var (
	ordA = []float64{1, 2, 3, 4, 5, 3, 2, 4, 5, 1, 3, 3}
	ordB = []float64{1, 3, 3, 5, 4, 2, 2, 4, 5, 2, 3, 1}
)

func TestCohenKappa(t *testing.T) {
	tests := []struct {
		name string
		a, b []string
		want float64
	}{
		// Wikipedia, "Cohen's kappa", simple worked example: 50 grant
		// applications, 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no;
		// p_o = 0.7, p_e = 0.5, κ = 0.4.
		{
			"wikipedia",
			concat(repeat("yes", 25), repeat("no", 25)),
			concat(repeat("yes", 20), repeat("no", 5), repeat("yes", 10), repeat("no", 15)),
			0.4,
		},
		// testdata/agreement.py: "kappa three".
		{
			"three categories",
			[]string{"a", "b", "c", "a", "b", "c", "a", "a", "b", "c"},
			[]string{"a", "b", "b", "a", "c", "c", "b", "a", "b", "a"},
			0.3939393939393939,
		},
		// Perfect agreement: p_o = 1.
		{"perfect", []string{"x", "y", "x"}, []string{"x", "y", "x"}, 1},
		// Systematic disagreement on two balanced categories: p_o = 0,
		// p_e = 0.5, κ = -1.
		{"opposite", []string{"x", "y"}, []string{"y", "x"}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CohenKappa(tt.a, tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tt.want) > tol {
				t.Errorf("CohenKappa = %.15g, want %.15g", got, tt.want)
			}
		})
	}
}

func TestWeightedKappa(t *testing.T) {
	// Expected values: testdata/agreement.py ("wkappa ...").
	tests := []struct {
		name string
		a, b []float64
		w    Weighting
		want float64
	}{
		{"unweighted", ordA, ordB, Unweighted, 0.36842105263157887},
		{"linear", ordA, ordB, Linear, 0.6037735849056604},
		{"quadratic", ordA, ordB, Quadratic, 0.7804878048780488},
		{"linear with an unused level", []float64{1, 1, 2, 5, 5, 2}, []float64{1, 2, 2, 5, 2, 1}, Linear, 0.48275862068965514},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := WeightedKappa(tt.a, tt.b, tt.w)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tt.want) > tol {
				t.Errorf("WeightedKappa = %.15g, want %.15g", got, tt.want)
			}
		})
	}
	t.Run("unweighted is CohenKappa", func(t *testing.T) {
		sa, sb := make([]string, len(ordA)), make([]string, len(ordB))
		for i := range ordA {
			sa[i] = strconv.FormatFloat(ordA[i], 'g', -1, 64)
			sb[i] = strconv.FormatFloat(ordB[i], 'g', -1, 64)
		}
		k, err := CohenKappa(sa, sb)
		if err != nil {
			t.Fatal(err)
		}
		w, err := WeightedKappa(ordA, ordB, Unweighted)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(k-w) > tol {
			t.Errorf("CohenKappa = %.15g, WeightedKappa(Unweighted) = %.15g", k, w)
		}
	})
}

func TestKappaErrors(t *testing.T) {
	tests := []struct {
		name string
		f    func() (float64, error)
		want error
	}{
		{"empty", func() (float64, error) { return CohenKappa(nil, nil) }, ErrEmpty},
		{"lengths", func() (float64, error) { return CohenKappa([]string{"a"}, []string{"a", "b"}) }, ErrInvalid},
		{"one category", func() (float64, error) { return CohenKappa([]string{"a", "a"}, []string{"a", "a"}) }, ErrNoVariation},
		{"weighted empty", func() (float64, error) { return WeightedKappa(nil, nil, Linear) }, ErrEmpty},
		{"weighted NaN", func() (float64, error) { return WeightedKappa([]float64{1, nan}, []float64{1, 2}, Linear) }, ErrInvalid},
		{"weighted Inf", func() (float64, error) { return WeightedKappa([]float64{1, 2}, []float64{1, math.Inf(1)}, Linear) }, ErrInvalid},
		{"weighting", func() (float64, error) { return WeightedKappa([]float64{1, 2}, []float64{1, 2}, Weighting(7)) }, ErrInvalid},
		{"weighted one value", func() (float64, error) { return WeightedKappa([]float64{3, 3}, []float64{3, 3}, Quadratic) }, ErrNoVariation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.f()
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, %v; want error %v", got, err, tt.want)
			}
		})
	}
}

// k2011 is the example of Krippendorff (2011), "Computing Krippendorff's
// Alpha-Reliability", section C (4 observers, 12 units, missing values),
// as units × observers.
var k2011 = [][]float64{
	{1, 1, nan, 1},
	{2, 2, 3, 2},
	{3, 3, 3, 3},
	{3, 3, 3, 3},
	{2, 2, 2, 2},
	{1, 2, 3, 4},
	{4, 4, 4, 4},
	{1, 1, 2, 1},
	{2, 2, 2, 2},
	{nan, 5, 5, 5},
	{nan, nan, 1, 1},
	{nan, 3, nan, nan},
}

// fk is the 3 coders × 15 units data of fast-krippendorff's
// tests/test_krippendorff.py (github.com/pln-fing-udelar/fast-krippendorff),
// transposed to units × coders.
var fk = [][]float64{
	{nan, 1, nan}, {nan, nan, nan}, {nan, 2, 2}, {nan, 1, 1}, {nan, 3, 3},
	{3, 3, 4}, {4, 4, 4}, {1, 3, nan}, {2, nan, 2}, {1, nan, 1},
	{1, nan, 1}, {3, nan, 3}, {3, nan, 3}, {nan, nan, nan}, {3, nan, 4},
}

func TestKrippendorffAlpha(t *testing.T) {
	two := make([][]float64, len(ordA))
	for i := range ordA {
		two[i] = []float64{ordA[i], ordB[i]}
	}
	// Every want is testdata/agreement.py's value ("alpha ..."), computed
	// over pairs of values instead of a coincidence matrix. Published
	// values agree to their printed precision: for k2011,
	// fast-krippendorff's test_ordinal_metric asserts 0.815 (ordinal) and
	// the paper's worked example ends in α = 0.743 (nominal; quoted from
	// the paper as remembered, its text was not at hand); for fk,
	// fast-krippendorff asserts 0.691358 (nominal) and 0.810845
	// (interval).
	tests := []struct {
		name    string
		ratings [][]float64
		metric  Metric
		want    float64
	}{
		{"k2011 nominal", k2011, Nominal, 0.743421052631579},
		{"k2011 ordinal", k2011, Ordinal, 0.8153875037548813},
		{"k2011 interval", k2011, Interval, 0.8491071428571428},
		{"fk nominal", fk, Nominal, 0.691358024691358},
		{"fk ordinal", fk, Ordinal, 0.8067214199413152},
		{"fk interval", fk, Interval, 0.8108448928121059},
		{"two coders nominal", two, Nominal, 0.39207048458149774},
		{"two coders ordinal", two, Ordinal, 0.7951420540869036},
		{"two coders interval", two, Interval, 0.7894201424211598},
		{"perfect", [][]float64{{1, 1}, {2, 2, nan}, {5, 5, 5}}, Interval, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := KrippendorffAlpha(tt.ratings, tt.metric)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tt.want) > tol {
				t.Errorf("KrippendorffAlpha = %.15g, want %.15g", got, tt.want)
			}
		})
	}
	t.Run("published precision", func(t *testing.T) {
		for _, c := range []struct {
			metric Metric
			want   float64
		}{{Nominal, 0.743}, {Ordinal, 0.815}} {
			got, err := KrippendorffAlpha(k2011, c.metric)
			if err != nil {
				t.Fatal(err)
			}
			if math.Round(got*1000)/1000 != c.want {
				t.Errorf("metric %d: α = %.6f, rounds to %.3f, want %.3f", c.metric, got, math.Round(got*1000)/1000, c.want)
			}
		}
	})
}

func TestKrippendorffAlphaErrors(t *testing.T) {
	tests := []struct {
		name    string
		ratings [][]float64
		metric  Metric
		want    error
	}{
		{"no units", nil, Nominal, ErrNoPairs},
		{"no unit with two values", [][]float64{{1, nan}, {nan, 2}, {3}}, Ordinal, ErrNoPairs},
		{"all one value", [][]float64{{2, 2}, {2, 2, 2}, {4, nan}}, Interval, ErrNoVariation},
		{"infinite", [][]float64{{1, math.Inf(-1)}}, Nominal, ErrInvalid},
		{"metric", [][]float64{{1, 2}}, Metric(9), ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := KrippendorffAlpha(tt.ratings, tt.metric)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, %v; want error %v", got, err, tt.want)
			}
		})
	}
}

func TestSpearman(t *testing.T) {
	// Expected values: testdata/agreement.py ("spearman ..."); the
	// no-ties value also equals 1 - 6Σd²/(n(n²-1)) = 1 - 6·100/336.
	tests := []struct {
		name string
		x, y []float64
		want float64
	}{
		{"ties", []float64{0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.5}, []float64{1, 3, 2, 5, 2, 4, 4}, 0.9274260335029676},
		{"no ties", []float64{3, 1, 4, 1.5, 5, 9, 2.6}, []float64{2, 7, 1, 8, 2.8, 1.8, 2.9}, -0.7857142857142857},
		{"monotone", []float64{1, 2, 3}, []float64{10, 100, math.Inf(1)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Spearman(tt.x, tt.y)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tt.want) > tol {
				t.Errorf("Spearman = %.15g, want %.15g", got, tt.want)
			}
		})
	}
	errs := []struct {
		name string
		x, y []float64
		want error
	}{
		{"empty", nil, nil, ErrEmpty},
		{"lengths", []float64{1}, []float64{1, 2}, ErrInvalid},
		{"NaN", []float64{1, nan}, []float64{1, 2}, ErrInvalid},
		{"constant", []float64{1, 2, 3}, []float64{4, 4, 4}, ErrNoVariation},
		{"one item", []float64{1}, []float64{2}, ErrNoVariation},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Spearman(tt.x, tt.y)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, %v; want error %v", got, err, tt.want)
			}
		})
	}
}

func TestUnsoundAUC(t *testing.T) {
	tests := []struct {
		name      string
		u         []float64
		soundness []int
		want      float64
	}{
		// Both unsound items (soundness 1, 2) are more uncertain than both
		// sound ones: every pair ordered right.
		{"separated", []float64{0.9, 0.1, 0.5, 0.7}, []int{1, 5, 4, 2}, 1},
		// One unsound item at 0.5 against sound 0.5 (tie, 1/2) and 0.2 (1):
		// (0.5 + 1)/2.
		{"tie", []float64{0.5, 0.5, 0.2}, []int{1, 5, 3}, 0.75},
		// Reversed: the unsound item is the least uncertain.
		{"reversed", []float64{0.1, 0.5, 0.9}, []int{2, 3, 5}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := UnsoundAUC(tt.u, tt.soundness, 3)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tt.want) > tol {
				t.Errorf("UnsoundAUC = %g, want %g", got, tt.want)
			}
		})
	}
	if _, err := UnsoundAUC([]float64{1, 2}, []int{0, 5}, 3); !errors.Is(err, ErrInvalid) {
		t.Errorf("soundness 0: err = %v, want ErrInvalid", err)
	}
	if _, err := UnsoundAUC([]float64{1, 2}, []int{4, 5}, 3); !errors.Is(err, uncertainty.ErrUndefined) {
		t.Errorf("all sound: err = %v, want uncertainty.ErrUndefined", err)
	}
}
