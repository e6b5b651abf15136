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
	"os"
	"path/filepath"
	"unsafe"

	"github.com/labelfree/labelfree/internal/gguf"
)

// Quantize writes a copy of the GGUF model in to out with its weights
// quantized to q, through llama.cpp's llama_model_quantize. threads ≤ 0
// means all cores. out appears atomically. ctx is checked before starting;
// the C call itself cannot be interrupted.
func Quantize(ctx context.Context, in, out string, q QuantType, threads int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := gguf.Open(in); err != nil {
		return fmt.Errorf("llama: quantize: %w", err)
	}
	if _, err := ParseQuantType(q.String()); err != nil {
		return err
	}
	if err := backend(); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".tmp*")
	if err != nil {
		return fmt.Errorf("llama: quantize: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	params := C.llama_model_quantize_default_params()
	params.ftype = C.enum_llama_ftype(q)
	params.nthread = C.int32_t(threads)
	cin, cout := C.CString(in), C.CString(tmp.Name())
	defer C.free(unsafe.Pointer(cin))
	defer C.free(unsafe.Pointer(cout))
	mark := C.lf_log_mark()
	if rc := C.llama_model_quantize(cin, cout, &params); rc != 0 {
		return fmt.Errorf("llama: quantize %s to %v failed%s", in, q, logSince(mark))
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("llama: quantize: %w", err)
	}
	return nil
}
