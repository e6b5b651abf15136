package uncertainty

import (
	"errors"
	"math"
	"testing"
)

// TestSemanticEntropyHand: two equally likely classes carry ln 2 nats; a
// class of weight e^0 against one of e^(ln 3) = 3 has p = (1/4, 3/4).
func TestSemanticEntropyHand(t *testing.T) {
	for _, c := range []struct {
		name    string
		classes []int
		w       []float64
		want    float64
	}{
		{"two halves", []int{0, 1, 0, 1}, nil, math.Ln2},
		{"one class", []int{5, 5, 5}, nil, 0},
		{"one trace", []int{0}, nil, 0},
		{"weighted 1:3", []int{0, 1}, []float64{0, math.Log(3)}, -(0.25*math.Log(0.25) + 0.75*math.Log(0.75))},
		{"two unparsed are two classes", []int{-1, -1, 0, 0}, nil, -(0.5*math.Log(0.5) + 2*0.25*math.Log(0.25))},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got, err := SemanticEntropy(c.classes, c.w); err != nil || math.Abs(got-c.want) > 1e-15 {
				t.Errorf("SemanticEntropy = %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

func TestConsistencyErrors(t *testing.T) {
	if _, err := SelfConsistency(0, nil); !errors.Is(err, ErrNoSamples) {
		t.Errorf("K=0: %v, want ErrNoSamples", err)
	}
	if _, err := SelfConsistency(NoAnswer, []int{0, 1}); !errors.Is(err, ErrNoAnswer) {
		t.Errorf("unparsed r0: %v, want ErrNoAnswer", err)
	}
	for _, c := range []struct {
		name    string
		classes []int
		w       []float64
		want    error
	}{
		{"no traces", nil, nil, ErrNoSamples},
		{"all unparsed", []int{-1, -1, -1}, nil, ErrNoAnswer},
		{"weights of another length", []int{0, 1}, []float64{0}, ErrInvalid},
		{"NaN weight", []int{0, 1}, []float64{0, math.NaN()}, ErrNonFinite},
		{"-Inf weight", []int{0, 1}, []float64{0, math.Inf(-1)}, ErrNonFinite},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := SemanticEntropy(c.classes, c.w); !errors.Is(err, c.want) {
				t.Errorf("SemanticEntropy error = %v, want %v", err, c.want)
			}
			if c.w != nil {
				if _, err := SemanticEntropyMC(c.classes, c.w); !errors.Is(err, c.want) {
					t.Errorf("SemanticEntropyMC error = %v, want %v", err, c.want)
				}
			}
		})
	}
	if _, err := SemanticEntropyMC([]int{0}, nil); !errors.Is(err, ErrMissing) {
		t.Errorf("SemanticEntropyMC without log-probabilities: %v, want ErrMissing", err)
	}
}

func TestMajorityNoParsed(t *testing.T) {
	if c, s := Majority(0, []int{-1, -2}); c != NoAnswer || s != 0 {
		t.Errorf("Majority of unparsed = %d, %v; want NoAnswer, 0", c, s)
	}
	if NumSemSets(nil) != 0 || NumSemSets([]int{-1, -1, 3, 3, 2}) != 4 {
		t.Errorf("NumSemSets: got %d and %d, want 0 and 4", NumSemSets(nil), NumSemSets([]int{-1, -1, 3, 3, 2}))
	}
}
