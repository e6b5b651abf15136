package ordered

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"
)

// jitter sleeps up to 200 µs, so that workers finish out of order.
func jitter(i int) {
	time.Sleep(time.Duration(rand.N(200)) * time.Microsecond)
}

func TestRunOrder(t *testing.T) {
	for _, workers := range []int{0, 1, 2, 7} {
		const n = 500
		var got []int
		squares := make([]int, n)
		err := Run(t.Context(), workers, func(emit func(int) bool) error {
			for i := range n {
				if !emit(i) {
					t.Error("emit refused a batch of a run that was not stopped")
				}
			}
			return nil
		}, func() func(int) {
			return func(i int) {
				jitter(i)
				squares[i] = i * i
			}
		}, func(i int) bool {
			if squares[i] != i*i {
				t.Errorf("batch %d consumed before its work", i)
			}
			got = append(got, i)
			return true
		})
		if err != nil || len(got) != n {
			t.Fatalf("%d workers: %v, %d batches consumed", workers, err, len(got))
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("%d workers: batch %d consumed in place %d", workers, v, i)
			}
		}
	}
}

func TestRunProduceError(t *testing.T) {
	bad := errors.New("read error")
	var consumed int
	err := Run(t.Context(), 3, func(emit func(int) bool) error {
		for i := range 10 {
			emit(i)
		}
		return bad
	}, func() func(int) { return jitter }, func(int) bool { consumed++; return true })
	if err != bad || consumed != 10 {
		t.Errorf("Run = %v after %d batches, want the produce error after all 10", err, consumed)
	}
}

// TestRunStops checks that a stopped Run ended its goroutines: produce saw emit
// refuse and returned, and no work runs after Run returned.
func TestRunStops(t *testing.T) {
	for _, how := range []string{"consume", "cancel"} {
		t.Run(how, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var refused, returned atomic.Bool
			var working atomic.Int32
			var consumed int
			err := Run(ctx, 2, func(emit func(int) bool) error {
				defer returned.Store(true)
				for i := 0; ; i++ {
					if !emit(i) {
						refused.Store(true)
						return nil
					}
				}
			}, func() func(int) {
				return func(i int) {
					working.Add(1)
					jitter(i)
					working.Add(-1)
				}
			}, func(i int) bool {
				consumed++
				if i == 20 {
					if how == "cancel" {
						cancel()
						return true
					}
					return false
				}
				return true
			})
			switch {
			case how == "consume" && err != nil:
				t.Errorf("Run = %v, want nil when consume stops it", err)
			case how == "cancel" && !errors.Is(err, context.Canceled):
				t.Errorf("Run = %v, want the context's error", err)
			}
			if !refused.Load() || !returned.Load() || working.Load() != 0 {
				t.Errorf("after Run: emit refused %v, produce returned %v, %d works running", refused.Load(), returned.Load(), working.Load())
			}
			if consumed != 21 {
				t.Errorf("%d batches consumed, want 21 (none after the stop)", consumed)
			}
		})
	}
}
