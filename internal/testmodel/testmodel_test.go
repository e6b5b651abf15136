package testmodel

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/internal/gguf"
)

func write(t *testing.T, opts *Options) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "m.gguf")
	if err := Write(p, opts); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDeterministic(t *testing.T) {
	a, _ := os.ReadFile(write(t, &Options{Shape: Tiny, Seed: 7}))
	b, _ := os.ReadFile(write(t, &Options{Shape: Tiny, Seed: 7}))
	c, _ := os.ReadFile(write(t, &Options{Shape: Tiny, Seed: 8}))
	if !bytes.Equal(a, b) {
		t.Error("same seed gave different files")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds gave the same file")
	}
}

func TestTinyLayout(t *testing.T) {
	for _, typ := range []gguf.Type{gguf.F32, gguf.F16} {
		t.Run(typ.String(), func(t *testing.T) {
			p := write(t, &Options{Shape: Tiny, Seed: 1, Type: typ})
			f, err := gguf.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			if arch, _ := f.String("general.architecture"); arch != "qwen3" {
				t.Errorf("architecture %q", arch)
			}
			tokens, err := f.Strings("tokenizer.ggml.tokens")
			if err != nil || len(tokens) != 261 {
				t.Fatalf("tokens: %d, %v; want 256 bytes + 5 specials", len(tokens), err)
			}
			// GPT-2 bytes_to_unicode: 'A' is itself, space is U+0120 'Ġ', newline U+010A 'Ċ'.
			if tokens['A'] != "A" || tokens[' '] != "Ġ" || tokens['\n'] != "Ċ" || tokens[ImEnd] != "<|im_end|>" {
				t.Errorf("tokens A=%q space=%q newline=%q im_end=%q", tokens['A'], tokens[' '], tokens['\n'], tokens[ImEnd])
			}
			seen := map[string]bool{}
			for _, tok := range tokens {
				if seen[tok] {
					t.Fatalf("token %q appears twice", tok)
				}
				seen[tok] = true
			}
			var names []string
			for _, ti := range f.Tensors {
				names = append(names, ti.Name)
				want := typ
				if len(ti.Shape) == 1 {
					want = gguf.F32
				}
				if ti.Type != want {
					t.Errorf("%s has type %v, want %v", ti.Name, ti.Type, want)
				}
			}
			if !reflect.DeepEqual(names, TensorNames(Tiny)) {
				t.Errorf("tensors %v\nwant %v", names, TensorNames(Tiny))
			}
			q, _ := f.Tensor("blk.1.attn_q.weight")
			if !reflect.DeepEqual(q.Shape, []uint64{64, 128}) { // 4 heads of 32: wider than hidden, as in Qwen3
				t.Errorf("attn_q shape %v", q.Shape)
			}
			k, _ := f.Tensor("blk.0.attn_k.weight")
			if !reflect.DeepEqual(k.Shape, []uint64{64, 64}) {
				t.Errorf("attn_k shape %v, want [64 64] (2 kv heads of 32)", k.Shape)
			}
		})
	}
}

func TestWeightStatistics(t *testing.T) {
	p := write(t, &Options{Shape: Tiny, Seed: 3})
	f, _ := gguf.Open(p)
	r, _ := os.Open(p)
	defer r.Close()
	ti, _ := f.Tensor("blk.0.ffn_down.weight") // in = 128: std 1/√128 ≈ 0.0884
	v, err := f.Float32s(r, ti)
	if err != nil {
		t.Fatal(err)
	}
	var sum, sq float64
	for _, x := range v {
		sum += float64(x)
		sq += float64(x) * float64(x)
	}
	n := float64(len(v))
	mean, variance := sum/n, sq/n-(sum/n)*(sum/n)
	if mean > 0.005 || mean < -0.005 || variance < 0.0884*0.0884*0.95 || variance > 0.0884*0.0884*1.05 {
		t.Errorf("ffn_down mean %g variance %g, want ≈0 and ≈%g", mean, variance, 0.0884*0.0884)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		opts *Options
		want string
	}{
		{"nil", nil, "nil options"},
		{"real shape without vocab", &Options{Shape: Qwen3_0_6B}, "VocabFile"},
		{"bad heads", &Options{Shape: Shape{Hidden: 8, Layers: 1, Heads: 3, KVHeads: 2, HeadDim: 4, FFN: 8, Context: 8}}, "invalid shape"},
		{"q8 weights", &Options{Shape: Tiny, Type: gguf.Q8_0}, "weight type"},
		{"missing vocab file", &Options{Shape: Tiny, VocabFile: filepath.Join(dir, "none.gguf")}, "vocab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".gguf")
			err := Write(p, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("%s left behind after failure", p)
			}
		})
	}
	if _, err := ShapeByName("qwen3-0.6b"); err != nil {
		t.Error(err)
	}
	if _, err := ShapeByName("huge"); err == nil {
		t.Error("unknown shape accepted")
	}
}
