package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// A Writer assembles a GGUF v3 file: metadata, then tensors whose data is
// produced when the file is written. The zero Writer is ready to use.
type Writer struct {
	kv      []KV
	tensors []pendingTensor
	names   map[string]bool
}

type pendingTensor struct {
	info TensorInfo
	data func(w io.Writer) error
}

// Add appends a metadata pair. value must be one of the types listed on KV
// (an int is stored as int32 and a []int as []int32 for convenience).
func (w *Writer) Add(key string, value any) {
	switch v := value.(type) {
	case int:
		value = int32(v)
	case []int:
		s := make([]int32, len(v))
		for i, x := range v {
			s[i] = int32(x)
		}
		value = s
	}
	w.kv = append(w.kv, KV{Key: key, Value: value})
}

// AddTensor declares a tensor; data is called once, in declaration order, by
// WriteTo and must write exactly the tensor's size in bytes.
func (w *Writer) AddTensor(name string, typ Type, shape []uint64, data func(w io.Writer) error) error {
	if w.names == nil {
		w.names = map[string]bool{}
	}
	if w.names[name] {
		return fmt.Errorf("gguf: duplicate tensor %q", name)
	}
	if len(name) >= maxNameLen {
		return fmt.Errorf("gguf: tensor name %q longer than %d bytes", name, maxNameLen-1)
	}
	if !typ.Valid() || len(shape) == 0 || len(shape) > maxDims || shape[0]%typ.BlockSize() != 0 {
		return fmt.Errorf("gguf: tensor %q: invalid type %v or shape %v", name, typ, shape)
	}
	w.names[name] = true
	w.tensors = append(w.tensors, pendingTensor{
		info: TensorInfo{Name: name, Shape: append([]uint64(nil), shape...), Type: typ},
		data: data,
	})
	return nil
}

// AddFloat32 declares an F32 tensor holding values (ne0 first).
func (w *Writer) AddFloat32(name string, shape []uint64, values []float32) error {
	n := uint64(1)
	for _, d := range shape {
		n *= d
	}
	if uint64(len(values)) != n {
		return fmt.Errorf("gguf: tensor %q: %d values for shape %v", name, len(values), shape)
	}
	return w.AddTensor(name, F32, shape, func(out io.Writer) error {
		return binary.Write(out, binary.LittleEndian, values)
	})
}

// WriteTo writes the file. It returns the number of bytes written.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	align := uint64(DefaultAlignment)
	for _, kv := range w.kv {
		if kv.Key == "general.alignment" {
			a, ok := kv.Value.(uint32)
			if !ok || a == 0 || a&(a-1) != 0 {
				return 0, fmt.Errorf("gguf: general.alignment must be a power of two uint32")
			}
			align = uint64(a)
		}
	}
	cw := &countWriter{w: bufio.NewWriterSize(out, 1<<20)}
	e := encoder{w: cw}
	e.raw([]byte(Magic))
	e.u32(3)
	e.u64(uint64(len(w.tensors)))
	e.u64(uint64(len(w.kv)))
	for _, kv := range w.kv {
		e.str(kv.Key)
		if err := e.value(kv.Value); err != nil {
			return cw.n, fmt.Errorf("gguf: key %q: %w", kv.Key, err)
		}
	}
	var offset uint64
	for i := range w.tensors {
		t := &w.tensors[i].info
		t.Offset = offset
		e.str(t.Name)
		e.u32(uint32(len(t.Shape)))
		for _, d := range t.Shape {
			e.u64(d)
		}
		e.u32(uint32(t.Type))
		e.u64(t.Offset)
		offset += pad(t.Size(), align)
	}
	e.zeros(pad(uint64(cw.n), align) - uint64(cw.n))
	for i := range w.tensors {
		t := &w.tensors[i]
		start := cw.n
		if e.err == nil {
			e.err = t.data(cw)
		}
		if e.err != nil {
			return cw.n, fmt.Errorf("gguf: tensor %q: %w", t.info.Name, e.err)
		}
		if got := uint64(cw.n - start); got != t.info.Size() {
			return cw.n, fmt.Errorf("gguf: tensor %q: wrote %d bytes, want %d", t.info.Name, got, t.info.Size())
		}
		e.zeros(pad(t.info.Size(), align) - t.info.Size())
	}
	if e.err == nil {
		e.err = cw.w.Flush()
	}
	return cw.n, e.err
}

type countWriter struct {
	w *bufio.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type encoder struct {
	w   io.Writer
	err error
	buf [8]byte
}

func (e *encoder) raw(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}

func (e *encoder) u32(v uint32) { binary.LittleEndian.PutUint32(e.buf[:4], v); e.raw(e.buf[:4]) }
func (e *encoder) u64(v uint64) { binary.LittleEndian.PutUint64(e.buf[:8], v); e.raw(e.buf[:8]) }
func (e *encoder) str(s string) { e.u64(uint64(len(s))); e.raw([]byte(s)) }
func (e *encoder) zeros(n uint64) {
	if n > 0 {
		e.raw(make([]byte, n))
	}
}

func valueType(v any) (ValueType, bool) {
	switch v.(type) {
	case uint8:
		return TypeUint8, true
	case int8:
		return TypeInt8, true
	case uint16:
		return TypeUint16, true
	case int16:
		return TypeInt16, true
	case uint32:
		return TypeUint32, true
	case int32:
		return TypeInt32, true
	case float32:
		return TypeFloat32, true
	case bool:
		return TypeBool, true
	case string:
		return TypeString, true
	case uint64:
		return TypeUint64, true
	case int64:
		return TypeInt64, true
	case float64:
		return TypeFloat64, true
	}
	return 0, false
}

func (e *encoder) scalar(v any) {
	switch x := v.(type) {
	case uint8:
		e.raw([]byte{x})
	case int8:
		e.raw([]byte{byte(x)})
	case uint16:
		binary.LittleEndian.PutUint16(e.buf[:2], x)
		e.raw(e.buf[:2])
	case int16:
		binary.LittleEndian.PutUint16(e.buf[:2], uint16(x))
		e.raw(e.buf[:2])
	case uint32:
		e.u32(x)
	case int32:
		e.u32(uint32(x))
	case float32:
		e.u32(math.Float32bits(x))
	case bool:
		b := byte(0)
		if x {
			b = 1
		}
		e.raw([]byte{b})
	case string:
		e.str(x)
	case uint64:
		e.u64(x)
	case int64:
		e.u64(uint64(x))
	case float64:
		e.u64(math.Float64bits(x))
	}
}

func (e *encoder) value(v any) error {
	if vt, ok := valueType(v); ok {
		e.u32(uint32(vt))
		e.scalar(v)
		return nil
	}
	switch s := v.(type) {
	case []uint8:
		return encodeArray(e, s)
	case []int8:
		return encodeArray(e, s)
	case []uint16:
		return encodeArray(e, s)
	case []int16:
		return encodeArray(e, s)
	case []uint32:
		return encodeArray(e, s)
	case []int32:
		return encodeArray(e, s)
	case []float32:
		return encodeArray(e, s)
	case []bool:
		return encodeArray(e, s)
	case []string:
		return encodeArray(e, s)
	case []uint64:
		return encodeArray(e, s)
	case []int64:
		return encodeArray(e, s)
	case []float64:
		return encodeArray(e, s)
	}
	return fmt.Errorf("unsupported value type %T", v)
}

func encodeArray[T any](e *encoder, s []T) error {
	var zero T
	et, _ := valueType(any(zero))
	e.u32(uint32(TypeArray))
	e.u32(uint32(et))
	e.u64(uint64(len(s)))
	for _, x := range s {
		e.scalar(x)
	}
	return nil
}
