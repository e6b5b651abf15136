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
	"unsafe"
)

// Detokenize converts tokens back to text. With renderSpecial, special
// tokens such as <|im_end|> appear as their text; without, they are left
// out. The result may hold invalid UTF-8 only if tokens end inside a
// character.
func (m *Model) Detokenize(tokens []int32, renderSpecial bool) (string, error) {
	vocab, err := m.live()
	if err != nil {
		return "", err
	}
	if len(tokens) == 0 {
		return "", nil
	}
	for i, t := range tokens {
		if t < 0 || int(t) >= m.nVocab {
			return "", fmt.Errorf("llama: detokenize: token %d at position %d outside the vocabulary of %d", t, i, m.nVocab)
		}
	}
	buf := make([]byte, 8*len(tokens)+16)
	for {
		n := C.llama_detokenize(vocab, (*C.llama_token)(unsafe.Pointer(&tokens[0])), C.int32_t(len(tokens)),
			(*C.char)(unsafe.Pointer(&buf[0])), C.int32_t(len(buf)), false, C.bool(renderSpecial))
		if n < 0 {
			buf = make([]byte, -n)
			continue
		}
		return string(buf[:n]), nil
	}
}

// ChatTemplate formats messages with the model's chat template (Qwen3's
// ChatML: <|im_start|>role\ncontent<|im_end|>\n) and opens the assistant's
// turn. With opts.NoThinking it also closes an empty reasoning block, as
// Qwen3's template does for enable_thinking=false, so the model answers
// directly. A model without a template, or with one llama.cpp does not
// recognise, is formatted as ChatML.
func (m *Model) ChatTemplate(msgs []Message, opts *ChatOptions) (string, error) {
	if opts == nil {
		opts = &ChatOptions{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.p == nil {
		return "", ErrClosed
	}
	if len(msgs) == 0 {
		return "", fmt.Errorf("llama: chat template: no messages")
	}
	cmsgs := C.malloc(C.size_t(len(msgs)) * C.size_t(unsafe.Sizeof(C.llama_chat_message{})))
	defer C.free(cmsgs)
	list := unsafe.Slice((*C.llama_chat_message)(cmsgs), len(msgs))
	var size int
	for i, msg := range msgs {
		role, content := C.CString(msg.Role), C.CString(msg.Content)
		defer C.free(unsafe.Pointer(role))
		defer C.free(unsafe.Pointer(content))
		list[i] = C.llama_chat_message{role: role, content: content}
		size += len(msg.Role) + len(msg.Content) + 32
	}
	tmpl := C.llama_model_chat_template(m.p, nil)
	chatml := C.CString("chatml")
	defer C.free(unsafe.Pointer(chatml))
	apply := func(tmpl *C.char) (string, bool) {
		buf := make([]byte, size+64)
		for {
			n := C.llama_chat_apply_template(tmpl, (*C.llama_chat_message)(cmsgs), C.size_t(len(msgs)), true,
				(*C.char)(unsafe.Pointer(&buf[0])), C.int32_t(len(buf)))
			switch {
			case n < 0:
				return "", false
			case int(n) > len(buf):
				buf = make([]byte, n)
				continue
			}
			return string(buf[:n]), true
		}
	}
	out, ok := "", false
	if tmpl != nil {
		out, ok = apply(tmpl)
	}
	if !ok {
		if out, ok = apply(chatml); !ok {
			return "", fmt.Errorf("llama: chat template: llama.cpp could not apply ChatML")
		}
	}
	if opts.NoThinking {
		out += "<think>\n\n</think>\n\n"
	}
	return out, nil
}

// Embed returns the mean-pooled final hidden state of each text (the
// normalised residual stream that the output head reads, averaged over the
// text's positions), for similarity functions. The session must have been
// opened with SessionConfig.Embeddings; each text must fit in one batch.
// Texts are packed side by side up to the session's Sequences per decode.
func (s *Session) Embed(ctx context.Context, texts [][]int32) ([][]float32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p == nil {
		return nil, ErrClosed
	}
	if !s.embeddings {
		return nil, fmt.Errorf("llama: embed: the session was not opened with SessionConfig.Embeddings")
	}
	for i, t := range texts {
		if err := s.checkTokens(t); err != nil {
			return nil, fmt.Errorf("llama: embed: text %d: %w", i, err)
		}
		if len(t) > s.nBatch {
			return nil, fmt.Errorf("llama: embed: text %d has %d tokens, more than the batch size %d", i, len(t), s.nBatch)
		}
	}
	mem := C.llama_get_memory(s.p)
	defer C.llama_memory_clear(mem, true)
	batch := C.llama_batch_init(C.int32_t(s.nBatch), 0, 1)
	defer C.llama_batch_free(batch)
	b := newBatchView(batch, s.nBatch)
	nEmbd := int(C.llama_model_n_embd(s.model.p))
	out := make([][]float32, len(texts))
	for first := 0; first < len(texts); {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		C.llama_memory_clear(mem, true)
		b.reset()
		last := first
		for last < len(texts) && last-first < s.nSeq && b.n+len(texts[last]) <= s.nBatch {
			for pos, tok := range texts[last] {
				b.add(tok, pos, last-first, true)
			}
			last++
		}
		if err := s.decode(batch, b.n); err != nil {
			return nil, err
		}
		for i := first; i < last; i++ {
			e := C.llama_get_embeddings_seq(s.p, C.llama_seq_id(i-first))
			if e == nil {
				return nil, fmt.Errorf("llama: embed: no embedding for text %d", i)
			}
			out[i] = append([]float32(nil), unsafe.Slice((*float32)(unsafe.Pointer(e)), nEmbd)...)
		}
		first = last
	}
	return out, nil
}
