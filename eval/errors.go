package eval

import (
	"errors"
	"fmt"
)

// Sentinel errors. The errors of this package wrap one of them; test with
// errors.Is.
var (
	// ErrEmpty: no items to evaluate.
	ErrEmpty = errors.New("eval: no items")
	// ErrInvalid: inconsistent input, such as slices of different lengths,
	// a label set with a repeated or empty label, or a fraction outside
	// (0, 1].
	ErrInvalid = errors.New("eval: invalid input")
	// ErrUnknownLabel: a gold label or a prediction that is not in the label
	// set (an unparsed prediction, "", is allowed; a gold label must be
	// known).
	ErrUnknownLabel = errors.New("eval: label not in the label set")
	// ErrUndefined: a metric that the data cannot define, such as
	// auc_per_gene when no gene has both labels.
	ErrUndefined = errors.New("eval: metric undefined")
)

// LabelError reports an item whose gold label or prediction is not in the
// label set. It wraps ErrUnknownLabel.
type LabelError struct {
	What  string // "gold label" or "prediction"
	Index int    // the item's position in the input
	Label string // the label found
}

func (e *LabelError) Error() string {
	return fmt.Sprintf("eval: %s %d is %q, not in the label set", e.What, e.Index, e.Label)
}

// Unwrap returns ErrUnknownLabel.
func (e *LabelError) Unwrap() error { return ErrUnknownLabel }
