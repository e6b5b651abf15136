package reference

import (
	"fmt"
	"io"
	"math"
	"os"
	"slices"

	"github.com/labelfree/labelfree/internal/gguf"
)

// Arch is the value of general.architecture that Load accepts.
const Arch = "qwen3"

// Config holds the hyper-parameters of a qwen3 model, read from its GGUF
// metadata (key names in the comments, each prefixed with "qwen3.").
type Config struct {
	Vocab      int     // rows of token_embd.weight (its ne1)
	Hidden     int     // embedding_length
	Layers     int     // block_count
	FFN        int     // feed_forward_length
	Heads      int     // attention.head_count
	KVHeads    int     // attention.head_count_kv; head_count when absent
	HeadDim    int     // attention.key_length (= value_length); Hidden/Heads when absent
	Context    int     // context_length: the longest input Logits accepts
	RopeBase   float64 // rope.freq_base; 10000 when absent
	NormEps    float64 // attention.layer_norm_rms_epsilon
	TiedOutput bool    // the file has no output.weight; logits use token_embd.weight
}

// Model is a qwen3 model with float64 weights.
type Model struct {
	Config Config

	embed      matrix // token_embd: Vocab rows of Hidden
	outputNorm []float64
	output     matrix // output, or embed when tied
	layers     []layer
}

type layer struct {
	attnNorm, qNorm, kNorm, ffnNorm []float64
	wq, wk, wv, wo                  matrix
	gate, up, down                  matrix
}

// matrix maps a vector of cols inputs to rows outputs; element (o, i) is at
// data[o*cols+i], which is ggml's layout of a tensor of shape {cols, rows}.
type matrix struct {
	rows, cols int
	data       []float64
}

// mulVec sets dst = a·x. It panics if the lengths do not match.
func (a matrix) mulVec(dst, x []float64) {
	if len(x) != a.cols || len(dst) != a.rows {
		panic(fmt.Sprintf("reference: mulVec of %dx%d with %d into %d", a.rows, a.cols, len(x), len(dst)))
	}
	for o := range dst {
		row := a.data[o*a.cols : (o+1)*a.cols]
		var s float64
		for i, w := range row {
			s += w * x[i]
		}
		dst[o] = s
	}
}

// Load reads the qwen3 model in the GGUF file at path. It checks the
// architecture, every hyper-parameter, and the presence and shape of every
// tensor, and it rejects tensors and settings this package does not implement.
func Load(path string) (*Model, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reference: %w", err)
	}
	cfg, err := readConfig(f)
	if err != nil {
		return nil, err
	}
	r, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reference: %w", err)
	}
	defer r.Close()
	l := &loader{f: f, r: r, used: map[string]bool{}}

	m := &Model{}
	embd, ok := f.Tensor("token_embd.weight")
	if !ok {
		return nil, fmt.Errorf("reference: token_embd.weight: missing tensor")
	}
	if len(embd.Shape) != 2 || embd.Shape[1] == 0 || embd.Shape[1] > math.MaxInt32 {
		return nil, fmt.Errorf("reference: token_embd.weight: shape %v, want [%d vocab]", embd.Shape, cfg.Hidden)
	}
	cfg.Vocab = int(embd.Shape[1])
	if tokens, err := f.Strings("tokenizer.ggml.tokens"); err == nil && len(tokens) != cfg.Vocab {
		// llama.cpp sizes its logits by the tokenizer and requires token_embd to match.
		return nil, fmt.Errorf("reference: tokenizer.ggml.tokens: %d tokens, token_embd.weight has %d", len(tokens), cfg.Vocab)
	}
	_, hasOutput := f.Tensor("output.weight")
	cfg.TiedOutput = !hasOutput
	m.Config = cfg

	h, q, kv := cfg.Hidden, cfg.Heads*cfg.HeadDim, cfg.KVHeads*cfg.HeadDim
	m.embed = l.matrix("token_embd.weight", h, cfg.Vocab)
	m.outputNorm = l.vector("output_norm.weight", h)
	m.output = m.embed
	if hasOutput {
		m.output = l.matrix("output.weight", h, cfg.Vocab)
	}
	m.layers = make([]layer, cfg.Layers)
	for i := range m.layers {
		name := func(s string) string { return fmt.Sprintf("blk.%d.%s.weight", i, s) }
		m.layers[i] = layer{
			attnNorm: l.vector(name("attn_norm"), h),
			wq:       l.matrix(name("attn_q"), h, q),
			wk:       l.matrix(name("attn_k"), h, kv),
			wv:       l.matrix(name("attn_v"), h, kv),
			wo:       l.matrix(name("attn_output"), q, h),
			qNorm:    l.vector(name("attn_q_norm"), cfg.HeadDim),
			kNorm:    l.vector(name("attn_k_norm"), cfg.HeadDim),
			ffnNorm:  l.vector(name("ffn_norm"), h),
			gate:     l.matrix(name("ffn_gate"), h, cfg.FFN),
			up:       l.matrix(name("ffn_up"), h, cfg.FFN),
			down:     l.matrix(name("ffn_down"), cfg.FFN, h),
		}
	}
	if l.err != nil {
		return nil, l.err
	}
	for _, t := range f.Tensors {
		if !l.used[t.Name] {
			return nil, fmt.Errorf("reference: %s: unsupported tensor (llama.cpp may apply it; this package would not)", t.Name)
		}
	}
	return m, nil
}

// readConfig reads and checks the hyper-parameters. Keys that llama.cpp treats
// as optional get llama.cpp's defaults (llama_model_base::load_hparams in
// src/llama-model.cpp).
func readConfig(f *gguf.File) (Config, error) {
	arch, err := f.String("general.architecture")
	if err != nil {
		return Config{}, fmt.Errorf("reference: %w", err)
	}
	if arch != Arch {
		return Config{}, fmt.Errorf("reference: general.architecture: %q, want %q", arch, Arch)
	}
	r := keyReader{f: f}
	var c Config
	c.Context = r.count("context_length", 0)
	c.Hidden = r.count("embedding_length", 0)
	c.Layers = r.count("block_count", 0)
	c.FFN = r.count("feed_forward_length", 0)
	c.Heads = r.count("attention.head_count", 0)
	c.KVHeads = r.count("attention.head_count_kv", c.Heads)
	if c.Heads > 0 {
		c.HeadDim = r.count("attention.key_length", c.Hidden/c.Heads)
		if v := r.count("attention.value_length", c.Hidden/c.Heads); r.err == nil && v != c.HeadDim {
			r.fail("attention.value_length: %d, want key_length %d (qwen3.cpp asserts they are equal)", v, c.HeadDim)
		}
		if n := r.count("rope.dimension_count", c.HeadDim); r.err == nil && n != c.HeadDim {
			r.fail("rope.dimension_count: %d, want key_length %d (qwen3.cpp asserts they are equal)", n, c.HeadDim)
		}
	}
	c.RopeBase = r.float("rope.freq_base", 10000)
	c.NormEps = r.float("attention.layer_norm_rms_epsilon", math.NaN())
	switch {
	case r.err != nil:
	case c.HeadDim == 0 || c.HeadDim%2 != 0:
		r.fail("attention.key_length: %d, want a positive even number", c.HeadDim)
	case c.KVHeads == 0 || c.Heads%c.KVHeads != 0:
		r.fail("attention.head_count_kv: %d does not divide head_count %d", c.KVHeads, c.Heads)
	case !(c.RopeBase > 0) || math.IsInf(c.RopeBase, 0):
		r.fail("rope.freq_base: %v, want a positive number", c.RopeBase)
	case !(c.NormEps >= 0) || math.IsInf(c.NormEps, 0):
		r.fail("attention.layer_norm_rms_epsilon: %v, want a non-negative number", c.NormEps)
	}
	r.unsupported()
	return c, r.err
}

// keyReader reads "qwen3."-prefixed keys and keeps the first error.
type keyReader struct {
	f   *gguf.File
	err error
}

func (r *keyReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("reference: "+Arch+"."+format, args...)
	}
}

func (r *keyReader) has(key string) bool {
	_, ok := r.f.Lookup(Arch + "." + key)
	return ok
}

// count reads a positive uint32 key; def is used when the key is absent, and
// def == 0 makes the key required.
func (r *keyReader) count(key string, def int) int {
	if r.err != nil {
		return 0
	}
	if !r.has(key) && def > 0 {
		return def
	}
	v, err := r.f.Uint32(Arch + "." + key)
	if err != nil {
		r.err = fmt.Errorf("reference: %w", err)
		return 0
	}
	if v == 0 || v > math.MaxInt32 {
		r.fail("%s: %d, want a positive number", key, v)
		return 0
	}
	return int(v)
}

// float reads a float32 key; def is used when the key is absent, and a NaN
// def makes the key required.
func (r *keyReader) float(key string, def float64) float64 {
	if r.err != nil {
		return 0
	}
	if !r.has(key) && !math.IsNaN(def) {
		return def
	}
	v, err := r.f.Float32(Arch + "." + key)
	if err != nil {
		r.err = fmt.Errorf("reference: %w", err)
		return 0
	}
	return float64(v)
}

// unsupported rejects metadata that would make llama.cpp compute something
// other than what this package computes.
func (r *keyReader) unsupported() {
	if r.err != nil {
		return
	}
	// llama.cpp turns a factor of 0 into no scaling (rope_freq_scale_train).
	for _, key := range []string{"rope.scaling.factor", "rope.scale_linear"} {
		if r.has(key) {
			if v := r.float(key, 0); r.err == nil && v != 0 && v != 1 {
				r.fail("%s: %v: rope scaling is not implemented", key, v)
			}
		}
	}
	if r.has("rope.scaling.attn_factor") {
		if v := r.float("rope.scaling.attn_factor", 1); r.err == nil && v != 1 {
			r.fail("rope.scaling.attn_factor: %v: rope scaling is not implemented", v)
		}
	}
	if kv, ok := r.f.Lookup(Arch + ".attention.causal"); ok && kv.Value != true {
		r.fail("attention.causal: %v: only causal attention is implemented", kv.Value)
	}
}

// loader reads tensors as float64, checking their shapes, and records which
// tensors of the file were used. It keeps the first error.
type loader struct {
	f    *gguf.File
	r    io.ReaderAt
	used map[string]bool
	err  error
}

func (l *loader) read(name string, shape ...int) []float64 {
	if l.err != nil {
		return nil
	}
	t, ok := l.f.Tensor(name)
	if !ok {
		l.err = fmt.Errorf("reference: %s: missing tensor", name)
		return nil
	}
	want := make([]uint64, len(shape))
	for i, d := range shape {
		want[i] = uint64(d)
	}
	if !slices.Equal(t.Shape, want) {
		l.err = fmt.Errorf("reference: %s: shape %v, want %v", name, t.Shape, want)
		return nil
	}
	v32, err := l.f.Float32s(l.r, t)
	if err != nil {
		l.err = fmt.Errorf("reference: %s: %w", name, err)
		return nil
	}
	l.used[name] = true
	v := make([]float64, len(v32))
	for i, x := range v32 {
		v[i] = float64(x)
	}
	return v
}

func (l *loader) vector(name string, n int) []float64 { return l.read(name, n) }

// matrix reads a projection from in inputs to out outputs (shape {in, out}).
func (l *loader) matrix(name string, in, out int) matrix {
	return matrix{rows: out, cols: in, data: l.read(name, in, out)}
}
