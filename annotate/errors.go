package annotate

import (
	"errors"
	"strconv"
)

// Sentinel errors. The errors of this package wrap one of them; test with
// errors.Is.
var (
	// ErrEmpty: no items to compare.
	ErrEmpty = errors.New("annotate: empty input")
	// ErrInvalid: inconsistent input, such as slices of different lengths,
	// a NaN where a value is required, or a rating that fails validation.
	ErrInvalid = errors.New("annotate: invalid input")
	// ErrNoPairs: no unit was rated by two or more coders, so agreement
	// has nothing to be computed from.
	ErrNoPairs = errors.New("annotate: no pairable values")
	// ErrNoVariation: every value is the same (or a rank correlation has a
	// constant side), so the chance agreement is perfect and the
	// coefficient is 0/0.
	ErrNoVariation = errors.New("annotate: no variation")
)

// LineError reports a bad line of a ratings file.
type LineError struct {
	File string // the file's name as the caller gave it
	Line int    // 1-based
	Err  error  // what is wrong
}

// Error returns "annotate: file:line: what is wrong".
func (e *LineError) Error() string {
	return "annotate: " + e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Err.Error()
}

// Unwrap returns e.Err.
func (e *LineError) Unwrap() error { return e.Err }
