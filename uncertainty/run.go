package uncertainty

import (
	"context"
	"fmt"
	"iter"
	"runtime"

	"golang.org/x/sync/errgroup"
)

// GroupError is an estimator's error on one group of Batch.
type GroupError struct {
	Index     int    // the group's index in the batch
	ID        string // the group's ID
	Estimator string // the estimator's name
	Err       error
}

func (e *GroupError) Error() string {
	return fmt.Sprintf("uncertainty: group %d (%q), %s: %v", e.Index, e.ID, e.Estimator, e.Err)
}

// Unwrap returns the estimator's error.
func (e *GroupError) Unwrap() error { return e.Err }

// Batch scores every group with every estimator on up to workers goroutines
// (workers <= 0 means GOMAXPROCS) and stores group i's score under
// estimator j in dst[i*len(es)+j].
//
// With errs nil, the first estimator error stops the batch and is returned
// as a *GroupError. With errs non-nil, each error is stored in the cell of
// errs that matches dst (its score is then zero), the batch goes on, and
// only the context's error is returned. Batch allocates nothing per group
// beyond what the estimators do. The estimators must be safe for concurrent
// use. It panics if len(dst), or a non-nil errs's length, is not
// len(groups)*len(es).
func Batch(ctx context.Context, dst []Score, errs []error, groups []Group, es []Estimator, workers int) error {
	n := len(groups) * len(es)
	if len(dst) != n || errs != nil && len(errs) != n {
		panic("uncertainty: Batch: len(dst) or len(errs) != len(groups)*len(es)")
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(groups)))
	eg, ctx := errgroup.WithContext(ctx)
	for w := range workers {
		lo, hi := len(groups)*w/workers, len(groups)*(w+1)/workers
		eg.Go(func() error {
			for i := lo; i < hi; i++ {
				if (i-lo)%1024 == 0 {
					if err := ctx.Err(); err != nil {
						return err
					}
				}
				g := &groups[i]
				for j, e := range es {
					s, err := estimate(e, g)
					dst[i*len(es)+j] = s
					if err != nil {
						if errs == nil {
							return &GroupError{Index: i, ID: g.ID, Estimator: e.Name(), Err: err}
						}
						errs[i*len(es)+j] = err
					}
				}
			}
			return nil
		})
	}
	return eg.Wait()
}

// Stream scores groups one at a time, as they come from the sequence, and
// calls fn with each group, its scores under es (in order) and the
// estimators' errors (nil where the estimator succeeded). Stream holds only
// the current group: the sequence may reuse one *Group for every element,
// and fn's slices are reused between calls, so copy what you keep. It stops
// at and returns the first error of the sequence or of fn; estimator errors
// go to fn and do not stop it.
func Stream(groups iter.Seq2[*Group, error], es []Estimator, fn func(g *Group, scores []Score, errs []error) error) error {
	scores := make([]Score, len(es))
	errs := make([]error, len(es))
	for g, err := range groups {
		if err != nil {
			return err
		}
		for j, e := range es {
			scores[j], errs[j] = estimate(e, g)
		}
		if err := fn(g, scores, errs); err != nil {
			return err
		}
	}
	return nil
}
