package eval_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/labelfree/labelfree/eval"
)

var labels = []string{"up", "down", "none"}

// TestClassifyHand checks Classify on cases small enough to count by hand,
// the zero_division=0 convention included.
func TestClassifyHand(t *testing.T) {
	tests := []struct {
		name       string
		pred, gold []string
		// want precision, recall, F1 per class (up, down, none), accuracy,
		// macro-F1
		p, r, f       [3]float64
		acc, macro    float64
		wantConfusion [][]int
	}{
		{
			// up: tp 1, fp 1 (gold none), fn 1 (→ unparsed): P 1/2, R 1/2, F1 2/4.
			// down: tp 0, predicted 0, support 1: P 0 (0/0 → 0), R 0, F1 0/1 = 0.
			// none: tp 2, fp 1 (gold down), fn 2 (→ up, → unparsed): P 2/3,
			// R 2/4, F1 4/(4+1+2) = 4/7.
			// accuracy 3/7; macro-F1 (1/2 + 0 + 4/7)/3 = 5/14.
			name:  "unparsed and a class never predicted",
			pred:  []string{"up", "", "up", "none", "none", "none", ""},
			gold:  []string{"up", "up", "none", "none", "none", "down", "none"},
			p:     [3]float64{0.5, 0, 2.0 / 3},
			r:     [3]float64{0.5, 0, 0.5},
			f:     [3]float64{0.5, 0, 4.0 / 7},
			acc:   3.0 / 7,
			macro: 5.0 / 14,
			wantConfusion: [][]int{
				{1, 0, 0, 1},
				{0, 0, 1, 0},
				{1, 0, 2, 1},
			},
		},
		{
			// down is neither predicted nor labelled: F1 0/0 → 0, and it
			// still counts in the macro mean: (1 + 0 + 1)/3.
			name:  "absent class",
			pred:  []string{"up", "none", "none"},
			gold:  []string{"up", "none", "none"},
			p:     [3]float64{1, 0, 1},
			r:     [3]float64{1, 0, 1},
			f:     [3]float64{1, 0, 1},
			acc:   1,
			macro: 2.0 / 3,
			wantConfusion: [][]int{
				{1, 0, 0, 0},
				{0, 0, 0, 0},
				{0, 0, 2, 0},
			},
		},
		{
			// down predicted once, wrongly: P 0/1, R 0/0 → 0; up: tp 0,
			// fp 0, fn 1: P 0/0 → 0.
			name:  "class predicted but never labelled",
			pred:  []string{"down", "none"},
			gold:  []string{"up", "none"},
			p:     [3]float64{0, 0, 1},
			r:     [3]float64{0, 0, 1},
			f:     [3]float64{0, 0, 1},
			acc:   0.5,
			macro: 1.0 / 3,
			wantConfusion: [][]int{
				{0, 1, 0, 0},
				{0, 0, 0, 0},
				{0, 0, 1, 0},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := eval.Classify(labels, tt.pred, tt.gold)
			if err != nil {
				t.Fatal(err)
			}
			for i, m := range got.PerClass {
				if !near(m.Precision, tt.p[i]) || !near(m.Recall, tt.r[i]) || !near(m.F1, tt.f[i]) {
					t.Errorf("%s: P/R/F1 = %v/%v/%v, want %v/%v/%v", m.Label, m.Precision, m.Recall, m.F1, tt.p[i], tt.r[i], tt.f[i])
				}
			}
			if !near(got.Accuracy, tt.acc) || !near(got.MacroF1, tt.macro) {
				t.Errorf("accuracy, macro-F1 = %v, %v, want %v, %v", got.Accuracy, got.MacroF1, tt.acc, tt.macro)
			}
			for i, row := range got.Confusion.Counts {
				if !slices.Equal(row, tt.wantConfusion[i]) {
					t.Errorf("confusion row %s = %v, want %v", labels[i], row, tt.wantConfusion[i])
				}
			}
		})
	}
}

func TestClassifyErrors(t *testing.T) {
	tests := []struct {
		name               string
		labels, pred, gold []string
		want               error
		wantLabel          *eval.LabelError
	}{
		{"no items", labels, nil, nil, eval.ErrEmpty, nil},
		{"lengths", labels, []string{"up"}, []string{"up", "none"}, eval.ErrInvalid, nil},
		{"empty label set", nil, []string{"up"}, []string{"up"}, eval.ErrInvalid, nil},
		{"repeated label", []string{"up", "up"}, []string{"up"}, []string{"up"}, eval.ErrInvalid, nil},
		{"empty label", []string{"up", ""}, []string{"up"}, []string{"up"}, eval.ErrInvalid, nil},
		{"unknown gold", labels, []string{"up", "up"}, []string{"up", "sideways"}, eval.ErrUnknownLabel,
			&eval.LabelError{What: "gold label", Index: 1, Label: "sideways"}},
		{"unparsed gold", labels, []string{"up"}, []string{""}, eval.ErrUnknownLabel,
			&eval.LabelError{What: "gold label", Index: 0, Label: ""}},
		{"unknown prediction", labels, []string{"maybe"}, []string{"up"}, eval.ErrUnknownLabel,
			&eval.LabelError{What: "prediction", Index: 0, Label: "maybe"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := eval.Classify(tt.labels, tt.pred, tt.gold)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if tt.wantLabel != nil {
				var le *eval.LabelError
				if !errors.As(err, &le) || *le != *tt.wantLabel {
					t.Errorf("error %#v, want %#v", err, tt.wantLabel)
				}
			}
		})
	}
}

func ExampleClassify() {
	pred := []string{"up", "none", "none", "", "down"}
	gold := []string{"up", "none", "down", "none", "down"}
	c, err := eval.Classify([]string{"up", "down", "none"}, pred, gold)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range c.PerClass {
		fmt.Printf("%-4s precision %.2f recall %.2f F1 %.2f\n", m.Label, m.Precision, m.Recall, m.F1)
	}
	fmt.Printf("accuracy %.2f, macro-F1 %.2f, unparsed %d\n", c.Accuracy, c.MacroF1, c.Unparsed)
	// Output:
	// up   precision 1.00 recall 1.00 F1 1.00
	// down precision 1.00 recall 0.50 F1 0.67
	// none precision 0.50 recall 0.50 F1 0.50
	// accuracy 0.60, macro-F1 0.72, unparsed 1
}
