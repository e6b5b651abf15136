package reference

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/labelfree/labelfree/internal/gguf"
)

// tensor is one tensor of a test fixture.
type tensor struct {
	name   string
	shape  []uint64
	values []float32
}

// Kinds of tensors, for the functions that draw their values.
const (
	normKind = "norm" // a vector of RMSNorm weights
	projKind = "proj" // an embedding or projection matrix
)

// modelTensors returns every tensor of a qwen3 model of shape c, in the order
// of tensor_order in testdata/forward.py, with output.weight unless tied.
// draw is called once per element, in order, with the tensor's kind.
func modelTensors(c Config, tied bool, draw func(kind string) float32) []tensor {
	h, q, kv := uint64(c.Hidden), uint64(c.Heads*c.HeadDim), uint64(c.KVHeads*c.HeadDim)
	vocab, ffn, d := uint64(c.Vocab), uint64(c.FFN), uint64(c.HeadDim)
	type spec struct {
		name  string
		shape []uint64
		kind  string
	}
	specs := []spec{
		{"token_embd.weight", []uint64{h, vocab}, projKind},
		{"output_norm.weight", []uint64{h}, normKind},
	}
	if !tied {
		specs = append(specs, spec{"output.weight", []uint64{h, vocab}, projKind})
	}
	for i := range c.Layers {
		b := "blk." + strconv.Itoa(i) + "."
		specs = append(specs,
			spec{b + "attn_norm.weight", []uint64{h}, normKind},
			spec{b + "attn_q.weight", []uint64{h, q}, projKind},
			spec{b + "attn_k.weight", []uint64{h, kv}, projKind},
			spec{b + "attn_v.weight", []uint64{h, kv}, projKind},
			spec{b + "attn_output.weight", []uint64{q, h}, projKind},
			spec{b + "attn_q_norm.weight", []uint64{d}, normKind},
			spec{b + "attn_k_norm.weight", []uint64{d}, normKind},
			spec{b + "ffn_norm.weight", []uint64{h}, normKind},
			spec{b + "ffn_gate.weight", []uint64{h, ffn}, projKind},
			spec{b + "ffn_up.weight", []uint64{h, ffn}, projKind},
			spec{b + "ffn_down.weight", []uint64{ffn, h}, projKind},
		)
	}
	out := make([]tensor, len(specs))
	for i, s := range specs {
		n := uint64(1)
		for _, x := range s.shape {
			n *= x
		}
		v := make([]float32, n)
		for j := range v {
			v[j] = draw(s.kind)
		}
		out[i] = tensor{name: s.name, shape: s.shape, values: v}
	}
	return out
}

// randomDraw returns seeded random weights: norm weights in [0.5, 1.5),
// projections in [-0.5, 0.5).
func randomDraw(seed uint64) func(string) float32 {
	r := rand.New(rand.NewPCG(seed, 0))
	return func(kind string) float32 {
		if kind == normKind {
			return float32(0.5 + r.Float64())
		}
		return float32(r.Float64() - 0.5)
	}
}

// configKeys returns the metadata of a qwen3 model of shape c.
func configKeys(c Config) []gguf.KV {
	kv := func(key string, v any) gguf.KV { return gguf.KV{Key: key, Value: v} }
	return []gguf.KV{
		kv("general.architecture", "qwen3"),
		kv("qwen3.context_length", uint32(c.Context)),
		kv("qwen3.embedding_length", uint32(c.Hidden)),
		kv("qwen3.block_count", uint32(c.Layers)),
		kv("qwen3.feed_forward_length", uint32(c.FFN)),
		kv("qwen3.attention.head_count", uint32(c.Heads)),
		kv("qwen3.attention.head_count_kv", uint32(c.KVHeads)),
		kv("qwen3.attention.key_length", uint32(c.HeadDim)),
		kv("qwen3.attention.value_length", uint32(c.HeadDim)),
		kv("qwen3.rope.freq_base", float32(c.RopeBase)),
		kv("qwen3.attention.layer_norm_rms_epsilon", float32(c.NormEps)),
	}
}

// setKey replaces the value of key in keys, or appends it; a nil value
// removes it.
func setKey(keys []gguf.KV, key string, value any) []gguf.KV {
	keys = slices.DeleteFunc(slices.Clone(keys), func(kv gguf.KV) bool { return kv.Key == key })
	if value != nil {
		keys = append(keys, gguf.KV{Key: key, Value: value})
	}
	return keys
}

// find returns the tensor called name; it fails the test if there is none.
func find(t *testing.T, tensors []tensor, name string) *tensor {
	t.Helper()
	for i := range tensors {
		if tensors[i].name == name {
			return &tensors[i]
		}
	}
	t.Fatalf("fixture has no tensor %s", name)
	return nil
}

// writeModel writes a GGUF file with the given metadata and F32 tensors into
// a temporary directory and returns its path.
func writeModel(t *testing.T, keys []gguf.KV, tensors []tensor) string {
	t.Helper()
	var w gguf.Writer
	for _, kv := range keys {
		w.Add(kv.Key, kv.Value)
	}
	for _, x := range tensors {
		if err := w.AddFloat32(x.name, x.shape, x.values); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "model.gguf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// load writes and loads a model; it fails the test on an error.
func load(t *testing.T, keys []gguf.KV, tensors []tensor) *Model {
	t.Helper()
	m, err := Load(writeModel(t, keys, tensors))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// smallConfig is the shape of the random models of the tests: grouped-query
// attention (4 query heads over 2 KV heads) and a head size whose heads do
// not add up to the hidden size, so that a mixed-up dimension fails to load.
var smallConfig = Config{
	Vocab: 13, Hidden: 16, Layers: 2, FFN: 24, Heads: 4, KVHeads: 2, HeadDim: 6,
	Context: 16, RopeBase: 10000, NormEps: 0x1p-20, // exact in float32, so Config round-trips
}
