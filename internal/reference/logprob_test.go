package reference

import (
	"fmt"
	"math"
	"testing"
)

// lse123 = log(e¹ + e² + e³) = 3 + log(1 + e⁻¹ + e⁻²), from Python's
// math.log(math.exp(1)+math.exp(2)+math.exp(3)).
const lse123 = 3.40760596444438

func TestLogSoftmax(t *testing.T) {
	const tol = 1e-12
	ln2 := math.Log(2)
	inf := math.Inf(-1)
	tests := []struct {
		name   string
		logits []float64
		want   []float64
	}{
		{"single", []float64{7}, []float64{0}},
		{"two equal", []float64{0, 0}, []float64{-ln2, -ln2}},
		// exp(1000) overflows; only the max-shifted form gets this right.
		{"large equal", []float64{1000, 1000}, []float64{-ln2, -ln2}},
		{"large negative", []float64{-1000, -1000}, []float64{-ln2, -ln2}},
		{"1 2 3", []float64{1, 2, 3}, []float64{1 - lse123, 2 - lse123, 3 - lse123}},
		// Adding a constant to every logit changes nothing.
		{"1 2 3 offset 1e4", []float64{1e4 + 1, 1e4 + 2, 1e4 + 3}, []float64{1 - lse123, 2 - lse123, 3 - lse123}},
		{"1 2 3 offset -1e4", []float64{-1e4 + 1, -1e4 + 2, -1e4 + 3}, []float64{1 - lse123, 2 - lse123, 3 - lse123}},
		// log(1 + e⁻¹⁰⁰⁰) is 0 in float64: the small entry keeps its full value.
		{"far apart", []float64{-1000, 0}, []float64{-1000, 0}},
		{"minus infinity", []float64{inf, 0, 0}, []float64{inf, -ln2, -ln2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LogSoftmax(tt.logits)
			if len(got) != len(tt.want) {
				t.Fatalf("LogSoftmax(%v) has %d entries, want %d", tt.logits, len(got), len(tt.want))
			}
			for i := range got {
				if !near(got[i], tt.want[i], tol) {
					t.Errorf("LogSoftmax(%v)[%d] = %v, want %v (tolerance %g)", tt.logits, i, got[i], tt.want[i], tol)
				}
			}
		})
	}
}

func TestLogSoftmaxPanicsOnEmpty(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("LogSoftmax(nil) did not panic")
		}
	}()
	LogSoftmax(nil)
}

func TestEntropy(t *testing.T) {
	const tol = 1e-12
	tests := []struct {
		name     string
		logprobs []float64
		want     float64
	}{
		{"certain", []float64{0}, 0},
		{"certain among impossible", []float64{math.Inf(-1), 0, math.Inf(-1)}, 0},
		{"uniform 2", LogSoftmax([]float64{3, 3}), math.Log(2)},
		{"uniform 1000 at offset 1e6", LogSoftmax(repeat(1e6, 1000)), math.Log(1000)},
		// −(¼ log ¼ + ¾ log ¾), from Python's -(0.25*math.log(0.25)+0.75*math.log(0.75)).
		{"quarter", []float64{math.Log(0.25), math.Log(0.75)}, 0.5623351446188083},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Entropy(tt.logprobs); !near(got, tt.want, tol) {
				t.Errorf("Entropy = %v, want %v (tolerance %g)", got, tt.want, tol)
			}
		})
	}
}

func ExampleEntropy() {
	logprobs := LogSoftmax([]float64{2, 2, 2, 2})
	fmt.Printf("p = %.2f, H = %.4f = log 4\n", math.Exp(logprobs[0]), Entropy(logprobs))
	// Output: p = 0.25, H = 1.3863 = log 4
}

func repeat(v float64, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// near reports whether got and want agree to tol, absolutely or relative to
// want. Equal infinities agree.
func near(got, want, tol float64) bool {
	if got == want {
		return true
	}
	return math.Abs(got-want) <= tol*max(1, math.Abs(want))
}
