package eval_test

import (
	"errors"
	"math"
	"testing"

	"github.com/labelfree/labelfree/eval"
	"github.com/labelfree/labelfree/uncertainty"
)

func scoresOf(values ...float64) []uncertainty.Score {
	s := make([]uncertainty.Score, len(values))
	for i, v := range values {
		s[i] = uncertainty.Score{Value: v}
	}
	return s
}

func TestJudge(t *testing.T) {
	// Perfect ranking: the two wrong answers are the most uncertain.
	// PRR = (1/4)(1 + 1 + 2/3 + 2/4) = 19/24; oracle the same; random 1/2:
	// normalised 1. ROC-AUC 1. RC-AUC = 1 − PRR = 5/24.
	q, err := eval.Judge("x", scoresOf(0.1, 0.2, 0.9, 0.8), []bool{true, true, false, false})
	if err != nil {
		t.Fatal(err)
	}
	if !near(q.PRR, 19.0/24) || !near(q.RiskCoverageAUC, 5.0/24) || q.Wrong != 2 || q.N != 4 {
		t.Errorf("got %+v", q)
	}
	if !q.NormalizedPRR.Defined || !near(q.NormalizedPRR.Value, 1) || !q.ROCAUC.Defined || q.ROCAUC.Value != 1 {
		t.Errorf("normalised PRR %+v, ROC-AUC %+v, want 1 and 1", q.NormalizedPRR, q.ROCAUC)
	}

	// Reversed ranking: ROC-AUC 0, normalised PRR −1 (PRR = (1/4)(0 + 0 +
	// 1/3 + 2/4) = 5/24, random 1/2, oracle 19/24).
	q, err = eval.Judge("x", scoresOf(0.9, 0.8, 0.1, 0.2), []bool{true, true, false, false})
	if err != nil {
		t.Fatal(err)
	}
	if !near(q.NormalizedPRR.Value, -1) || q.ROCAUC.Value != 0 {
		t.Errorf("reversed: normalised PRR %v, ROC-AUC %v, want -1, 0", q.NormalizedPRR, q.ROCAUC)
	}

	// Tie-breaks count: equal values, tie-breaks ordering the wrong answer
	// last.
	s := []uncertainty.Score{{Value: 1, Tiebreak: 0.5}, {Value: 1, Tiebreak: 0.1}}
	q, err = eval.Judge("x", s, []bool{false, true})
	if err != nil {
		t.Fatal(err)
	}
	if q.ROCAUC.Value != 1 {
		t.Errorf("tie-break ignored: ROC-AUC %v, want 1", q.ROCAUC.Value)
	}

	// All right: normalised PRR and ROC-AUC are undefined, not NaN.
	q, err = eval.Judge("x", scoresOf(1, 2, 3), []bool{true, true, true})
	if err != nil {
		t.Fatal(err)
	}
	if q.NormalizedPRR.Defined || q.ROCAUC.Defined || q.PRR != 1 {
		t.Errorf("all right: got %+v", q)
	}

	for _, bad := range []struct {
		name string
		s    []uncertainty.Score
		c    []bool
		want error
	}{
		{"empty", nil, nil, eval.ErrEmpty},
		{"lengths", scoresOf(1), []bool{true, false}, eval.ErrInvalid},
		{"NaN", scoresOf(math.NaN(), 1), []bool{true, false}, eval.ErrInvalid},
	} {
		if _, err := eval.Judge("x", bad.s, bad.c); !errors.Is(err, bad.want) {
			t.Errorf("%s: error %v, want %v", bad.name, err, bad.want)
		}
	}
}

func TestReliabilityEdges(t *testing.T) {
	// Fewer items than bins: one bin per item.
	got, err := eval.Reliability(scoresOf(3, 1, 2), []bool{false, true, true}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Lo != 1 || got[2].Accuracy != 0 {
		t.Errorf("got %+v", got)
	}
	if _, err := eval.Reliability(scoresOf(1), []bool{true}, 0); !errors.Is(err, eval.ErrInvalid) {
		t.Errorf("0 bins: error %v", err)
	}
}

func TestNumberFormat(t *testing.T) {
	if got := eval.Some(0.12345).Format(3); got != "0.123" {
		t.Errorf("Format = %q", got)
	}
	if got := (eval.Number{}).Format(3); got != "" {
		t.Errorf("undefined Format = %q, want empty", got)
	}
}
