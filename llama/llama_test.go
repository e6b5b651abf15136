//go:build cgo

package llama_test

import (
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/labelfree/labelfree/internal/gguf"
	"github.com/labelfree/labelfree/internal/testmodel"
	"github.com/labelfree/labelfree/llama"
)

var (
	tinyOnce sync.Once
	tinyDir  string
	tinyErr  error
)

// tinyModel writes the tiny model (seed 1) of the given weight type once per
// test binary and returns its path.
func tinyModel(t testing.TB, typ gguf.Type) string {
	t.Helper()
	tinyOnce.Do(func() { tinyDir, tinyErr = os.MkdirTemp("", "labelfree-llama-test") })
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	p := filepath.Join(tinyDir, "tiny-"+typ.String()+".gguf")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if err := testmodel.Write(p, &testmodel.Options{Shape: testmodel.Tiny, Seed: 1, Type: typ}); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMain(m *testing.M) {
	code := m.Run()
	if tinyDir != "" {
		os.RemoveAll(tinyDir)
	}
	os.Exit(code)
}

func load(t testing.TB, path string) *llama.Model {
	t.Helper()
	m, err := llama.Load(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestCPUDevicePresent(t *testing.T) {
	devs, err := llama.Devices()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if d.Name == "CPU" && d.Type == "cpu" {
			info, _ := llama.SystemInfo()
			t.Logf("CPU backend: %s; %s", d.Description, info)
			return
		}
	}
	t.Fatalf("no CPU device among %v: the ggml CPU backend did not load", devs)
}

func TestTokenizeByteVocab(t *testing.T) {
	m := load(t, tinyModel(t, gguf.F32))
	if m.VocabSize() != 261 {
		t.Fatalf("vocab size %d, want 261", m.VocabSize())
	}
	// The byte-level vocabulary has no merges: one token per byte, id = byte.
	text := "Hi ünï\n"
	toks, err := m.Tokenize(text, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) != len(text) {
		t.Fatalf("%d tokens for %d bytes: %v", len(toks), len(text), toks)
	}
	for i := range len(text) {
		if toks[i] != int32(text[i]) {
			t.Errorf("token %d = %d, want byte %d", i, toks[i], text[i])
		}
	}
	special, err := m.Tokenize("<|im_start|>a<think>", true)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{testmodel.ImStart, 'a', testmodel.Think}; !slices.Equal(special, want) {
		t.Errorf("special tokens parsed as %v, want %v", special, want)
	}
	plain, _ := m.Tokenize("<|im_start|>", false)
	if len(plain) != len("<|im_start|>") {
		t.Errorf("parseSpecial=false gave %v, want the bytes of the text", plain)
	}
	if s, err := m.TokenText(testmodel.ImEnd); err != nil || s != "<|im_end|>" {
		t.Errorf("TokenText(im_end) = %q, %v", s, err)
	}
}

func TestLogProbsNormalised(t *testing.T) {
	m := load(t, tinyModel(t, gguf.F32))
	s, err := m.NewSession(llama.ExactSession(128))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	lps, err := s.LogProbs(t.Context(), []int32{testmodel.ImStart, 'u', 's', 'e', 'r'})
	if err != nil {
		t.Fatal(err)
	}
	for i, lp := range lps {
		var sum float64
		for _, x := range lp {
			if math.IsNaN(x) || x > 0 {
				t.Fatalf("position %d: log-probability %v", i, x)
			}
			sum += math.Exp(x)
		}
		// log Z comes from a float32 exp polynomial (relative error < 2e-7,
		// see stats.c), summed in float lanes and double blocks.
		if math.Abs(sum-1) > 1e-6 {
			t.Errorf("position %d: probabilities sum to %v", i, sum)
		}
	}
}

func TestSessionErrors(t *testing.T) {
	m, err := llama.Load(t.Context(), tinyModel(t, gguf.F32), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.NewSession(&llama.SessionConfig{ContextLen: 8, BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Logits(t.Context(), []int32{1, 2, 261}); err == nil || !strings.Contains(err.Error(), "vocabulary") {
		t.Errorf("token 261 accepted: %v", err)
	}
	if _, err := s.Logits(t.Context(), []int32{-1}); err == nil {
		t.Error("token -1 accepted")
	}
	// llama.cpp pads the context to a multiple of 256 positions.
	if _, err := s.Logits(t.Context(), make([]int32, s.ContextLen()+1)); err == nil || !strings.Contains(err.Error(), "context") {
		t.Errorf("%d tokens in a context of %d accepted: %v", s.ContextLen()+1, s.ContextLen(), err)
	}
	if _, err := s.Logits(t.Context(), nil); err == nil {
		t.Error("empty input accepted")
	}
	// Batches of 4 over 7 tokens: the result must not depend on batching.
	seven := []int32{72, 101, 108, 108, 111, 33, 10}
	batched, err := s.LogProbs(t.Context(), seven)
	if err != nil {
		t.Fatal(err)
	}
	whole, _ := m.NewSession(&llama.SessionConfig{ContextLen: 8})
	one, err := whole.LogProbs(t.Context(), seven)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(batched, one); d > 1e-3 {
		t.Errorf("batched evaluation differs by %g", d)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close of a session of a closed model: %v", err)
	}
	if _, err := s.Logits(t.Context(), seven); !errors.Is(err, llama.ErrClosed) {
		t.Errorf("Logits after Close: %v, want ErrClosed", err)
	}
	if _, err := m.Tokenize("x", false); !errors.Is(err, llama.ErrClosed) {
		t.Errorf("Tokenize after Close: %v, want ErrClosed", err)
	}
	if _, err := m.NewSession(nil); !errors.Is(err, llama.ErrClosed) {
		t.Errorf("NewSession after Close: %v, want ErrClosed", err)
	}
}

func maxDiff(a, b [][]float64) float64 {
	var d float64
	for i := range a {
		for j := range a[i] {
			d = max(d, math.Abs(a[i][j]-b[i][j]))
		}
	}
	return d
}

// TestLoadBadFiles checks that files llama.cpp must not see are refused with
// an error naming the problem, and that the rest fail inside llama.cpp
// without taking the process down.
func TestLoadBadFiles(t *testing.T) {
	good, err := os.ReadFile(tinyModel(t, gguf.F32))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// noTensor is a well-formed GGUF that declares qwen3 but lacks its
	// tensors, with the metadata pairs kv (key, value, key, value…).
	noTensor := func(kv ...any) []byte {
		var w gguf.Writer
		w.Add("general.architecture", "qwen3")
		w.Add("qwen3.block_count", uint32(1))
		for i := 0; i < len(kv); i += 2 {
			w.Add(kv[i].(string), kv[i+1])
		}
		p := filepath.Join(dir, "gen.gguf")
		f, _ := os.Create(p)
		defer f.Close()
		if _, err := w.WriteTo(f); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		return b
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"text", []byte("this is not a model\n"), "bad magic"},
		{"truncated header", good[:100], "truncated"},
		{"truncated data", good[:len(good)-1000], "past the end"},
		{"flipped version", append(append([]byte("GGUF"), 9, 0, 0, 0), good[8:]...), "version"},
		{"no tensors", noTensor(), "llama.cpp said"},
		// llama.cpp v0.5.0 aborts the process on these (GGML_ASSERT).
		{"duplicate token", noTensor("tokenizer.ggml.model", "gpt2", "tokenizer.ggml.tokens", []string{"a", "b", "a"}),
			`tokens 0 and 2 are both "a"`},
		{"token types", noTensor("tokenizer.ggml.model", "gpt2", "tokenizer.ggml.tokens", []string{"a", "b"},
			"tokenizer.ggml.token_type", []int32{1}), "want 2 int32 types"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".gguf")
			if err := os.WriteFile(p, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			m, err := llama.Load(t.Context(), p, nil)
			if err == nil {
				m.Close()
				t.Fatal("loaded")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the file and %q", err, tt.want)
			}
		})
	}
	if _, err := llama.Load(t.Context(), filepath.Join(dir, "missing.gguf"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// vocabFile returns the real Qwen2/Qwen3 vocabulary of the installed
// llama.cpp source, or skips.
func vocabFile(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("LABELFREE_QWEN_VOCAB"); p != "" {
		return p
	}
	out, err := exec.Command("pkg-config", "--variable=prefix", "llama").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "src", "models", "ggml-vocab-qwen2.gguf")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("real Qwen vocabulary not found: install llama.cpp with scripts/install-llama.sh or set LABELFREE_QWEN_VOCAB")
	return ""
}

// qwenModel returns a tiny-shaped model (1 layer, tied output) that carries
// the real 151,936-token Qwen vocabulary with Qwen3's added tokens, written
// once per test binary; it skips without the vocabulary file.
func qwenModel(t testing.TB) string {
	t.Helper()
	vocab := vocabFile(t)
	tinyModel(t, gguf.F32) // creates tinyDir
	p := filepath.Join(tinyDir, "tiny-qwen-vocab.gguf")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	shape := testmodel.Tiny
	shape.Name, shape.Tied, shape.Layers = "tiny-qwen-vocab", true, 1
	if err := testmodel.Write(p, &testmodel.Options{Shape: shape, Seed: 2, VocabFile: vocab}); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRealVocabulary loads a model with the real Qwen vocabulary and
// evaluates a chat prompt in the exact configuration.
func TestRealVocabulary(t *testing.T) {
	m := load(t, qwenModel(t))
	if m.VocabSize() != 151936 {
		t.Errorf("vocab size %d, want 151936", m.VocabSize())
	}
	toks, err := m.Tokenize("<|im_start|>user\nHello<|im_end|>", true)
	if err != nil {
		t.Fatal(err)
	}
	// Ids of Qwen2/Qwen3's tokenizer.json: <|im_start|> 151644, <|im_end|> 151645.
	if len(toks) < 3 || toks[0] != 151644 || toks[len(toks)-1] != 151645 {
		t.Errorf("tokens %v, want 151644 … 151645", toks)
	}
	s, err := m.NewSession(llama.ExactSession(64))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.LogProbs(t.Context(), toks); err != nil {
		t.Fatal(err)
	}
}
