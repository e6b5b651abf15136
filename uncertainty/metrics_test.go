package uncertainty

import (
	"errors"
	"math"
	"testing"
)

func TestMetricErrors(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		name string
		u, q []float64
		want error
	}{
		{"empty", nil, nil, ErrEmpty},
		{"lengths", []float64{1, 2}, []float64{1}, ErrInvalid},
		{"NaN uncertainty", []float64{nan, 1}, []float64{0, 1}, ErrNonFinite},
		{"infinite quality", []float64{0, 1}, []float64{inf, 1}, ErrNonFinite},
	} {
		t.Run(c.name, func(t *testing.T) {
			for name, f := range map[string]func(u, q []float64) (float64, error){
				"PRR": PRR, "NormalizedPRR": NormalizedPRR, "RiskCoverageAUC": RiskCoverageAUC,
			} {
				if _, err := f(c.u, c.q); !errors.Is(err, c.want) {
					t.Errorf("%s error = %v, want %v", name, err, c.want)
				}
			}
		})
	}
	if _, err := NormalizedPRR([]float64{1, 2}, []float64{1, 1}); !errors.Is(err, ErrUndefined) {
		t.Errorf("NormalizedPRR with equal qualities: %v, want ErrUndefined", err)
	}
	if _, err := ROCAUC([]float64{1, 2}, []bool{true, true}); !errors.Is(err, ErrUndefined) {
		t.Errorf("ROCAUC with one class: %v, want ErrUndefined", err)
	}
	if _, err := ROCAUC([]float64{nan, 2}, []bool{true, false}); !errors.Is(err, ErrNonFinite) {
		t.Errorf("ROCAUC with NaN: %v, want ErrNonFinite", err)
	}
	for _, f := range []float64{0, -0.1, 1.5, nan} {
		if _, err := Retention([]float64{1}, []int{0}, []int{0}, []float64{f}); !errors.Is(err, ErrInvalid) {
			t.Errorf("Retention fraction %v: %v, want ErrInvalid", f, err)
		}
	}
	if _, err := Retention([]float64{1}, []int{0}, []int{0, 1}, []float64{1}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Retention with gold of another length: %v, want ErrInvalid", err)
	}
}

// TestROCAUCInfinities: ±Inf scores are ordered like any other (a -Inf
// log-probability that reached a score as +Inf still ranks last). By hand:
// positives {+Inf, 1}, negatives {0, -Inf}: every positive is above every
// negative, AUC = 1.
func TestROCAUCInfinities(t *testing.T) {
	got, err := ROCAUC([]float64{math.Inf(1), 0, 1, math.Inf(-1)}, []bool{true, false, true, false})
	if err != nil || got != 1 {
		t.Errorf("ROCAUC = %v, %v; want 1", got, err)
	}
}

// TestRetentionTies: a fraction that cuts through tied uncertainties keeps
// all of them. By hand: u = (0, 0, 0, 1), 1/4 asks for one item and keeps
// three; accuracy 2/3; labels a (TP 1, FN 1 → F1 2/3) and b (TP 1, FP 1 →
// F1 2/3): macro-F1 2/3.
func TestRetentionTies(t *testing.T) {
	got, err := Retention([]float64{0, 0, 0, 1}, []string{"a", "b", "b", "a"}, []string{"a", "a", "b", "b"}, []float64{0.25})
	if err != nil {
		t.Fatal(err)
	}
	if r := got[0]; r.N != 3 || r.Threshold != 0 || math.Abs(r.Accuracy-2.0/3) > 1e-15 || math.Abs(r.MacroF1-2.0/3) > 1e-15 {
		t.Errorf("Retention = %+v; want N 3, threshold 0, accuracy and macro-F1 2/3", r)
	}
}
