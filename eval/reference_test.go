package eval_test

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/labelfree/labelfree/eval"
	"github.com/labelfree/labelfree/uncertainty"
)

// reference is testdata/reference.json: values computed from the metrics'
// definitions by testdata/reference.py (Python standard library, not the
// Go code), and checked against scikit-learn 1.2.1 and PerturbQA's own
// auc_per_gene by testdata/sklearn_check.py.
type reference struct {
	Labels         []string `json:"labels"`
	Classification []struct {
		Name string   `json:"name"`
		Pred []string `json:"pred"`
		Gold []string `json:"gold"`
		Want struct {
			PerClass []struct {
				Label                 string
				TP, Support           int
				Predicted             int
				Precision, Recall, F1 float64
			} `json:"per_class"`
			Confusion      [][]int `json:"confusion"`
			Accuracy       float64 `json:"accuracy"`
			MacroPrecision float64 `json:"macro_precision"`
			MacroRecall    float64 `json:"macro_recall"`
			MacroF1        float64 `json:"macro_f1"`
			Unparsed       int     `json:"unparsed"`
		} `json:"want"`
	} `json:"classification"`
	AUC []struct {
		Score    []float64 `json:"score"`
		Positive []bool    `json:"positive"`
		Want     float64   `json:"want"`
	} `json:"auc"`
	AUCPerGene []struct {
		Name     string    `json:"name"`
		Genes    []string  `json:"genes"`
		Score    []float64 `json:"score"`
		Positive []bool    `json:"positive"`
		Want     geneWant  `json:"want"`
	} `json:"auc_per_gene"`
	PerturbQA []struct {
		IDs       []string         `json:"ids"`
		Gold      []string         `json:"gold"`
		Votes     []map[string]int `json:"votes"`
		DEScores  []float64        `json:"de_scores"`
		DirScores []float64        `json:"dir_scores"`
		DE        geneWant         `json:"de"`
		Direction geneWant         `json:"direction"`
	} `json:"perturbqa"`
	Reliability []struct {
		Bins    int       `json:"bins"`
		Values  []float64 `json:"values"`
		Ties    []float64 `json:"ties"`
		Correct []bool    `json:"correct"`
		Want    []struct {
			N, Correct int
			Accuracy   float64
			Lo, Hi     float64
		} `json:"want"`
	} `json:"reliability"`
}

type geneWant struct {
	Mean    float64   `json:"mean"`
	Genes   []string  `json:"genes"`
	AUCs    []float64 `json:"aucs"`
	Skipped int       `json:"skipped"`
}

// tol is the tolerance of float comparisons with the reference: both sides
// compute the same ratios of small integers, up to summation order.
const tol = 1e-12

func loadReference(t *testing.T) *reference {
	t.Helper()
	b, err := os.ReadFile("testdata/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var r reference
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func near(a, b float64) bool { return math.Abs(a-b) <= tol }

func TestClassifyReference(t *testing.T) {
	ref := loadReference(t)
	if len(ref.Classification) == 0 {
		t.Fatal("no classification cases in the reference")
	}
	for _, c := range ref.Classification {
		t.Run(c.Name, func(t *testing.T) {
			got, err := eval.Classify(ref.Labels, c.Pred, c.Gold)
			if err != nil {
				t.Fatal(err)
			}
			w := &c.Want
			if got.N != len(c.Gold) || got.Unparsed != w.Unparsed {
				t.Errorf("N, Unparsed = %d, %d, want %d, %d", got.N, got.Unparsed, len(c.Gold), w.Unparsed)
			}
			for _, f := range []struct {
				name      string
				got, want float64
			}{
				{"accuracy", got.Accuracy, w.Accuracy},
				{"macro precision", got.MacroPrecision, w.MacroPrecision},
				{"macro recall", got.MacroRecall, w.MacroRecall},
				{"macro F1", got.MacroF1, w.MacroF1},
			} {
				if !near(f.got, f.want) {
					t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
				}
			}
			for i, m := range got.PerClass {
				wm := w.PerClass[i]
				if m.Label != wm.Label || m.TP != wm.TP || m.Support != wm.Support || m.Predicted != wm.Predicted {
					t.Errorf("class %d counts = %s tp %d support %d predicted %d, want %s %d %d %d",
						i, m.Label, m.TP, m.Support, m.Predicted, wm.Label, wm.TP, wm.Support, wm.Predicted)
				}
				if !near(m.Precision, wm.Precision) || !near(m.Recall, wm.Recall) || !near(m.F1, wm.F1) {
					t.Errorf("%s P/R/F1 = %v %v %v, want %v %v %v", m.Label, m.Precision, m.Recall, m.F1, wm.Precision, wm.Recall, wm.F1)
				}
			}
			for i, row := range got.Confusion.Counts {
				if !slices.Equal(row, w.Confusion[i]) {
					t.Errorf("confusion row %d = %v, want %v", i, row, w.Confusion[i])
				}
			}
		})
	}
}

func TestAUCPerGeneReference(t *testing.T) {
	ref := loadReference(t)
	for _, c := range ref.AUCPerGene {
		t.Run(c.Name, func(t *testing.T) {
			got, err := eval.AUCPerGene(c.Genes, c.Score, c.Positive)
			if err != nil {
				t.Fatal(err)
			}
			checkGeneAUC(t, "", got, c.Want)
		})
	}
}

func checkGeneAUC(t *testing.T, what string, got eval.GeneAUC, want geneWant) {
	t.Helper()
	if !near(got.Mean, want.Mean) {
		t.Errorf("%smean = %v, want %v", what, got.Mean, want.Mean)
	}
	if got.Skipped != want.Skipped {
		t.Errorf("%sskipped = %d, want %d", what, got.Skipped, want.Skipped)
	}
	if len(got.Genes) != len(want.Genes) {
		t.Fatalf("%s%d genes scored, want %d", what, len(got.Genes), len(want.Genes))
	}
	for i, g := range got.Genes {
		if g.Gene != want.Genes[i] || !near(g.AUC, want.AUCs[i]) {
			t.Errorf("%sgene %d = %s %v, want %s %v", what, i, g.Gene, g.AUC, want.Genes[i], want.AUCs[i])
		}
	}
}

func TestROCAUCReference(t *testing.T) {
	// eval uses uncertainty.ROCAUC per gene; check it against the pairwise
	// definition on scores with ties.
	ref := loadReference(t)
	for i, c := range ref.AUC {
		got, err := uncertainty.ROCAUC(c.Score, c.Positive)
		if err != nil {
			t.Fatal(err)
		}
		if !near(got, c.Want) {
			t.Errorf("case %d: ROC-AUC = %v, want %v", i, got, c.Want)
		}
	}
}

func TestPerturbQAAUCReference(t *testing.T) {
	ref := loadReference(t)
	for _, c := range ref.PerturbQA {
		votes := make([]eval.Votes, len(c.Votes))
		for i, v := range c.Votes {
			votes[i] = v
			if got := eval.DEScore(v); !near(got, c.DEScores[i]) {
				t.Errorf("DEScore(%v) = %v, want %v", v, got, c.DEScores[i])
			}
			if got := eval.DirectionScore(v); !near(got, c.DirScores[i]) {
				t.Errorf("DirectionScore(%v) = %v, want %v", v, got, c.DirScores[i])
			}
		}
		got, err := eval.PerturbQAAUC(c.IDs, c.Gold, votes)
		if err != nil {
			t.Fatal(err)
		}
		if got.DEErr != nil || got.DirectionErr != nil {
			t.Fatalf("errors %v, %v", got.DEErr, got.DirectionErr)
		}
		if c.DE.Skipped == 0 || c.Direction.Skipped == 0 {
			t.Fatalf("the reference case skips %d and %d genes; it should skip some in both tasks", c.DE.Skipped, c.Direction.Skipped)
		}
		checkGeneAUC(t, "DE ", got.DE, c.DE)
		checkGeneAUC(t, "direction ", got.Direction, c.Direction)
	}
}

func TestReliabilityReference(t *testing.T) {
	ref := loadReference(t)
	for _, c := range ref.Reliability {
		scores := make([]uncertainty.Score, len(c.Values))
		for i := range scores {
			scores[i] = uncertainty.Score{Value: c.Values[i], Tiebreak: c.Ties[i]}
		}
		got, err := eval.Reliability(scores, c.Correct, c.Bins)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(c.Want) {
			t.Fatalf("%d bins, want %d", len(got), len(c.Want))
		}
		for i, b := range got {
			w := c.Want[i]
			if b.N != w.N || b.Correct != w.Correct || !near(b.Accuracy, w.Accuracy) || b.Lo != w.Lo || b.Hi != w.Hi {
				t.Errorf("n=%d bins=%d: bin %d = %+v, want %+v", len(c.Values), c.Bins, i, b, w)
			}
		}
	}
}
