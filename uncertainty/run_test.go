package uncertainty

import (
	"context"
	"errors"
	"iter"
	"math"
	"math/rand/v2"
	"testing"
)

// TestBatchMatchesSequential: Batch on several workers stores exactly what
// calling each estimator in turn gives, errors included.
func TestBatchMatchesSequential(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	groups := make([]Group, 300)
	for i := range groups {
		groups[i] = randomGroup(r, r.IntN(5)) // K = 0 gives errors
		groups[i].ID = string(rune('A' + i%26))
	}
	groups[7].Greedy.OK = false
	es, err := NewAll(nil, stableNames...)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]Score, len(groups)*len(es))
	errs := make([]error, len(dst))
	if err := Batch(t.Context(), dst, errs, groups, es, 3); err != nil {
		t.Fatal(err)
	}
	nerr := 0
	for i := range groups {
		for j, e := range es {
			want, werr := e.Estimate(&groups[i])
			k := i*len(es) + j
			if dst[k] != want || (errs[k] == nil) != (werr == nil) {
				t.Fatalf("group %d, %s: Batch %+v, %v; sequential %+v, %v", i, e.Name(), dst[k], errs[k], want, werr)
			}
			if werr != nil {
				nerr++
			}
		}
	}
	if nerr == 0 {
		t.Fatal("no estimator errors: the test does not cover error cells")
	}
	// Without errs, the first error stops the batch as a *GroupError.
	err = Batch(t.Context(), dst, nil, groups, es, 2)
	var ge *GroupError
	if !errors.As(err, &ge) || ge.Err == nil || ge.Estimator == "" {
		t.Errorf("Batch without errs: %v, want a *GroupError", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := Batch(ctx, dst, errs, groups, es, 2); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Batch: %v, want context.Canceled", err)
	}
}

// nanEstimator returns NaN without an error; Batch and Stream must turn it
// into ErrNonFinite.
type nanEstimator struct{}

func (nanEstimator) Name() string                   { return "test-nan" }
func (nanEstimator) Estimate(*Group) (Score, error) { return Score{Value: math.NaN()}, nil }

func TestNaNNeverRanked(t *testing.T) {
	groups := []Group{{}}
	dst, errs := make([]Score, 1), make([]error, 1)
	if err := Batch(t.Context(), dst, errs, groups, []Estimator{nanEstimator{}}, 1); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(errs[0], ErrNonFinite) || math.IsNaN(dst[0].Value) {
		t.Errorf("Batch of a NaN estimator: %+v, %v; want ErrNonFinite", dst[0], errs[0])
	}
	err := Stream(func(yield func(*Group, error) bool) { yield(&Group{}, nil) }, []Estimator{nanEstimator{}},
		func(_ *Group, s []Score, errs []error) error {
			if !errors.Is(errs[0], ErrNonFinite) || math.IsNaN(s[0].Value) {
				t.Errorf("Stream of a NaN estimator: %+v, %v; want ErrNonFinite", s[0], errs[0])
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
}

// summaryGroups yields n groups of K = 8 traces with precomputed summaries,
// all in one reused Group: a stream that holds one group at a time.
func summaryGroups(n int, seed uint64) iter.Seq2[*Group, error] {
	return func(yield func(*Group, error) bool) {
		r := rand.New(rand.NewPCG(seed, seed))
		g := &Group{Samples: make([]Trace, 8)}
		for range n {
			fillSummary(r, &g.Greedy)
			for j := range g.Samples {
				fillSummary(r, &g.Samples[j])
			}
			if !yield(g, nil) {
				return
			}
		}
	}
}

func fillSummary(r *rand.Rand, t *Trace) {
	n := 200 + r.IntN(800)
	t.Summary = Summary{N: n, SumLogProb: -float64(n) * r.Float64(), Entropy: true,
		SumEntropy: float64(n) * 2 * r.Float64(), MaxEntropy: 5}
	t.Answer, t.OK = answers[r.IntN(len(answers))], r.IntN(10) > 0
}

// TestStreamMemory: Stream's allocations do not grow with the number of
// groups (it holds one at a time), and the fast estimators allocate
// nothing per group.
func TestStreamMemory(t *testing.T) {
	es, err := NewAll(nil, "self-consistency", "cocoa-ppl", "mte")
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	fn := func(_ *Group, s []Score, _ []error) error { sum += s[0].Value; return nil }
	allocs := func(n int) float64 {
		seq := summaryGroups(n, 1)
		return testing.AllocsPerRun(5, func() {
			if err := Stream(seq, es, fn); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := allocs(10), allocs(10_000)
	if large != small {
		t.Errorf("Stream allocations grow with the groups: %v for 10, %v for 10,000", small, large)
	}
	g := &Group{Samples: make([]Trace, 8)}
	r := rand.New(rand.NewPCG(2, 2))
	fillSummary(r, &g.Greedy)
	for j := range g.Samples {
		fillSummary(r, &g.Samples[j])
	}
	g.Greedy.OK = true
	if a := testing.AllocsPerRun(100, func() {
		for _, e := range es {
			if _, err := e.Estimate(g); err != nil {
				t.Fatal(err)
			}
		}
	}); a != 0 {
		t.Errorf("self-consistency + cocoa-ppl + mte allocate %v times per group, want 0", a)
	}
	boom := errors.New("boom")
	failing := func(yield func(*Group, error) bool) { yield(nil, boom) }
	if err := Stream(failing, es, fn); !errors.Is(err, boom) {
		t.Errorf("Stream with a failing sequence: %v", err)
	}
	if err := Stream(summaryGroups(3, 1), es, func(*Group, []Score, []error) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Stream with a failing callback: %v", err)
	}
}
