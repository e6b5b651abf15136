package eval

import (
	"fmt"
)

// Unparsed is the prediction of an item whose answer could not be parsed:
// the empty string, as sampling.Answer.Class holds it. It counts as wrong,
// is no class of the label set, and has its own column in a Confusion.
const Unparsed = ""

// Confusion is a confusion matrix over a fixed label set. Row i counts the
// items whose gold label is Labels[i]; column j < len(Labels) those
// predicted Labels[j], and column len(Labels) those whose prediction was
// Unparsed.
type Confusion struct {
	// Labels is the label set, in the order of rows and columns.
	Labels []string
	// Counts has len(Labels) rows of len(Labels)+1 columns.
	Counts [][]int
}

// NewConfusion counts pred against gold over the label set labels. gold[i]
// must be one of labels; pred[i] one of labels or Unparsed. Errors:
// ErrEmpty for no items, ErrInvalid for slices of different lengths or a
// label set that is empty or has an empty or repeated label, and a
// *LabelError for a label outside the set.
func NewConfusion(labels, pred, gold []string) (*Confusion, error) {
	index, err := labelIndex(labels)
	if err != nil {
		return nil, err
	}
	if len(pred) != len(gold) {
		return nil, fmt.Errorf("%w: %d predictions for %d gold labels", ErrInvalid, len(pred), len(gold))
	}
	if len(gold) == 0 {
		return nil, ErrEmpty
	}
	c := &Confusion{Labels: append([]string(nil), labels...), Counts: make([][]int, len(labels))}
	for i := range c.Counts {
		c.Counts[i] = make([]int, len(labels)+1)
	}
	for i, g := range gold {
		row, ok := index[g]
		if !ok {
			return nil, &LabelError{What: "gold label", Index: i, Label: g}
		}
		col := len(labels)
		if p := pred[i]; p != Unparsed {
			if col, ok = index[p]; !ok {
				return nil, &LabelError{What: "prediction", Index: i, Label: p}
			}
		}
		c.Counts[row][col]++
	}
	return c, nil
}

// labelIndex maps each label to its position, checking the set.
func labelIndex(labels []string) (map[string]int, error) {
	if len(labels) == 0 {
		return nil, fmt.Errorf("%w: empty label set", ErrInvalid)
	}
	index := make(map[string]int, len(labels))
	for i, l := range labels {
		if l == Unparsed {
			return nil, fmt.Errorf("%w: empty label %d in the label set", ErrInvalid, i)
		}
		if _, dup := index[l]; dup {
			return nil, fmt.Errorf("%w: label %q twice in the label set", ErrInvalid, l)
		}
		index[l] = i
	}
	return index, nil
}

// N returns the number of items counted.
func (c *Confusion) N() int {
	n := 0
	for _, row := range c.Counts {
		for _, v := range row {
			n += v
		}
	}
	return n
}

// ClassMetrics are the one-vs-rest metrics of one class.
type ClassMetrics struct {
	// Label is the class.
	Label string
	// Support is the number of items whose gold label is Label.
	Support int
	// Predicted is the number of items predicted Label.
	Predicted int
	// TP is the number of items both predicted and labelled Label.
	TP int
	// Precision is TP/Predicted, 0 when nothing is predicted Label.
	Precision float64
	// Recall is TP/Support, 0 when no item is labelled Label.
	Recall float64
	// F1 is 2TP/(2TP+FP+FN) = 2TP/(Predicted+Support), 0 when the class
	// is neither predicted nor labelled.
	F1 float64
}

// Classification holds the classification metrics of a set of predictions
// over a fixed label set.
type Classification struct {
	// Confusion is the confusion matrix the metrics are computed from.
	Confusion *Confusion
	// PerClass has the metrics of each label, in the order of the label set.
	PerClass []ClassMetrics
	// N is the number of items, Unparsed the number of them whose
	// prediction is Unparsed.
	N, Unparsed int
	// Accuracy is the share of items whose prediction equals the gold
	// label; an unparsed prediction is wrong.
	Accuracy float64
	// MacroPrecision, MacroRecall and MacroF1 are the unweighted means of
	// the per-class values over every label of the set, classes absent from
	// the data included (with their value 0).
	MacroPrecision, MacroRecall, MacroF1 float64
}

// Classify returns the classification metrics of pred against gold over
// the label set labels. Per class c, with TP, FP and FN counted one class
// against the rest,
//
//	precision = TP/(TP+FP)   recall = TP/(TP+FN)   F1 = 2TP/(2TP+FP+FN)
//
// A ratio whose denominator is zero is 0: sklearn's zero_division=0
// convention, so a class nobody predicts has precision 0 and a class no
// item carries has recall 0, and a class absent from both has F1 0 and
// still counts in the macro means. The values are those of sklearn's
//
//	precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
//	accuracy_score(gold, pred)
//
// with unparsed predictions written as a value outside labels: they count
// as a false negative of their gold class, as a false positive of none,
// and as wrong.
//
// The errors are those of NewConfusion.
func Classify(labels, pred, gold []string) (*Classification, error) {
	c, err := NewConfusion(labels, pred, gold)
	if err != nil {
		return nil, err
	}
	return c.Metrics(), nil
}

// Metrics returns the classification metrics that c counts; see Classify.
// It panics if c counts no item.
func (c *Confusion) Metrics() *Classification {
	k := len(c.Labels)
	r := &Classification{Confusion: c, PerClass: make([]ClassMetrics, k), N: c.N()}
	if r.N == 0 {
		panic("eval: Metrics of an empty confusion matrix")
	}
	correct := 0
	for i, row := range c.Counts {
		m := &r.PerClass[i]
		m.Label = c.Labels[i]
		m.TP = row[i]
		correct += row[i]
		for j, v := range row {
			m.Support += v
			if j < k {
				r.PerClass[j].Predicted += v
			}
		}
		r.Unparsed += row[k]
	}
	for i := range r.PerClass {
		m := &r.PerClass[i]
		m.Precision = ratio(m.TP, m.Predicted)
		m.Recall = ratio(m.TP, m.Support)
		m.F1 = ratio(2*m.TP, m.Predicted+m.Support)
		r.MacroPrecision += m.Precision
		r.MacroRecall += m.Recall
		r.MacroF1 += m.F1
	}
	r.MacroPrecision /= float64(k)
	r.MacroRecall /= float64(k)
	r.MacroF1 /= float64(k)
	r.Accuracy = float64(correct) / float64(r.N)
	return r
}

// ratio returns a/b, 0 when b is 0 (zero_division=0).
func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
