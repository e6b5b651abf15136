//go:build cgo

package llama

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/labelfree/labelfree/internal/gguf"
)

// LoRA is a LoRA adapter loaded for one Model from a GGUF adapter file
// (general.type "adapter", adapter.type "lora", as llama.cpp's
// convert_lora_to_gguf.py writes it). A Session applies it with SetLoRA:
// each adapted weight W acts as
//
//	W + scale · (alpha / r) · B·A
//
// where A (r×in) and B (out×r) are the tensors "<weight>.lora_a" and
// "<weight>.lora_b", r is A's rank and alpha the file's adapter.lora.alpha
// (0 means no alpha/r factor, llama.cpp's convention). It is safe for
// concurrent use.
type LoRA struct {
	model *Model
	path  string
	p     *C.struct_llama_adapter_lora

	// Guarded by loraMu.
	users  map[*Session]struct{}
	closed bool
}

// Adapter is a LoRA and the scale a Session applies it with (1 is the
// adapter as trained; 0 is as if it were not there).
type Adapter struct {
	LoRA  *LoRA
	Scale float32
}

// loraMu guards LoRA.users, LoRA.closed and Session.loras. It is taken
// last, after any Model or Session lock, and held only briefly.
var loraMu sync.Mutex

// ErrLoRAInUse is returned by LoRA.Close while a Session applies it.
var ErrLoRAInUse = errors.New("llama: lora adapter in use by an open session")

// LoadLoRA loads the LoRA adapter in the GGUF file at path for m. The file
// is validated in Go first (header, tensor table and data bounds, and
// general.type "adapter"); llama.cpp then checks that its architecture is
// m's and that every adapted tensor exists in m with a matching shape.
func (m *Model) LoadLoRA(path string) (*LoRA, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("llama: load lora %s: %w", path, err)
	}
	if typ, err := f.String("general.type"); err != nil || typ != "adapter" {
		return nil, fmt.Errorf("llama: load lora %s: general.type %q, want \"adapter\"", path, typ)
	}
	if typ, err := f.String("adapter.type"); err != nil || typ != "lora" {
		return nil, fmt.Errorf("llama: load lora %s: adapter.type %q, want \"lora\"", path, typ)
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.p == nil {
		return nil, ErrClosed
	}
	mark := C.lf_log_mark()
	p := C.llama_adapter_lora_init(m.p, cpath)
	if p == nil {
		return nil, fmt.Errorf("llama: load lora %s: failed%s", path, logSince(mark))
	}
	return &LoRA{model: m, path: path, p: p, users: map[*Session]struct{}{}}, nil
}

// Path returns the file the adapter was loaded from.
func (l *LoRA) Path() string { return l.path }

// Close frees the adapter. It returns ErrLoRAInUse while an open Session
// applies it (SetLoRA without it, or close the session, first). It is
// idempotent, and after the Model's Close (which frees the model's
// adapters in llama.cpp) it only marks the LoRA closed.
func (l *LoRA) Close() error {
	loraMu.Lock()
	if l.closed {
		loraMu.Unlock()
		return nil
	}
	if len(l.users) > 0 {
		loraMu.Unlock()
		return ErrLoRAInUse
	}
	l.closed = true
	loraMu.Unlock()
	l.model.mu.Lock()
	defer l.model.mu.Unlock()
	if l.model.p != nil {
		C.llama_adapter_lora_free(l.p)
	}
	l.p = nil
	return nil
}

// SetLoRA makes the session apply adapters, with their scales, instead of
// the ones set before; no adapters removes them. Every LoRA must have
// been loaded for the session's Model. It takes effect at the next
// evaluation (Logits, LogProbs, Generate, Score), which start from an
// empty cache, so no state computed with other adapters is reused.
func (s *Session) SetLoRA(adapters ...Adapter) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p == nil {
		return ErrClosed
	}
	ps := make([]*C.struct_llama_adapter_lora, len(adapters))
	scales := make([]C.float, len(adapters))
	loraMu.Lock()
	for i, a := range adapters {
		switch {
		case a.LoRA == nil:
			loraMu.Unlock()
			return fmt.Errorf("llama: set lora: adapter %d is nil", i)
		case a.LoRA.closed:
			loraMu.Unlock()
			return fmt.Errorf("llama: set lora %s: %w", a.LoRA.path, ErrClosed)
		case a.LoRA.model != s.model:
			loraMu.Unlock()
			return fmt.Errorf("llama: set lora %s: loaded for %s, not for the session's model %s", a.LoRA.path, a.LoRA.model.path, s.model.path)
		}
		ps[i], scales[i] = a.LoRA.p, C.float(a.Scale)
	}
	for _, l := range s.loras {
		delete(l.users, s)
	}
	s.loras = s.loras[:0]
	for _, a := range adapters {
		a.LoRA.users[s] = struct{}{}
		s.loras = append(s.loras, a.LoRA)
	}
	loraMu.Unlock()
	// The arrays hold C pointers and floats only, so passing Go memory is
	// allowed; llama.cpp copies them.
	var pp **C.struct_llama_adapter_lora
	var sp *C.float
	if len(adapters) > 0 {
		pp, sp = &ps[0], &scales[0]
	}
	if rc := C.llama_set_adapters_lora(s.p, pp, C.size_t(len(adapters)), sp); rc != 0 {
		return fmt.Errorf("llama: set lora: error %d", int(rc))
	}
	return nil
}

// dropLoRAs forgets the adapters of a session being closed.
func (s *Session) dropLoRAs() {
	loraMu.Lock()
	defer loraMu.Unlock()
	for _, l := range s.loras {
		delete(l.users, s)
	}
	s.loras = nil
}
