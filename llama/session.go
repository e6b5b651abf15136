//go:build cgo

package llama

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// Session is an inference context on a Model: a KV cache and its compute
// buffers. It is not safe for concurrent use.
type Session struct {
	model   *Model
	nCtx    int
	nBatch  int
	nVocab  int
	nSeq    int
	threads int
	// embeddings: opened for Embed, with mean pooling.
	embeddings bool
	timings    *phaseTimes // benchmarks only
	mu         sync.Mutex
	p          *C.struct_llama_context
	cleanup    runtime.Cleanup
	loras      []*LoRA // set by SetLoRA; guarded by loraMu
}

// NewSession opens a session on m. A nil cfg means the zero SessionConfig;
// ExactSession gives the configuration whose log-probabilities are exact.
func (m *Model) NewSession(cfg *SessionConfig) (*Session, error) {
	if cfg == nil {
		cfg = &SessionConfig{}
	}
	nCtx := cfg.ContextLen
	if nCtx <= 0 {
		nCtx = 4096
	}
	if m.nCtx > 0 && nCtx > m.nCtx {
		nCtx = m.nCtx
	}
	nBatch := cfg.BatchSize
	if nBatch <= 0 {
		nBatch = 512
	}
	nBatch = min(nBatch, nCtx)
	nSeq := max(cfg.Sequences, 1)
	if cfg.Embeddings && nBatch%nSeq != 0 {
		// llama.cpp v0.5.0 reserves the pooling graph with the batch rounded
		// up to a multiple of the sequences but the outputs not, and aborts
		// the process (GGML_ASSERT in ggml_mul_mat): keep them equal.
		nBatch -= nBatch % nSeq
		if nBatch == 0 {
			return nil, fmt.Errorf("llama: new session: BatchSize %d is smaller than Sequences %d", cfg.BatchSize, nSeq)
		}
	}
	threads := cfg.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	params := C.llama_context_default_params()
	params.n_ctx = C.uint32_t(nCtx)
	params.n_batch = C.uint32_t(nBatch)
	params.n_ubatch = C.uint32_t(nBatch)
	params.n_seq_max = C.uint32_t(nSeq)
	// One KV buffer for all sequences, so that the prompt's cells are shared
	// by every trace after a sequence copy instead of being duplicated.
	params.kv_unified = true
	if cfg.Embeddings {
		params.embeddings = true
		params.pooling_type = C.LLAMA_POOLING_TYPE_MEAN
	}
	params.n_threads = C.int32_t(threads)
	params.n_threads_batch = C.int32_t(threads)
	params.no_perf = true
	switch cfg.KVCache {
	case KVCacheF16:
		params.type_k, params.type_v = C.GGML_TYPE_F16, C.GGML_TYPE_F16
	case KVCacheF32:
		params.type_k, params.type_v = C.GGML_TYPE_F32, C.GGML_TYPE_F32
	case KVCacheQ8_0:
		params.type_k, params.type_v = C.GGML_TYPE_Q8_0, C.GGML_TYPE_Q8_0
	default:
		return nil, fmt.Errorf("llama: unknown KV cache type %v", cfg.KVCache)
	}
	switch cfg.FlashAttention {
	case FlashAttentionAuto:
		params.flash_attn_type = C.LLAMA_FLASH_ATTN_TYPE_AUTO
	case FlashAttentionOff:
		params.flash_attn_type = C.LLAMA_FLASH_ATTN_TYPE_DISABLED
	case FlashAttentionOn:
		params.flash_attn_type = C.LLAMA_FLASH_ATTN_TYPE_ENABLED
	default:
		return nil, fmt.Errorf("llama: unknown flash attention setting %d", cfg.FlashAttention)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.p == nil {
		return nil, ErrClosed
	}
	mark := C.lf_log_mark()
	p := C.llama_init_from_model(m.p, params)
	if p == nil {
		return nil, fmt.Errorf("llama: new session on %s: failed%s", m.path, logSince(mark))
	}
	s := &Session{model: m, nCtx: int(C.llama_n_ctx(p)), nBatch: nBatch, nVocab: m.nVocab, nSeq: nSeq, threads: threads, embeddings: cfg.Embeddings, p: p}
	s.cleanup = runtime.AddCleanup(s, func(p *C.struct_llama_context) { C.llama_free(p) }, p)
	m.sessions[s] = struct{}{}
	return s, nil
}

// ContextLen returns the number of positions the session holds.
func (s *Session) ContextLen() int { return s.nCtx }

// Close frees the session. It is idempotent.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.p != nil {
		s.cleanup.Stop()
		C.llama_free(s.p)
		s.p = nil
	}
	s.mu.Unlock()
	s.dropLoRAs()
	s.model.mu.Lock()
	delete(s.model.sessions, s)
	s.model.mu.Unlock()
	return nil
}

// Logits evaluates tokens from an empty cache and returns the raw logits
// at every position: row i is the model's distribution over the token that
// follows tokens[:i+1]. ctx is checked between decode calls; the cache is
// left empty.
func (s *Session) Logits(ctx context.Context, tokens []int32) ([][]float32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p == nil {
		return nil, ErrClosed
	}
	if err := s.checkTokens(tokens); err != nil {
		return nil, fmt.Errorf("llama: evaluate: %w", err)
	}
	mem := C.llama_get_memory(s.p)
	C.llama_memory_clear(mem, true)
	defer C.llama_memory_clear(mem, true)
	batch := C.llama_batch_init(C.int32_t(s.nBatch), 0, 1)
	defer C.llama_batch_free(batch)
	b := newBatchView(batch, s.nBatch)
	out := make([][]float32, 0, len(tokens))
	for start := 0; start < len(tokens); start += s.nBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b.reset()
		for i := range min(s.nBatch, len(tokens)-start) {
			b.add(tokens[start+i], start+i, 0, true)
		}
		if err := s.decode(batch, b.n); err != nil {
			return nil, err
		}
		for i := range b.n {
			l := C.llama_get_logits_ith(s.p, C.int32_t(i))
			if l == nil {
				return nil, fmt.Errorf("llama: no logits at position %d", start+i)
			}
			out = append(out, append([]float32(nil), unsafe.Slice((*float32)(unsafe.Pointer(l)), s.nVocab)...))
		}
	}
	return out, nil
}

// LogProbs evaluates tokens like Logits and returns, at every position, the
// natural-log softmax of the raw logits over the full vocabulary.
func (s *Session) LogProbs(ctx context.Context, tokens []int32) ([][]float64, error) {
	logits, err := s.Logits(ctx, tokens)
	if err != nil {
		return nil, err
	}
	out := make([][]float64, len(logits))
	for i, l := range logits {
		st, err := rowStats(l)
		if err != nil {
			return nil, fmt.Errorf("llama: position %d: %w", i, err)
		}
		row := make([]float64, len(l))
		for v, x := range l {
			row[v] = float64(x) - st.logZ
		}
		out[i] = row
	}
	return out, nil
}
