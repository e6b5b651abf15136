//go:build cgo

package llama

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// TestRowStats checks the vectorised C statistics against a float64 Go
// computation (LogSoftmax, and −Σ p·log p) on rows of awkward lengths and
// value ranges.
func TestRowStats(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	row := func(n int, scale, offset float64) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(offset + scale*r.NormFloat64())
		}
		return x
	}
	tests := []struct {
		name   string
		logits []float32
	}{
		{"one", []float32{3}},
		{"two equal", []float32{1, 1}},
		{"17 (lanes + 1)", row(17, 1, 0)},
		{"513 (block + 1)", row(513, 3, -5)},
		{"tiny vocab", row(261, 2, 0)},
		{"qwen vocab", row(151936, 2.5, 0)},
		{"large offset", row(1000, 1, 1e4)},
		{"wide spread", row(5000, 60, 0)},
		{"one-hot", append(make([]float32, 999), 200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rowStats(tt.logits)
			if err != nil {
				t.Fatal(err)
			}
			lp := LogSoftmax(nil, tt.logits)
			wantLogZ := float64(tt.logits[0]) - lp[0]
			var wantH float64
			best := 0
			for i, x := range lp {
				if p := math.Exp(x); p > 0 {
					wantH -= p * x
				}
				if tt.logits[i] > tt.logits[best] {
					best = i
				}
			}
			// 2e-7 relative error of the float32 exp, on log Z and on H.
			if d := math.Abs(got.logZ - wantLogZ); d > 1e-6*max(1, math.Abs(wantLogZ)*1e-3) {
				t.Errorf("log Z = %.12g, want %.12g (|Δ| %.2g)", got.logZ, wantLogZ, d)
			}
			if d := math.Abs(got.entropy - wantH); d > 1e-6 {
				t.Errorf("entropy = %.12g, want %.12g (|Δ| %.2g)", got.entropy, wantH, d)
			}
			if got.argmax != int32(best) {
				t.Errorf("argmax = %d, want %d", got.argmax, best)
			}
		})
	}
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		x := row(1000, 1, 0)
		x[700] = bad
		if _, err := rowStats(x); !errors.Is(err, ErrNonFinite) {
			t.Errorf("%v at 700: err = %v, want ErrNonFinite", bad, err)
		}
	}
}

func BenchmarkRowStats(b *testing.B) {
	x := make([]float32, 151936)
	for i := range x {
		x[i] = float32(i%1000) / 100
	}
	for b.Loop() {
		if _, err := rowStats(x); err != nil {
			b.Fatal(err)
		}
	}
}
