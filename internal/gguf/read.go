package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// Magic is the first four bytes of every GGUF file.
const Magic = "GGUF"

// DefaultAlignment is the data alignment when general.alignment is absent.
const DefaultAlignment = 32

// maxNameLen is GGML_MAX_NAME: tensor names must be shorter than this.
const maxNameLen = 64

// maxDims is GGML_MAX_DIMS.
const maxDims = 4

// Sentinel errors that a FormatError wraps.
var (
	// ErrInvalid means the file is not a well-formed GGUF file.
	ErrInvalid = errors.New("invalid GGUF")
	// ErrTruncated means the file ends before the data it declares.
	ErrTruncated = errors.New("truncated GGUF")
)

// A FormatError describes where and why a GGUF file was rejected.
type FormatError struct {
	Path   string // file name, if known
	Offset int64  // byte offset at which the problem was found
	Msg    string
	Err    error // ErrInvalid or ErrTruncated
}

func (e *FormatError) Error() string {
	p := e.Path
	if p == "" {
		p = "<input>"
	}
	return fmt.Sprintf("gguf: %s: %v at byte %d: %s", p, e.Err, e.Offset, e.Msg)
}

func (e *FormatError) Unwrap() error { return e.Err }

// KV is one metadata pair. Value holds a Go value of the stored type: uint8,
// int8, uint16, int16, uint32, int32, float32, bool, string, uint64, int64,
// float64, or a slice of one of those for arrays.
type KV struct {
	Key   string
	Type  ValueType // for arrays, TypeArray
	Value any
}

// TensorInfo is one entry of the tensor table.
type TensorInfo struct {
	Name   string
	Shape  []uint64 // ne0 first (the contiguous dimension)
	Type   Type
	Offset uint64 // from the start of the data section
}

// Elements returns the number of elements of the tensor.
func (t *TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Size returns the number of bytes of the tensor's data.
func (t *TensorInfo) Size() uint64 {
	if len(t.Shape) == 0 {
		return t.Type.RowSize(1)
	}
	if t.Shape[0] == 0 {
		return 0
	}
	return t.Elements() / t.Shape[0] * t.Type.RowSize(t.Shape[0])
}

// File is the parsed header of a GGUF file: metadata and tensor table.
type File struct {
	Version    uint32
	KV         []KV
	Tensors    []TensorInfo
	Alignment  uint64
	DataOffset int64 // absolute offset of the data section
	Size       int64 // size of the whole file

	kvIndex     map[string]int
	tensorIndex map[string]int
}

// Open reads and validates the header of the GGUF file at path.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	g, err := Read(f, st.Size())
	if fe, ok := err.(*FormatError); ok {
		fe.Path = path
	}
	return g, err
}

// Read parses and validates a GGUF file of the given size.
func Read(r io.ReaderAt, size int64) (*File, error) {
	d := &decoder{r: bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 1<<16), size: size}
	f, err := d.file()
	if err != nil {
		return nil, err
	}
	return f, nil
}

type decoder struct {
	r    *bufio.Reader
	off  int64
	size int64
	err  error
}

func (d *decoder) fail(sentinel error, format string, args ...any) {
	if d.err == nil {
		d.err = &FormatError{Offset: d.off, Msg: fmt.Sprintf(format, args...), Err: sentinel}
	}
}

func (d *decoder) bytes(n int64) []byte {
	if d.err != nil {
		return nil
	}
	if n > d.size-d.off {
		d.fail(ErrTruncated, "need %d bytes, file has %d left", n, d.size-d.off)
		return nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.fail(ErrTruncated, "read: %v", err)
		return nil
	}
	d.off += n
	return b
}

func (d *decoder) u8() uint8 {
	if b := d.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *decoder) u16() uint16 {
	if b := d.bytes(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if b := d.bytes(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if b := d.bytes(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (d *decoder) str() string {
	start := d.off
	n := d.u64()
	if d.err != nil {
		return ""
	}
	if n > uint64(d.size-d.off) {
		d.off = start
		d.fail(ErrTruncated, "string of %d bytes exceeds the file", n)
		return ""
	}
	return string(d.bytes(int64(n)))
}

func (d *decoder) file() (*File, error) {
	magic := d.bytes(4)
	if d.err == nil && string(magic) != Magic {
		d.off = 0
		d.fail(ErrInvalid, "bad magic %q, want %q", magic, Magic)
	}
	f := &File{Size: d.size, Alignment: DefaultAlignment,
		kvIndex: map[string]int{}, tensorIndex: map[string]int{}}
	f.Version = d.u32()
	if d.err == nil && (f.Version < 2 || f.Version > 3) {
		d.fail(ErrInvalid, "unsupported version %d (want 2 or 3)", f.Version)
	}
	nTensors := d.u64()
	nKV := d.u64()
	// Every KV takes at least 12 bytes and every tensor info at least 24, so
	// counts beyond what the file could hold are rejected before allocating.
	if d.err == nil && (nKV > uint64(d.size)/12 || nTensors > uint64(d.size)/24) {
		d.fail(ErrInvalid, "%d tensors and %d metadata keys cannot fit in %d bytes", nTensors, nKV, d.size)
	}
	if d.err != nil {
		return nil, d.err
	}
	for i := uint64(0); i < nKV && d.err == nil; i++ {
		at := d.off
		key := d.str()
		if d.err != nil {
			break
		}
		if key == "" {
			d.off = at
			d.fail(ErrInvalid, "metadata key %d is empty", i)
			break
		}
		if _, dup := f.kvIndex[key]; dup {
			d.off = at
			d.fail(ErrInvalid, "duplicate metadata key %q", key)
			break
		}
		kv := d.value(key)
		if d.err != nil {
			break
		}
		f.kvIndex[key] = len(f.KV)
		f.KV = append(f.KV, kv)
	}
	if d.err != nil {
		return nil, d.err
	}
	if i, ok := f.kvIndex["general.alignment"]; ok {
		a, isU32 := f.KV[i].Value.(uint32)
		if !isU32 || a == 0 || a&(a-1) != 0 {
			d.fail(ErrInvalid, "general.alignment must be a power of two uint32, got %v", f.KV[i].Value)
			return nil, d.err
		}
		f.Alignment = uint64(a)
	}
	f.Tensors = make([]TensorInfo, 0, nTensors)
	for i := uint64(0); i < nTensors && d.err == nil; i++ {
		d.tensorInfo(f)
	}
	if d.err != nil {
		return nil, d.err
	}
	f.DataOffset = int64(pad(uint64(d.off), f.Alignment))
	var want uint64
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if t.Offset != want {
			d.fail(ErrInvalid, "tensor %q has data offset %d, want %d", t.Name, t.Offset, want)
			return nil, d.err
		}
		want += pad(t.Size(), f.Alignment)
		if end := uint64(f.DataOffset) + t.Offset + t.Size(); end > uint64(d.size) || end < t.Offset {
			d.off = d.size
			d.fail(ErrTruncated, "tensor %q data ends at byte %d, past the end of the file", t.Name, end)
			return nil, d.err
		}
	}
	return f, nil
}

func (d *decoder) tensorInfo(f *File) {
	at := d.off
	name := d.str()
	if d.err != nil {
		return
	}
	if len(name) >= maxNameLen {
		d.off = at
		d.fail(ErrInvalid, "tensor name %q is %d bytes long, limit %d", name, len(name), maxNameLen-1)
		return
	}
	if _, dup := f.tensorIndex[name]; dup {
		d.off = at
		d.fail(ErrInvalid, "duplicate tensor name %q", name)
		return
	}
	nDims := d.u32()
	if d.err == nil && nDims > maxDims {
		d.fail(ErrInvalid, "tensor %q has %d dimensions, limit %d", name, nDims, maxDims)
	}
	if d.err != nil {
		return
	}
	shape := make([]uint64, nDims)
	elements := uint64(1)
	for j := range shape {
		shape[j] = d.u64()
		if d.err != nil {
			return
		}
		if shape[j] > math.MaxInt64 {
			d.fail(ErrInvalid, "tensor %q dimension %d is negative", name, j)
			return
		}
		if shape[j] != 0 && elements > math.MaxInt64/shape[j] {
			d.fail(ErrInvalid, "tensor %q has too many elements", name)
			return
		}
		elements *= shape[j]
	}
	typ := Type(d.u32())
	if d.err != nil {
		return
	}
	if !typ.Valid() {
		d.fail(ErrInvalid, "tensor %q has unknown type %d", name, uint32(typ))
		return
	}
	ne0 := uint64(1)
	if nDims > 0 {
		ne0 = shape[0]
	}
	if ne0%typ.BlockSize() != 0 {
		d.fail(ErrInvalid, "tensor %q of type %v has rows of %d elements, not a multiple of its block size %d",
			name, typ, ne0, typ.BlockSize())
		return
	}
	offset := d.u64()
	if d.err != nil {
		return
	}
	f.tensorIndex[name] = len(f.Tensors)
	f.Tensors = append(f.Tensors, TensorInfo{Name: name, Shape: shape, Type: typ, Offset: offset})
}

func (d *decoder) value(key string) KV {
	vt := ValueType(d.u32())
	if d.err != nil {
		return KV{}
	}
	if vt != TypeArray {
		if vt.fixedSize() < 0 {
			d.fail(ErrInvalid, "key %q has unknown value type %d", key, uint32(vt))
			return KV{}
		}
		return KV{Key: key, Type: vt, Value: d.scalar(vt)}
	}
	et := ValueType(d.u32())
	n := d.u64()
	if d.err != nil {
		return KV{}
	}
	size := et.fixedSize()
	if size < 0 || et == TypeArray {
		d.fail(ErrInvalid, "key %q is an array of unsupported type %d", key, uint32(et))
		return KV{}
	}
	minSize := uint64(size)
	if et == TypeString {
		minSize = 8
	}
	if n > uint64(d.size-d.off)/minSize {
		d.fail(ErrTruncated, "key %q declares %d elements, more than the file can hold", key, n)
		return KV{}
	}
	return KV{Key: key, Type: TypeArray, Value: d.array(et, int(n))}
}

func (d *decoder) scalar(vt ValueType) any {
	switch vt {
	case TypeUint8:
		return d.u8()
	case TypeInt8:
		return int8(d.u8())
	case TypeUint16:
		return d.u16()
	case TypeInt16:
		return int16(d.u16())
	case TypeUint32:
		return d.u32()
	case TypeInt32:
		return int32(d.u32())
	case TypeFloat32:
		return math.Float32frombits(d.u32())
	case TypeBool:
		at := d.off
		b := d.u8()
		if b > 1 {
			d.off = at
			d.fail(ErrInvalid, "bool value %d is neither 0 nor 1", b)
		}
		return b == 1
	case TypeString:
		return d.str()
	case TypeUint64:
		return d.u64()
	case TypeInt64:
		return int64(d.u64())
	case TypeFloat64:
		return math.Float64frombits(d.u64())
	}
	panic("unreachable")
}

func arrayOf[T any](d *decoder, n int, vt ValueType) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = d.scalar(vt).(T)
		if d.err != nil {
			return nil
		}
	}
	return out
}

func (d *decoder) array(et ValueType, n int) any {
	switch et {
	case TypeUint8:
		return arrayOf[uint8](d, n, et)
	case TypeInt8:
		return arrayOf[int8](d, n, et)
	case TypeUint16:
		return arrayOf[uint16](d, n, et)
	case TypeInt16:
		return arrayOf[int16](d, n, et)
	case TypeUint32:
		return arrayOf[uint32](d, n, et)
	case TypeInt32:
		return arrayOf[int32](d, n, et)
	case TypeFloat32:
		return arrayOf[float32](d, n, et)
	case TypeBool:
		return arrayOf[bool](d, n, et)
	case TypeString:
		return arrayOf[string](d, n, et)
	case TypeUint64:
		return arrayOf[uint64](d, n, et)
	case TypeInt64:
		return arrayOf[int64](d, n, et)
	case TypeFloat64:
		return arrayOf[float64](d, n, et)
	}
	panic("unreachable")
}

func pad(n, align uint64) uint64 { return (n + align - 1) / align * align }

// Lookup returns the metadata pair with the given key.
func (f *File) Lookup(key string) (KV, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return KV{}, false
	}
	return f.KV[i], true
}

// Tensor returns the tensor table entry with the given name.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.tensorIndex[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// String returns the string value of key.
func (f *File) String(key string) (string, error) { return get[string](f, key) }

// Uint32 returns the uint32 value of key.
func (f *File) Uint32(key string) (uint32, error) { return get[uint32](f, key) }

// Float32 returns the float32 value of key.
func (f *File) Float32(key string) (float32, error) { return get[float32](f, key) }

// Strings returns the string-array value of key.
func (f *File) Strings(key string) ([]string, error) { return get[[]string](f, key) }

// ErrMissingKey is wrapped by the errors of the typed getters of File when a
// key is absent.
var ErrMissingKey = errors.New("missing metadata key")

func get[T any](f *File, key string) (T, error) {
	var zero T
	kv, ok := f.Lookup(key)
	if !ok {
		return zero, fmt.Errorf("gguf: %w %q", ErrMissingKey, key)
	}
	v, ok := kv.Value.(T)
	if !ok {
		return zero, fmt.Errorf("gguf: key %q holds %T, want %T", key, kv.Value, zero)
	}
	return v, nil
}
