package uncertainty

import (
	"errors"
	"math"
	"testing"
)

// TestInfoHand checks the information-based estimators on traces whose
// values follow by hand: two tokens of probability 1/2 each have
// MSP = 2 ln 2, mean NLL ln 2 and perplexity 2 (a fair coin per token).
func TestInfoHand(t *testing.T) {
	half := math.Log(0.5)
	for _, c := range []struct {
		name                  string
		lp, h                 []float64
		msp, logPPL, ppl, mte float64
		maxH                  float64
	}{
		{"two fair coins", []float64{half, half}, []float64{math.Ln2, math.Ln2}, 2 * math.Ln2, math.Ln2, 2, math.Ln2, math.Ln2},
		{"certain token", []float64{0}, []float64{0}, 0, 0, 1, 0, 0},
		{"1/4 then 1", []float64{math.Log(0.25), 0}, []float64{math.Log(4), 0}, math.Log(4), math.Log(2), 2, math.Log(2), math.Log(4)},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Summarize(c.lp, c.h)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				name string
				fn   func() (float64, error)
				want float64
			}{
				{"MSP", s.MSP, c.msp},
				{"LogPerplexity", s.LogPerplexity, c.logPPL},
				{"Perplexity", s.Perplexity, c.ppl},
				{"MeanTokenEntropy", s.MeanTokenEntropy, c.mte},
				{"MaxTokenEntropy", s.MaxTokenEntropy, c.maxH},
			} {
				if got, err := f.fn(); err != nil || math.Abs(got-f.want) > 1e-15 {
					t.Errorf("%s = %v, %v; want %v", f.name, got, err, f.want)
				}
			}
		})
	}
}

func TestInfoErrors(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(-1)
	for _, c := range []struct {
		name  string
		lp, h []float64
		want  error
		index int // for ErrNonFinite
	}{
		{"no tokens", nil, nil, ErrEmpty, 0},
		{"-Inf log-probability", []float64{-0.1, inf}, nil, ErrNonFinite, 1},
		{"NaN log-probability", []float64{nan}, nil, ErrNonFinite, 0},
		{"NaN entropy", []float64{-0.1, -0.2, -0.3}, []float64{0, 0, nan}, ErrNonFinite, 2},
		{"entropies of another length", []float64{-0.1, -0.2}, []float64{0}, ErrInvalid, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Summarize(c.lp, c.h)
			if !errors.Is(err, c.want) {
				t.Fatalf("Summarize error = %v, want %v", err, c.want)
			}
			var nf *NonFiniteError
			if errors.As(err, &nf) && nf.Index != c.index {
				t.Errorf("NonFiniteError.Index = %d, want %d", nf.Index, c.index)
			}
		})
	}
	for name, fn := range map[string]func([]float64) (float64, error){
		"MSP": MSP, "Perplexity": Perplexity, "LogPerplexity": LogPerplexity,
		"MeanTokenEntropy": MeanTokenEntropy, "MaxTokenEntropy": MaxTokenEntropy,
	} {
		if _, err := fn(nil); !errors.Is(err, ErrEmpty) {
			t.Errorf("%s(nil) error = %v, want ErrEmpty", name, err)
		}
		if _, err := fn([]float64{-1, inf}); !errors.Is(err, ErrNonFinite) {
			t.Errorf("%s(-Inf) error = %v, want ErrNonFinite", name, err)
		}
	}

	noH, _ := Summarize([]float64{-1}, nil)
	if _, err := noH.MeanTokenEntropy(); !errors.Is(err, ErrMissing) {
		t.Errorf("MeanTokenEntropy without entropies: %v, want ErrMissing", err)
	}
	if _, err := noH.MaxTokenEntropy(); !errors.Is(err, ErrMissing) {
		t.Errorf("MaxTokenEntropy without entropies: %v, want ErrMissing", err)
	}
	if _, err := (Summary{}).MSP(); !errors.Is(err, ErrEmpty) {
		t.Errorf("zero Summary MSP: %v, want ErrEmpty", err)
	}
	if _, err := (Summary{N: 1, SumLogProb: nan}).LogPerplexity(); !errors.Is(err, ErrNonFinite) {
		t.Errorf("NaN Summary: %v, want ErrNonFinite", err)
	}
	// A mean NLL of 800 nats overflows exp: an error, not +Inf.
	if _, err := Perplexity([]float64{-800}); !errors.Is(err, ErrNonFinite) {
		t.Errorf("Perplexity overflow: %v, want ErrNonFinite", err)
	}
}
