package uncertainty

import (
	"errors"
	"fmt"
)

// Sentinel errors. The errors of this package's own checks wrap one of
// them; test with errors.Is.
var (
	// ErrEmpty: a trace, span or input with no tokens or values.
	ErrEmpty = errors.New("uncertainty: empty input")
	// ErrNoSamples: fewer sampled traces than the estimator needs (K = 0, or
	// fewer than two traces for a pairwise mean).
	ErrNoSamples = errors.New("uncertainty: not enough samples")
	// ErrNoAnswer: the answers the estimator compares were not parsed (the
	// greedy trace's for self-consistency, every one for semantic entropy).
	ErrNoAnswer = errors.New("uncertainty: no parsable answer")
	// ErrNonFinite: a NaN or infinite input, e.g. a -Inf log-probability.
	ErrNonFinite = errors.New("uncertainty: non-finite value")
	// ErrMissing: a trace lacks data the estimator reads (entropies, token
	// texts, embeddings).
	ErrMissing = errors.New("uncertainty: missing data")
	// ErrInvalid: inconsistent input, such as slices of different lengths
	// or a similarity outside [0, 1].
	ErrInvalid = errors.New("uncertainty: invalid input")
	// ErrUndefined: a quality metric that the data cannot define, such as
	// ROC-AUC with one class only or normalised PRR with equal qualities.
	ErrUndefined = errors.New("uncertainty: metric undefined")
	// ErrUnknown: no estimator is registered under the name.
	ErrUnknown = errors.New("uncertainty: unknown estimator")
)

// NonFiniteError reports a NaN or infinite value in an input slice. It
// wraps ErrNonFinite.
type NonFiniteError struct {
	What  string  // which input: "log-probability", "entropy", "similarity", ...
	Index int     // position in that input
	Value float64 // the value found
}

func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("uncertainty: %s %d is %v", e.What, e.Index, e.Value)
}

// Unwrap returns ErrNonFinite.
func (e *NonFiniteError) Unwrap() error { return ErrNonFinite }

// checkFinite returns a *NonFiniteError for the first NaN or ±Inf in x.
func checkFinite(what string, x []float64) error {
	for i, v := range x {
		if v-v != 0 { // NaN and ±Inf, without a call per element
			return &NonFiniteError{What: what, Index: i, Value: v}
		}
	}
	return nil
}

// finite reports whether v is neither NaN nor ±Inf.
func finite(v float64) bool { return v-v == 0 }
