package gguf

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/x448/float16"
)

// Float32s reads the data of tensor t from r (the file f was read from) and
// converts it to float32. It supports F32, F16 and BF16 tensors.
func (f *File) Float32s(r io.ReaderAt, t *TensorInfo) ([]float32, error) {
	raw := make([]byte, t.Size())
	if _, err := r.ReadAt(raw, f.DataOffset+int64(t.Offset)); err != nil {
		return nil, fmt.Errorf("gguf: tensor %q: %w", t.Name, err)
	}
	n := t.Elements()
	out := make([]float32, n)
	switch t.Type {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case F16:
		for i := range out {
			out[i] = float16.Frombits(binary.LittleEndian.Uint16(raw[2*i:])).Float32()
		}
	case BF16:
		for i := range out {
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[2*i:])) << 16)
		}
	default:
		return nil, fmt.Errorf("gguf: tensor %q: type %v cannot be read as floats", t.Name, t.Type)
	}
	return out, nil
}

// EncodeF16 writes values as IEEE half-precision floats (round to nearest even).
func EncodeF16(w io.Writer, values []float32) error {
	buf := make([]byte, 2*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint16(buf[2*i:], float16.Fromfloat32(v).Bits())
	}
	_, err := w.Write(buf)
	return err
}
