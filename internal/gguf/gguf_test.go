package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// sample builds a small valid GGUF file with every metadata type and two
// tensors (F32 and F16).
func sample(t testing.TB) []byte {
	t.Helper()
	var w Writer
	w.Add("general.architecture", "test")
	w.Add("u8", uint8(7))
	w.Add("i8", int8(-7))
	w.Add("u16", uint16(700))
	w.Add("i16", int16(-700))
	w.Add("u32", uint32(70000))
	w.Add("i32", int32(-70000))
	w.Add("f32", float32(1.5))
	w.Add("bool", true)
	w.Add("u64", uint64(1)<<40)
	w.Add("i64", int64(-1)<<40)
	w.Add("f64", 2.25)
	w.Add("strs", []string{"a", "", "ßc"})
	w.Add("ints", []int{1, -2, 3})
	w.Add("f32s", []float32{0.5, -0.25})
	if err := w.AddFloat32("a.weight", []uint64{3, 2}, []float32{1, 2, 3, 4, 5, 6}); err != nil {
		t.Fatal(err)
	}
	half := []float32{0.5, -2, 65504}
	if err := w.AddTensor("b.weight", F16, []uint64{3}, func(out io.Writer) error { return EncodeF16(out, half) }); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	data := sample(t)
	f, err := Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"general.architecture": "test", "u8": uint8(7), "i8": int8(-7), "u16": uint16(700),
		"i16": int16(-700), "u32": uint32(70000), "i32": int32(-70000), "f32": float32(1.5),
		"bool": true, "u64": uint64(1) << 40, "i64": int64(-1) << 40, "f64": 2.25,
		"strs": []string{"a", "", "ßc"}, "ints": []int32{1, -2, 3}, "f32s": []float32{0.5, -0.25},
	}
	if len(f.KV) != len(want) {
		t.Errorf("got %d keys, want %d", len(f.KV), len(want))
	}
	for k, v := range want {
		kv, ok := f.Lookup(k)
		if !ok {
			t.Errorf("key %q missing", k)
			continue
		}
		if !reflect.DeepEqual(kv.Value, v) {
			t.Errorf("key %q = %#v, want %#v", k, kv.Value, v)
		}
	}
	if f.DataOffset%DefaultAlignment != 0 {
		t.Errorf("data offset %d not aligned", f.DataOffset)
	}
	tests := []struct {
		name  string
		shape []uint64
		want  []float32
	}{
		{"a.weight", []uint64{3, 2}, []float32{1, 2, 3, 4, 5, 6}},
		{"b.weight", []uint64{3}, []float32{0.5, -2, 65504}}, // all exactly representable in f16
	}
	for _, tt := range tests {
		ti, ok := f.Tensor(tt.name)
		if !ok {
			t.Fatalf("tensor %q missing", tt.name)
		}
		if !reflect.DeepEqual(ti.Shape, tt.shape) {
			t.Errorf("%s shape %v, want %v", tt.name, ti.Shape, tt.shape)
		}
		got, err := f.Float32s(bytes.NewReader(data), ti)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, got, tt.want)
		}
	}
	if s, err := f.String("general.architecture"); err != nil || s != "test" {
		t.Errorf("String = %q, %v", s, err)
	}
	if _, err := f.Uint32("missing"); !errors.Is(err, ErrMissingKey) {
		t.Errorf("missing key error = %v, want ErrMissingKey", err)
	}
	if _, err := f.Uint32("f32"); err == nil {
		t.Error("Uint32 of a float32 key succeeded")
	}
}

// TestEveryTruncationFails cuts a valid file at every length: each prefix
// must be rejected with an error, never accepted and never a panic.
func TestEveryTruncationFails(t *testing.T) {
	data := sample(t)
	for n := 0; n < len(data); n++ {
		// The zero padding after the last tensor is not needed by readers.
		f, err := Read(bytes.NewReader(data[:n]), int64(n))
		if err == nil {
			last := f.Tensors[len(f.Tensors)-1]
			if end := f.DataOffset + int64(last.Offset+last.Size()); int64(n) < end {
				t.Fatalf("prefix of %d bytes accepted, data ends at %d", n, end)
			}
			continue
		}
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Fatalf("prefix %d: error %v is not a *FormatError", n, err)
		}
	}
}

// corrupt returns a copy of data with b written at offset off.
func corrupt(data []byte, off int, b ...byte) []byte {
	c := append([]byte(nil), data...)
	copy(c[off:], b)
	return c
}

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func TestRejects(t *testing.T) {
	data := sample(t)
	// Offset of the first key's value type: magic(4) version(4) counts(16), key length(8) + key.
	firstType := 24 + 8 + len("general.architecture")
	tensorInfo := bytes.Index(data, []byte("a.weight"))
	tests := []struct {
		name     string
		data     []byte
		sentinel error
	}{
		{"empty", nil, ErrTruncated},
		{"bad magic", corrupt(data, 0, 'G', 'G', 'U', 'X'), ErrInvalid},
		{"version 1", corrupt(data, 4, le32(1)...), ErrInvalid},
		{"version 4", corrupt(data, 4, le32(4)...), ErrInvalid},
		{"huge tensor count", corrupt(data, 8, le64(1<<60)...), ErrInvalid},
		{"huge kv count", corrupt(data, 16, le64(1<<60)...), ErrInvalid},
		{"unknown value type", corrupt(data, firstType, le32(99)...), ErrInvalid},
		{"huge string", corrupt(data, 24, le64(1<<62)...), ErrTruncated},
		{"empty key", corrupt(data, 24, le64(0)...), ErrInvalid},
		{"3 dims read as 5", corrupt(data, tensorInfo+len("a.weight"), le32(5)...), ErrInvalid},
		{"unknown tensor type", corrupt(data, tensorInfo+len("a.weight")+4+16, le32(4)...), ErrInvalid},
		{"q8_0 with 3-element rows", corrupt(data, tensorInfo+len("a.weight")+4+16, le32(uint32(Q8_0))...), ErrInvalid},
		{"wrong offset", corrupt(data, tensorInfo+len("a.weight")+4+16+4, le64(32)...), ErrInvalid},
		{"huge dimension", corrupt(data, tensorInfo+len("a.weight")+4, le64(1<<62)...), ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tt.data), int64(len(tt.data)))
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("err = %v, want %v", err, tt.sentinel)
			}
		})
	}
}

func TestOpenNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.gguf")
	if err := os.WriteFile(path, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Path != path {
		t.Fatalf("err = %v, want a FormatError naming %s", err, path)
	}
}

func TestWriterRejects(t *testing.T) {
	var w Writer
	if err := w.AddFloat32("x", []uint64{2}, []float32{1}); err == nil {
		t.Error("AddFloat32 with 1 value for shape [2] succeeded")
	}
	if err := w.AddTensor("q", Q8_0, []uint64{3}, nil); err == nil {
		t.Error("Q8_0 tensor with a 3-element row accepted")
	}
	_ = w.AddFloat32("x", []uint64{1}, []float32{1})
	if err := w.AddFloat32("x", []uint64{1}, []float32{1}); err == nil {
		t.Error("duplicate tensor accepted")
	}
	short := Writer{}
	_ = short.AddTensor("s", F32, []uint64{4}, func(out io.Writer) error { _, err := out.Write(make([]byte, 8)); return err })
	if _, err := short.WriteTo(io.Discard); err == nil {
		t.Error("tensor writing 8 of 16 bytes accepted")
	}
}

func FuzzRead(f *testing.F) {
	data := sample(f)
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add(data[:40])
	f.Add([]byte("GGUF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for i := range g.Tensors {
			ti := &g.Tensors[i]
			if end := g.DataOffset + int64(ti.Offset+ti.Size()); end > int64(len(b)) {
				t.Fatalf("accepted tensor %q ending at %d past %d bytes", ti.Name, end, len(b))
			}
		}
	})
}
