//go:build cgo

package llama

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"
)

// stats summarises one row of raw logits (see lf_stats in shim.h).
type stats struct {
	logZ    float64 // log Σ exp(logit): log p(v) = logit_v − logZ
	entropy float64 // nats
	argmax  int32
}

// ErrNonFinite is wrapped by errors reporting a NaN or infinite logit.
var ErrNonFinite = errors.New("llama: non-finite logit")

func cStats(p *C.float, n int) (stats, error) {
	var st C.lf_stats
	if rc := C.lf_row_stats(p, C.int(n), &st); rc != 0 {
		return stats{}, fmt.Errorf("%w at token %d", ErrNonFinite, -1-int(rc))
	}
	return stats{logZ: float64(st.log_z), entropy: float64(st.entropy), argmax: int32(st.argmax)}, nil
}

// rowStats computes the statistics of a Go slice of logits.
func rowStats(logits []float32) (stats, error) {
	if len(logits) == 0 {
		return stats{}, fmt.Errorf("llama: empty logit row")
	}
	return cStats((*C.float)(unsafe.Pointer(&logits[0])), len(logits))
}

// rowsStats computes the statistics of several rows of C logits at once,
// spread over up to threads goroutines (each a cgo call on its own rows).
func rowsStats(rows []*C.float, n, threads int, out []stats) error {
	if len(rows) == 1 || threads <= 1 {
		for i, r := range rows {
			st, err := cStats(r, n)
			if err != nil {
				return err
			}
			out[i] = st
		}
		return nil
	}
	workers := min(threads, len(rows))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(rows); i += workers {
				st, err := cStats(rows[i], n)
				if err != nil {
					errs[w] = err
					return
				}
				out[i] = st
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
