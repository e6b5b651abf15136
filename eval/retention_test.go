package eval_test

import (
	"errors"
	"testing"

	"github.com/labelfree/labelfree/eval"
)

// TestNewPoint checks a selection counted by hand. Eligible groups (pred,
// gold): 0 up/up, 1 up/none, 2 down/down, 3 down/up, 4 none/none,
// 5 none/down, 6 none/none, 7 none/none. Kept: 0, 1, 2, 4, 5.
//
//	up:   eligible 2, kept 2 (share 1);  kept answering up: 0 right, 1 wrong → accuracy 1/2;
//	      F1: tp 1, predicted 2, support among kept 1 (item 0) → 2/3
//	down: eligible 2, kept 1 (share 1/2); item 2 right → accuracy 1;
//	      F1: tp 1, predicted 1, support 2 (items 2, 5) → 2/3
//	none: eligible 4, kept 2 (share 1/2); item 4 right, 5 wrong → accuracy 1/2;
//	      F1: tp 1, predicted 2, support 2 (items 1, 4) → 1/2
//	overall accuracy 3/5, macro-F1 (2/3 + 2/3 + 1/2)/3 = 11/18, balance (1/2)/1.
func j(pred, gold string) eval.Judged { return eval.Judged{Pred: pred, Gold: gold} }

func TestNewPoint(t *testing.T) {
	el := []eval.Judged{
		j("up", "up"), j("up", "none"), j("down", "down"), j("down", "up"),
		j("none", "none"), j("none", "down"), j("none", "none"), j("none", "none"),
	}
	p, err := eval.NewPoint(labels, 0.5, el, []int{0, 1, 2, 4, 5})
	if err != nil {
		t.Fatal(err)
	}
	want := []eval.ClassPoint{
		{Label: "up", Eligible: 2, Kept: 2, Retained: eval.Some(1), Accuracy: eval.Some(0.5), F1: 2.0 / 3, Recall: 1},
		{Label: "down", Eligible: 2, Kept: 1, Retained: eval.Some(0.5), Accuracy: eval.Some(1), F1: 2.0 / 3, Recall: 0.5},
		{Label: "none", Eligible: 4, Kept: 2, Retained: eval.Some(0.5), Accuracy: eval.Some(0.5), F1: 0.5, Recall: 0.5},
	}
	for i, c := range p.Classes {
		w := want[i]
		if c.Label != w.Label || c.Eligible != w.Eligible || c.Kept != w.Kept || c.Retained != w.Retained ||
			c.Accuracy != w.Accuracy || !near(c.F1, w.F1) || !near(c.Recall, w.Recall) {
			t.Errorf("class %s = %+v, want %+v", w.Label, c, w)
		}
	}
	if p.Kept != 5 || p.Eligible != 8 || !near(p.Accuracy, 0.6) || !near(p.MacroF1, 11.0/18) {
		t.Errorf("point = kept %d of %d, accuracy %v, macro-F1 %v", p.Kept, p.Eligible, p.Accuracy, p.MacroF1)
	}
	if b := p.Balance(); b != eval.Some(0.5) {
		t.Errorf("balance %+v, want 0.5", b)
	}

	// Nothing kept: accuracy and balance undefined per class and overall.
	p, err = eval.NewPoint(labels, 0.1, el, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Balance().Defined || p.Classes[0].Accuracy.Defined || !p.Classes[0].Retained.Defined {
		t.Errorf("empty selection: %+v", p)
	}

	for _, keep := range [][]int{{0, 0}, {8}, {-1}} {
		if _, err := eval.NewPoint(labels, 0.5, el, keep); !errors.Is(err, eval.ErrInvalid) {
			t.Errorf("keep %v: error %v, want ErrInvalid", keep, err)
		}
	}
	if _, err := eval.NewPoint(labels, 0.5, []eval.Judged{j("", "up")}, nil); !errors.Is(err, eval.ErrUnknownLabel) {
		t.Errorf("unparsed eligible: error %v, want ErrUnknownLabel", err)
	}
}

func TestDefaultFractions(t *testing.T) {
	f := eval.DefaultFractions()
	if len(f) != 20 || f[0] != 0.05 || f[5] != 0.3 || f[19] != 1 {
		t.Errorf("DefaultFractions = %v", f)
	}
}
