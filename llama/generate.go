//go:build cgo

package llama

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"bytes"
	"context"
	"fmt"
	"time"
	"unsafe"
)

// phaseTimes accumulates where Generate spends its time; benchmarks set
// Session.timings to read it. Nil in normal use.
type phaseTimes struct {
	prompt, decode, extract, sample time.Duration
	steps                           int
}

// Generate samples traces for one prompt: the greedy trace (unless
// cfg.NoGreedy) and cfg.Samples sampled ones, decoded together. The prompt
// is evaluated once, into sequence 0, and its KV cells are shared by every
// trace through a sequence copy; then each step advances all unfinished
// traces in one llama_decode. Finished traces leave the batch and free their
// cells.
//
// Every generated token carries its raw log-probability and the entropy of
// the full next-token distribution (see the package conventions), whatever
// the sampling settings. The greedy trace is returned first. The session
// needs Sequences ≥ the number of traces; its cache is cleared first.
//
// ctx is checked between decode steps; on cancellation Generate returns
// ctx.Err() and the session stays usable.
func (s *Session) Generate(ctx context.Context, prompt []int32, cfg *GenerateConfig) ([]Trace, error) {
	if cfg == nil {
		cfg = &GenerateConfig{}
	}
	c := cfg.WithDefaults()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("llama: generate: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p == nil {
		return nil, ErrClosed
	}
	nTraces := c.Samples
	if !c.NoGreedy {
		nTraces++
	}
	switch {
	case nTraces == 0:
		return nil, fmt.Errorf("llama: generate: no traces asked for (Samples 0 and NoGreedy)")
	case nTraces > s.nSeq:
		return nil, fmt.Errorf("llama: generate: %d traces exceed the session's %d sequences (SessionConfig.Sequences)", nTraces, s.nSeq)
	}
	if err := s.checkTokens(prompt); err != nil {
		return nil, err
	}
	if len(prompt) >= s.nCtx {
		return nil, fmt.Errorf("llama: generate: prompt of %d tokens leaves no room in the session's context of %d", len(prompt), s.nCtx)
	}

	mem := C.llama_get_memory(s.p)
	C.llama_memory_clear(mem, true)
	// Whatever happens, leave an empty cache behind for the next call.
	defer C.llama_memory_clear(mem, true)

	batch := C.llama_batch_init(C.int32_t(max(s.nBatch, nTraces)), 0, 1)
	defer C.llama_batch_free(batch)
	b := newBatchView(batch, max(s.nBatch, nTraces))

	tm := s.timings
	var t0 time.Time
	if tm != nil {
		t0 = time.Now()
	}
	// The prompt, in sequence 0; logits of its last token only.
	for start := 0; start < len(prompt); start += s.nBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := min(s.nBatch, len(prompt)-start)
		b.reset()
		for i := range n {
			b.add(prompt[start+i], start+i, 0, start+i == len(prompt)-1)
		}
		if err := s.decode(batch, b.n); err != nil {
			return nil, err
		}
	}
	lastIdx := b.n - 1
	if tm != nil {
		tm.prompt += time.Since(t0)
	}
	for j := 1; j < nTraces; j++ {
		C.llama_memory_seq_cp(mem, 0, C.llama_seq_id(j), -1, -1)
	}

	traces := make([]Trace, nTraces)
	samplers := make([]*C.struct_llama_sampler, nTraces)
	defer func() {
		for _, sm := range samplers {
			if sm != nil {
				C.llama_sampler_free(sm)
			}
		}
	}()
	for j := range traces {
		if j == 0 && !c.NoGreedy {
			traces[j].Greedy = true
			continue
		}
		k := j
		if c.NoGreedy {
			k = j + 1
		}
		traces[j].Seed = uint32(c.Seed) + uint32(k)
		samplers[j] = newSampler(&c, traces[j].Seed)
	}

	// Row j of the step's logits is at batch index idx[j]; the first step
	// reads the prompt's last row for every trace.
	idx := make([]int, nTraces)
	for j := range idx {
		idx[j] = lastIdx
	}
	live := make([]int, nTraces)
	for j := range live {
		live[j] = j
	}
	used := len(prompt) // KV cells in use
	rows := make([]*C.float, 0, nTraces)
	st := make([]stats, nTraces)
	maxStop := 0
	for _, stop := range c.Stop {
		maxStop = max(maxStop, len(stop))
	}
	// Texts grow in byte slices; Trace.Text is set at the end.
	texts := make([][]byte, nTraces)
	first := true
	for len(live) > 0 {
		// Statistics of each live trace's row, in parallel; in the first
		// step all traces share one row, computed once.
		if tm != nil {
			t0 = time.Now()
		}
		rows = rows[:0]
		for _, j := range live {
			rows = append(rows, C.llama_get_logits_ith(s.p, C.int32_t(idx[j])))
		}
		if rows[0] == nil {
			return nil, fmt.Errorf("llama: generate: no logits after decode")
		}
		if first {
			first = false
			if err := rowsStats(rows[:1], s.nVocab, 1, st[:1]); err != nil {
				return nil, fmt.Errorf("llama: generate: %w", err)
			}
			for i := 1; i < len(rows); i++ {
				st[i] = st[0]
			}
		} else if err := rowsStats(rows, s.nVocab, s.threads, st[:len(rows)]); err != nil {
			return nil, fmt.Errorf("llama: generate: %w", err)
		}

		if tm != nil {
			t1 := time.Now()
			tm.extract += t1.Sub(t0)
			t0 = t1
		}
		next := live[:0:0]
		for i, j := range live {
			var tok int32
			if samplers[j] == nil {
				tok = st[i].argmax
			} else {
				tok = int32(C.llama_sampler_sample(samplers[j], s.p, C.int32_t(idx[j])))
			}
			logits := unsafe.Slice((*float32)(unsafe.Pointer(rows[i])), s.nVocab)
			piece := s.model.piece(tok)
			tr := &traces[j]
			tr.Tokens = append(tr.Tokens, Token{ID: tok, Text: piece,
				LogProb: float64(logits[tok]) - st[i].logZ, Entropy: st[i].entropy})
			switch {
			case bool(C.llama_vocab_is_eog(s.model.vocab, C.llama_token(tok))):
				tr.Finish = FinishEOG
			default:
				texts[j] = append(texts[j], piece...)
				if stop := findStop(texts[j], len(piece)+maxStop, c.Stop); stop != "" {
					tr.Finish, tr.Stop = FinishStop, stop
				} else if len(tr.Tokens) >= c.MaxTokens {
					tr.Finish = FinishLength
				}
			}
			if tr.Finish == "" {
				next = append(next, j)
			} else if len(live) > 1 {
				// Its own cells (every token but the last, never decoded) are
				// freed; the prompt's stay with the other sequences.
				C.llama_memory_seq_rm(mem, C.llama_seq_id(j), -1, -1)
				used -= len(tr.Tokens) - 1
			}
		}
		if tm != nil {
			tm.sample += time.Since(t0)
		}
		live = next
		if len(live) == 0 {
			break
		}
		if used+len(live) > s.nCtx {
			for _, j := range live {
				traces[j].Finish = FinishContext
			}
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b.reset()
		for _, j := range live {
			tr := &traces[j]
			idx[j] = b.n
			b.add(tr.Tokens[len(tr.Tokens)-1].ID, len(prompt)+len(tr.Tokens)-1, j, true)
		}
		used += len(live)
		if tm != nil {
			t0 = time.Now()
		}
		if err := s.decode(batch, b.n); err != nil {
			return nil, err
		}
		if tm != nil {
			tm.decode += time.Since(t0)
			tm.steps++
		}
	}
	for j := range traces {
		traces[j].Text = string(texts[j])
	}
	return traces, nil
}

// findStop returns the first stop string that occurs in the last window
// bytes of text, or "".
func findStop(text []byte, window int, stops []string) string {
	tail := text[max(0, len(text)-window):]
	for _, s := range stops {
		if s != "" && bytes.Contains(tail, []byte(s)) {
			return s
		}
	}
	return ""
}

func (s *Session) checkTokens(tokens []int32) error {
	if len(tokens) == 0 {
		return fmt.Errorf("llama: no tokens")
	}
	if len(tokens) > s.nCtx {
		return fmt.Errorf("llama: %d tokens exceed the session's context of %d", len(tokens), s.nCtx)
	}
	for i, t := range tokens {
		if t < 0 || int(t) >= s.nVocab {
			return fmt.Errorf("llama: token %d at position %d outside the vocabulary of %d", t, i, s.nVocab)
		}
	}
	return nil
}

func (s *Session) decode(batch C.struct_llama_batch, n int) error {
	batch.n_tokens = C.int32_t(n)
	mark := C.lf_log_mark()
	switch rc := C.llama_decode(s.p, batch); rc {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("llama: decode: no KV cache slot for %d tokens (context of %d full)%s", n, s.nCtx, logSince(mark))
	default:
		return fmt.Errorf("llama: decode returned %d%s", int(rc), logSince(mark))
	}
}

// batchView fills a llama_batch from Go.
type batchView struct {
	tok  []C.llama_token
	pos  []C.llama_pos
	nSeq []C.int32_t
	seq  []*C.llama_seq_id
	out  []C.int8_t
	n    int
}

func newBatchView(b C.struct_llama_batch, size int) *batchView {
	return &batchView{
		tok:  unsafe.Slice(b.token, size),
		pos:  unsafe.Slice(b.pos, size),
		nSeq: unsafe.Slice(b.n_seq_id, size),
		seq:  unsafe.Slice(b.seq_id, size),
		out:  unsafe.Slice(b.logits, size),
	}
}

func (b *batchView) reset() { b.n = 0 }

func (b *batchView) add(tok int32, pos, seq int, logits bool) {
	b.tok[b.n] = C.llama_token(tok)
	b.pos[b.n] = C.llama_pos(pos)
	b.nSeq[b.n] = 1
	*b.seq[b.n] = C.llama_seq_id(seq)
	b.out[b.n] = 0
	if logits {
		b.out[b.n] = 1
	}
	b.n++
}

// piece returns the text of a token, special tokens rendered. The bytes of
// one token need not be valid UTF-8 on their own (a character may span
// tokens); the concatenation of a trace's pieces is its text.
func (m *Model) piece(tok int32) string {
	var buf [64]byte
	n := C.llama_token_to_piece(m.vocab, C.llama_token(tok), (*C.char)(unsafe.Pointer(&buf[0])), C.int32_t(len(buf)), 0, true)
	if n >= 0 {
		return string(buf[:n])
	}
	big := make([]byte, -n)
	n = C.llama_token_to_piece(m.vocab, C.llama_token(tok), (*C.char)(unsafe.Pointer(&big[0])), C.int32_t(len(big)), 0, true)
	return string(big[:max(n, 0)])
}

// newSampler builds the sampling chain of one trace: top-k, top-p, min-p,
// temperature, then a draw seeded with seed.
func newSampler(c *GenerateConfig, seed uint32) *C.struct_llama_sampler {
	params := C.llama_sampler_chain_default_params()
	params.no_perf = true
	chain := C.llama_sampler_chain_init(params)
	if c.TopK > 0 {
		C.llama_sampler_chain_add(chain, C.llama_sampler_init_top_k(C.int32_t(c.TopK)))
	}
	if c.TopP < 1 {
		C.llama_sampler_chain_add(chain, C.llama_sampler_init_top_p(C.float(c.TopP), 1))
	}
	if c.MinP > 0 {
		C.llama_sampler_chain_add(chain, C.llama_sampler_init_min_p(C.float(c.MinP), 1))
	}
	C.llama_sampler_chain_add(chain, C.llama_sampler_init_temp(C.float(c.Temperature)))
	C.llama_sampler_chain_add(chain, C.llama_sampler_init_dist(C.uint32_t(seed)))
	return chain
}
