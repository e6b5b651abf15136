//go:build cgo

package llama_test

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/labelfree/labelfree/internal/gguf"
	"github.com/labelfree/labelfree/internal/testmodel"
	"github.com/labelfree/labelfree/llama"
)

var prompt = []int32{257, 117, 115, 101, 114, 10, 72, 105, 33} // <|im_start|>user\nHi!

func promptLogProbs(t *testing.T, path string) [][]float64 {
	t.Helper()
	m := load(t, path)
	s, err := m.NewSession(llama.ExactSession(64))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	lp, err := s.LogProbs(t.Context(), prompt)
	if err != nil {
		t.Fatal(err)
	}
	return lp
}

// TestWrittenModelsLoad loads every weight format the generator and
// Quantize write, and bounds how far each moves the log-probabilities of
// the F32 model. The bounds are loose sanity limits (measured: see the log),
// not accuracy claims.
func TestWrittenModelsLoad(t *testing.T) {
	f32 := tinyModel(t, gguf.F32)
	base := promptLogProbs(t, f32)
	dir := t.TempDir()
	tests := []struct {
		name  string
		make  func() (string, error)
		bound float64
		typ   gguf.Type // type of blk.0.attn_q.weight after conversion
	}{
		{"F16", func() (string, error) { return tinyModel(t, gguf.F16), nil }, 0.05, gguf.F16},
		{"Q8_0", func() (string, error) {
			p := filepath.Join(dir, "q8_0.gguf")
			return p, llama.Quantize(t.Context(), f32, p, llama.Q8_0, 0)
		}, 1.0, gguf.Q8_0},
		{"Q4_K_M", func() (string, error) {
			// Rows of 64 are shorter than a k-quant block (256), so llama.cpp
			// falls back to a 32-block type for these tensors.
			p := filepath.Join(dir, "q4_k_m.gguf")
			return p, llama.Quantize(t.Context(), f32, p, llama.Q4_K_M, 0)
		}, 3.0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.make()
			if err != nil {
				t.Fatal(err)
			}
			f, err := gguf.Open(p)
			if err != nil {
				t.Fatalf("llama.cpp wrote a file our reader rejects: %v", err)
			}
			q, _ := f.Tensor("blk.0.attn_q.weight")
			if tt.typ != 0 && q.Type != tt.typ {
				t.Errorf("attn_q type %v, want %v", q.Type, tt.typ)
			}
			if q.Type == gguf.F32 {
				t.Errorf("attn_q still F32 after conversion")
			}
			d := maxDiff(base, promptLogProbs(t, p))
			t.Logf("%s (attn_q %v): max |Δ log p| vs F32 = %.3g", tt.name, q.Type, d)
			if d > tt.bound || math.IsNaN(d) {
				t.Errorf("max |Δ log p| = %g, bound %g", d, tt.bound)
			}
		})
	}
	if err := llama.Quantize(t.Context(), filepath.Join(dir, "none.gguf"), filepath.Join(dir, "x.gguf"), llama.Q8_0, 0); err == nil {
		t.Error("quantizing a missing file succeeded")
	}
}

// TestRealShapesLoad generates the real Qwen3-0.6B and 1.7B shapes (F16,
// then Q4_K_M), loads them and evaluates a prompt. It writes several GB and
// takes minutes, so it runs only with LABELFREE_TEST_REAL_SHAPES=1.
func TestRealShapesLoad(t *testing.T) {
	if os.Getenv("LABELFREE_TEST_REAL_SHAPES") != "1" {
		t.Skip("set LABELFREE_TEST_REAL_SHAPES=1 to generate and load the Qwen3-0.6B and 1.7B shapes (minutes, GBs of disk)")
	}
	vocab := vocabFile(t)
	for _, shape := range []testmodel.Shape{testmodel.Qwen3_0_6B, testmodel.Qwen3_1_7B} {
		t.Run(shape.Name, func(t *testing.T) {
			dir := t.TempDir()
			f16 := filepath.Join(dir, "f16.gguf")
			if err := testmodel.Write(f16, &testmodel.Options{Shape: shape, Seed: 1, Type: gguf.F16, VocabFile: vocab}); err != nil {
				t.Fatal(err)
			}
			q := filepath.Join(dir, "q4_k_m.gguf")
			if err := llama.Quantize(t.Context(), f16, q, llama.Q4_K_M, 0); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{f16, q} {
				m := load(t, p)
				s, err := m.NewSession(llama.ExactSession(64))
				if err != nil {
					t.Fatal(err)
				}
				toks, _ := m.Tokenize("<|im_start|>user\nHello<|im_end|>", true)
				if _, err := s.LogProbs(t.Context(), toks); err != nil {
					t.Fatal(err)
				}
				s.Close()
				m.Close()
			}
		})
	}
}
