package eval_test

import (
	"errors"
	"math"
	"testing"

	"github.com/labelfree/labelfree/eval"
)

// TestAUCPerGeneSkipped checks a hand-sized case: gene a has both labels,
// b only positives and c only negatives, so b and c are skipped and the
// mean is a's AUC. a: positives score 0.8 and 0.4, negatives 0.4 and 0.1;
// of the 4 pairs, 3 are won and one tied: AUC = 3.5/4.
func TestAUCPerGeneSkipped(t *testing.T) {
	gene := []string{"a", "b", "a", "c", "a", "b", "a", "c"}
	score := []float64{0.8, 0.9, 0.4, 0.3, 0.4, 0.2, 0.1, 0.7}
	pos := []bool{true, true, true, false, false, true, false, false}
	got, err := eval.AUCPerGene(gene, score, pos)
	if err != nil {
		t.Fatal(err)
	}
	if got.Mean != 0.875 || got.Skipped != 2 || len(got.Genes) != 1 {
		t.Fatalf("got mean %v, skipped %d, %d genes; want 0.875, 2, 1", got.Mean, got.Skipped, len(got.Genes))
	}
	if g := got.Genes[0]; g != (eval.GeneScore{Gene: "a", AUC: 0.875, N: 4, Positive: 2}) {
		t.Errorf("gene a = %+v", g)
	}
}

func TestAUCPerGeneErrors(t *testing.T) {
	tests := []struct {
		name  string
		gene  []string
		score []float64
		pos   []bool
		want  error
	}{
		{"empty", nil, nil, nil, eval.ErrEmpty},
		{"lengths", []string{"a"}, []float64{1, 2}, []bool{true}, eval.ErrInvalid},
		{"NaN", []string{"a", "a"}, []float64{math.NaN(), 1}, []bool{true, false}, eval.ErrInvalid},
		// The official code returns np.mean([]) = NaN here.
		{"every gene skipped", []string{"a", "b", "a"}, []float64{1, 2, 3}, []bool{true, false, true}, eval.ErrUndefined},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := eval.AUCPerGene(tt.gene, tt.score, tt.pos); !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVoteScores(t *testing.T) {
	tests := []struct {
		name    string
		v       eval.Votes
		de, dir float64
	}{
		{"unanimous none", eval.Votes{"none": 5}, 0, 0.5},
		{"mixed", eval.Votes{"up": 2, "down": 1, "none": 1}, 0.75, 2.0 / 3},
		// Unparsed traces are left out: 3 parsed, 2 of them DE.
		{"unparsed left out", eval.Votes{"up": 1, "down": 1, "none": 1, "": 3}, 2.0 / 3, 0.5},
		{"nothing parsed", eval.Votes{"": 4}, 0.5, 0.5},
		{"r0 only, down", eval.Votes{"down": 1}, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := eval.DEScore(tt.v); !near(got, tt.de) {
				t.Errorf("DEScore = %v, want %v", got, tt.de)
			}
			if got := eval.DirectionScore(tt.v); !near(got, tt.dir) {
				t.Errorf("DirectionScore = %v, want %v", got, tt.dir)
			}
		})
	}
}

func TestSplitPerturbID(t *testing.T) {
	cell, pert, gene, err := eval.SplitPerturbID("k562_set/AARS/6-dysregulated lncRNA/antisense transcripts")
	if err != nil || cell != "k562_set" || pert != "AARS" || gene != "6-dysregulated lncRNA/antisense transcripts" {
		t.Errorf("got %q %q %q %v", cell, pert, gene, err)
	}
	for _, bad := range []string{"", "k562", "k562/AARS", "k562//G", "/AARS/G", "k562/AARS/"} {
		if _, _, _, err := eval.SplitPerturbID(bad); !errors.Is(err, eval.ErrInvalid) {
			t.Errorf("SplitPerturbID(%q) error %v, want ErrInvalid", bad, err)
		}
	}
}

func TestPerturbQAAUCCells(t *testing.T) {
	// The same gene name in two cell lines is two genes: G in k562 has
	// both DE labels, G in rpe1 only one, so rpe1/G is skipped for DE.
	ids := []string{"k562/P1/G", "k562/P2/G", "rpe1/P1/G", "rpe1/P2/G"}
	gold := []string{"up", "none", "down", "up"}
	votes := []eval.Votes{{"up": 3}, {"none": 3}, {"down": 2, "up": 1}, {"up": 3}}
	got, err := eval.PerturbQAAUC(ids, gold, votes)
	if err != nil {
		t.Fatal(err)
	}
	if got.DEErr != nil || got.DE.Mean != 1 || got.DE.Skipped != 1 || got.DE.Genes[0].Gene != "k562/G" {
		t.Errorf("DE = %+v, %v; want k562/G alone with AUC 1", got.DE, got.DEErr)
	}
	// Direction: only rpe1/G has both; up scores 1, down scores 1/3.
	if got.DirectionErr != nil || got.Direction.Mean != 1 || got.Direction.Skipped != 1 {
		t.Errorf("direction = %+v, %v; want one gene with AUC 1, one skipped", got.Direction, got.DirectionErr)
	}

	// No DE item at all: the direction task is undefined, not an error.
	got, err = eval.PerturbQAAUC([]string{"k562/P1/G", "k562/P2/G"}, []string{"none", "none"}, []eval.Votes{{}, {}})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(got.DirectionErr, eval.ErrUndefined) || !errors.Is(got.DEErr, eval.ErrUndefined) {
		t.Errorf("errors %v, %v; want ErrUndefined for both", got.DEErr, got.DirectionErr)
	}

	if _, err := eval.PerturbQAAUC([]string{"k562/P1/G"}, []string{"sideways"}, []eval.Votes{{}}); !errors.Is(err, eval.ErrUnknownLabel) {
		t.Errorf("unknown gold: error %v", err)
	}
	if _, err := eval.PerturbQAAUC([]string{"q0001"}, []string{"up"}, []eval.Votes{{}}); !errors.Is(err, eval.ErrInvalid) {
		t.Errorf("bad id: error %v", err)
	}
}
