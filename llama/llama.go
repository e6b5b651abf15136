//go:build cgo

package llama

/*
#cgo pkg-config: llama
#cgo LDFLAGS: -lm
#cgo CFLAGS: -O3
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/labelfree/labelfree/internal/gguf"
)

var (
	initOnce sync.Once
	initErr  error
)

// backend initialises llama.cpp once per process: it loads the ggml backends
// and installs the log capture.
func backend() error {
	initOnce.Do(func() {
		dir := os.Getenv("LABELFREE_GGML_BACKEND_DIR")
		verbose := 0
		if v := os.Getenv("LABELFREE_LLAMA_LOG"); v != "" && v != "0" {
			verbose = 1
		}
		cdir := C.CString(dir)
		defer C.free(unsafe.Pointer(cdir))
		n := C.lf_init(cdir, C.int(verbose))
		switch {
		case n < 0:
			initErr = fmt.Errorf("llama: cannot locate the directory of libllama; set LABELFREE_GGML_BACKEND_DIR")
		case n == 0:
			if dir == "" {
				dir = libraryDir()
			}
			initErr = fmt.Errorf("llama: no ggml backend found in %s (libggml-cpu-*.so missing? rerun scripts/install-llama.sh)", dir)
		}
	})
	return initErr
}

func libraryDir() string {
	buf := make([]byte, 4096)
	if C.lf_library_dir((*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf))) != 0 {
		return "?"
	}
	return C.GoString((*C.char)(unsafe.Pointer(&buf[0])))
}

// logSince returns llama.cpp's warnings and errors logged after mark, for
// error messages.
func logSince(mark C.uint64_t) string {
	buf := make([]byte, 8192)
	C.lf_take_log_since(mark, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	s := C.GoString((*C.char)(unsafe.Pointer(&buf[0])))
	if s == "" {
		return ""
	}
	return ": llama.cpp said: " + strings.ReplaceAll(s, "\n", "; ")
}

// Devices lists the compute devices of the loaded ggml backends.
func Devices() ([]Device, error) {
	if err := backend(); err != nil {
		return nil, err
	}
	n := int(C.ggml_backend_dev_count())
	devs := make([]Device, 0, n)
	for i := range n {
		d := C.ggml_backend_dev_get(C.size_t(i))
		typ := "unknown"
		switch C.ggml_backend_dev_type(d) {
		case C.GGML_BACKEND_DEVICE_TYPE_CPU:
			typ = "cpu"
		case C.GGML_BACKEND_DEVICE_TYPE_GPU:
			typ = "gpu"
		case C.GGML_BACKEND_DEVICE_TYPE_IGPU:
			typ = "igpu"
		case C.GGML_BACKEND_DEVICE_TYPE_ACCEL:
			typ = "accel"
		}
		devs = append(devs, Device{
			Name:        C.GoString(C.ggml_backend_dev_name(d)),
			Description: C.GoString(C.ggml_backend_dev_description(d)),
			Type:        typ,
		})
	}
	return devs, nil
}

// SystemInfo returns llama.cpp's description of the CPU features in use.
func SystemInfo() (string, error) {
	if err := backend(); err != nil {
		return "", err
	}
	return strings.TrimSpace(C.GoString(C.llama_print_system_info())), nil
}

// Model is a loaded GGUF model. It is safe for concurrent use.
type Model struct {
	path   string
	nVocab int
	nCtx   int // training context

	mu       sync.Mutex
	p        *C.struct_llama_model
	vocab    *C.struct_llama_vocab
	sessions map[*Session]struct{}
	cleanup  runtime.Cleanup
}

// Load validates the GGUF file at path in Go (header, metadata, tensor table
// and data bounds, so that a corrupt or truncated file is an error, never a
// crash in C) and loads it with llama.cpp.
func Load(ctx context.Context, path string, cfg *ModelConfig) (*Model, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg == nil {
		cfg = &ModelConfig{}
	}
	f, err := gguf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("llama: load %s: %w", path, err)
	}
	if _, err := f.String("general.architecture"); err != nil {
		return nil, fmt.Errorf("llama: load %s: %w", path, err)
	}
	if err := checkVocab(f); err != nil {
		return nil, fmt.Errorf("llama: load %s: %w", path, err)
	}
	if err := backend(); err != nil {
		return nil, err
	}
	params := C.llama_model_default_params()
	params.n_gpu_layers = C.int32_t(cfg.GPULayers)
	if cfg.GPULayers < 0 {
		params.n_gpu_layers = -1
	}
	params.main_gpu = C.int32_t(cfg.MainGPU)
	params.vocab_only = C.bool(cfg.VocabOnly)
	switch {
	case cfg.NoMmap && cfg.Mlock:
		params.load_mode = C.LLAMA_LOAD_MODE_MLOCK
	case cfg.NoMmap:
		params.load_mode = C.LLAMA_LOAD_MODE_NONE
	case cfg.Mlock:
		params.load_mode = C.LLAMA_LOAD_MODE_MMAP_MLOCK
	default:
		params.load_mode = C.LLAMA_LOAD_MODE_MMAP
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	mark := C.lf_log_mark()
	p := C.llama_model_load_from_file(cpath, params)
	if p == nil {
		return nil, fmt.Errorf("llama: load %s: failed%s", path, logSince(mark))
	}
	m := &Model{path: path, p: p, vocab: C.llama_model_get_vocab(p), sessions: map[*Session]struct{}{}}
	m.nVocab = int(C.llama_vocab_n_tokens(m.vocab))
	m.nCtx = int(C.llama_model_n_ctx_train(p))
	m.cleanup = runtime.AddCleanup(m, func(p *C.struct_llama_model) { C.llama_model_free(p) }, p)
	return m, nil
}

// Close frees the model and every Session still open on it. It is
// idempotent.
func (m *Model) Close() error {
	m.mu.Lock()
	sessions := make([]*Session, 0, len(m.sessions))
	for s := range m.sessions {
		sessions = append(sessions, s)
	}
	m.mu.Unlock()
	for _, s := range sessions {
		s.Close()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.p != nil {
		m.cleanup.Stop()
		C.llama_model_free(m.p)
		m.p, m.vocab = nil, nil
	}
	return nil
}

// Path returns the file the model was loaded from.
func (m *Model) Path() string { return m.path }

// VocabSize returns the number of tokens of the vocabulary.
func (m *Model) VocabSize() int { return m.nVocab }

// TrainContext returns the context length the model was trained with.
func (m *Model) TrainContext() int { return m.nCtx }

func (m *Model) live() (*C.struct_llama_vocab, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.p == nil {
		return nil, ErrClosed
	}
	return m.vocab, nil
}

// Tokenize converts text to tokens. With parseSpecial, the text of special
// tokens such as "<|im_start|>" becomes those tokens; without, it is
// tokenized as plain text. No beginning-of-sequence token is added.
func (m *Model) Tokenize(text string, parseSpecial bool) ([]int32, error) {
	vocab, err := m.live()
	if err != nil {
		return nil, err
	}
	if len(text) == 0 {
		return nil, nil
	}
	ctext := C.CString(text)
	defer C.free(unsafe.Pointer(ctext))
	out := make([]int32, len(text)+2)
	for {
		n := C.llama_tokenize(vocab, ctext, C.int32_t(len(text)), (*C.llama_token)(unsafe.Pointer(&out[0])),
			C.int32_t(len(out)), false, C.bool(parseSpecial))
		switch {
		case n == C.INT32_MIN:
			return nil, fmt.Errorf("llama: tokenize: %d bytes of text overflow the token count", len(text))
		case n < 0:
			out = make([]int32, -n)
			continue
		}
		return out[:n], nil
	}
}

// TokenText returns the text of one token; special tokens are rendered.
func (m *Model) TokenText(token int32) (string, error) {
	vocab, err := m.live()
	if err != nil {
		return "", err
	}
	if token < 0 || int(token) >= m.nVocab {
		return "", fmt.Errorf("llama: token %d outside the vocabulary of %d", token, m.nVocab)
	}
	buf := make([]byte, 64)
	for {
		n := C.llama_token_to_piece(vocab, C.llama_token(token), (*C.char)(unsafe.Pointer(&buf[0])), C.int32_t(len(buf)), 0, true)
		if n < 0 {
			buf = make([]byte, -n)
			continue
		}
		return string(buf[:n]), nil
	}
}
