//go:build cgo

package llama

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"fmt"
	"unsafe"
)

// Score returns, for each request, the log-probability and entropy of every
// continuation token given the prompt and the continuation before it
// (teacher forcing): the numbers Generate would have reported had the model
// produced that continuation itself. This is how traces from any other
// teacher (an API, a file) get exact token log-probabilities.
//
// Requests are packed side by side, one sequence each, up to the session's
// Sequences and context at a time, so a session with Sequences > 1 scores
// many short texts per decode. The cache is cleared first and left empty.
// ctx is checked between decode calls.
func (s *Session) Score(ctx context.Context, reqs []ScoreRequest) ([][]Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p == nil {
		return nil, ErrClosed
	}
	for i, r := range reqs {
		if len(r.Prompt) == 0 || len(r.Continuation) == 0 {
			return nil, fmt.Errorf("llama: score: request %d: prompt and continuation must both be non-empty", i)
		}
		all := append(append(make([]int32, 0, len(r.Prompt)+len(r.Continuation)), r.Prompt...), r.Continuation...)
		if err := s.checkTokens(all); err != nil {
			return nil, fmt.Errorf("llama: score: request %d: %w", i, err)
		}
	}
	mem := C.llama_get_memory(s.p)
	defer C.llama_memory_clear(mem, true)
	batch := C.llama_batch_init(C.int32_t(s.nBatch), 0, 1)
	defer C.llama_batch_free(batch)
	b := newBatchView(batch, s.nBatch)

	out := make([][]Token, len(reqs))
	type target struct{ req, i int } // logits row predicts reqs[req].Continuation[i]
	targets := make([]target, 0, s.nBatch)
	rows := make([]*C.float, 0, s.nBatch)
	st := make([]stats, s.nBatch)

	flush := func() error {
		if b.n == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.decode(batch, b.n); err != nil {
			return err
		}
		rows = rows[:0]
		for k := range b.n {
			if b.out[k] != 0 {
				rows = append(rows, C.llama_get_logits_ith(s.p, C.int32_t(k)))
			}
		}
		if err := rowsStats(rows, s.nVocab, s.threads, st[:len(rows)]); err != nil {
			return fmt.Errorf("llama: score: %w", err)
		}
		for k, tg := range targets {
			tok := reqs[tg.req].Continuation[tg.i]
			logit := unsafe.Slice((*float32)(unsafe.Pointer(rows[k])), s.nVocab)[tok]
			out[tg.req][tg.i] = Token{ID: tok, Text: s.model.piece(tok),
				LogProb: float64(logit) - st[k].logZ, Entropy: st[k].entropy}
		}
		b.reset()
		targets = targets[:0]
		return nil
	}

	for first := 0; first < len(reqs); {
		// A group: as many requests as fit in the sequences and the context.
		C.llama_memory_clear(mem, true)
		last, cells := first, 0
		for last < len(reqs) && last-first < s.nSeq {
			n := len(reqs[last].Prompt) + len(reqs[last].Continuation)
			if cells+n > s.nCtx && last > first {
				break
			}
			cells += n
			last++
		}
		for r := first; r < last; r++ {
			req := reqs[r]
			out[r] = make([]Token, len(req.Continuation))
			seq := r - first
			n := len(req.Prompt) + len(req.Continuation) - 1 // the last token predicts nothing
			for pos := range n {
				tok := req.Prompt[min(pos, len(req.Prompt)-1)]
				if pos >= len(req.Prompt) {
					tok = req.Continuation[pos-len(req.Prompt)]
				}
				want := pos >= len(req.Prompt)-1
				b.add(tok, pos, seq, want)
				if want {
					targets = append(targets, target{r, pos - (len(req.Prompt) - 1)})
				}
				if b.n == s.nBatch {
					if err := flush(); err != nil {
						return nil, err
					}
				}
			}
		}
		if err := flush(); err != nil {
			return nil, err
		}
		first = last
	}
	return out, nil
}
