package reference

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/internal/gguf"
)

func TestLoadErrors(t *testing.T) {
	c := smallConfig
	keys := configKeys(c)
	base := modelTensors(c, false, randomDraw(5))
	without := func(name string) []tensor {
		return slices.DeleteFunc(slices.Clone(base), func(x tensor) bool { return x.name == name })
	}
	reshaped := func(name string, shape ...uint64) []tensor {
		out := slices.Clone(base)
		for i := range out {
			if out[i].name == name {
				n := uint64(1)
				for _, d := range shape {
					n *= d
				}
				out[i] = tensor{name: name, shape: shape, values: make([]float32, n)}
			}
		}
		return out
	}
	with := func(x tensor) []tensor { return append(slices.Clone(base), x) }

	tests := []struct {
		name    string
		keys    []gguf.KV
		tensors []tensor
		want    string
	}{
		{"wrong architecture", setKey(keys, "general.architecture", "llama"), base,
			`reference: general.architecture: "llama", want "qwen3"`},
		{"no architecture", setKey(keys, "general.architecture", nil), base,
			`general.architecture`},
		{"missing key", setKey(keys, "qwen3.block_count", nil), base,
			`"qwen3.block_count"`},
		{"missing epsilon", setKey(keys, "qwen3.attention.layer_norm_rms_epsilon", nil), base,
			`"qwen3.attention.layer_norm_rms_epsilon"`},
		{"key of wrong type", setKey(keys, "qwen3.embedding_length", int32(16)), base,
			`"qwen3.embedding_length" holds int32, want uint32`},
		{"zero key", setKey(keys, "qwen3.feed_forward_length", uint32(0)), base,
			`reference: qwen3.feed_forward_length: 0, want a positive number`},
		{"kv heads do not divide heads", setKey(keys, "qwen3.attention.head_count_kv", uint32(3)), base,
			`reference: qwen3.attention.head_count_kv: 3 does not divide head_count 4`},
		{"value length differs", setKey(keys, "qwen3.attention.value_length", uint32(8)), base,
			`reference: qwen3.attention.value_length: 8, want key_length 6`},
		{"rope dimensions differ", setKey(keys, "qwen3.rope.dimension_count", uint32(4)), base,
			`reference: qwen3.rope.dimension_count: 4, want key_length 6`},
		{"odd head size", setKey(setKey(keys, "qwen3.attention.key_length", uint32(5)), "qwen3.attention.value_length", uint32(5)), base,
			`reference: qwen3.attention.key_length: 5, want a positive even number`},
		{"rope scaling", setKey(keys, "qwen3.rope.scaling.factor", float32(4)), base,
			`reference: qwen3.rope.scaling.factor: 4: rope scaling is not implemented`},
		{"non-causal", setKey(keys, "qwen3.attention.causal", false), base,
			`reference: qwen3.attention.causal: false: only causal attention is implemented`},
		{"tokenizer size", setKey(keys, "tokenizer.ggml.tokens", []string{"a", "b"}), base,
			`reference: tokenizer.ggml.tokens: 2 tokens, token_embd.weight has 13`},
		{"missing tensor", keys, without("blk.1.ffn_up.weight"),
			`reference: blk.1.ffn_up.weight: missing tensor`},
		{"missing embeddings", keys, without("token_embd.weight"),
			`reference: token_embd.weight: missing tensor`},
		{"wrong shape", keys, reshaped("blk.0.attn_q.weight", 16, 12),
			`reference: blk.0.attn_q.weight: shape [16 12], want [16 24]`},
		{"transposed", keys, reshaped("blk.0.attn_output.weight", 16, 24),
			`reference: blk.0.attn_output.weight: shape [16 24], want [24 16]`},
		{"wrong hidden size of embeddings", keys, reshaped("token_embd.weight", 8, 13),
			`reference: token_embd.weight: shape [8 13], want [16 13]`},
		{"output of other vocab", keys, reshaped("output.weight", 16, 12),
			`reference: output.weight: shape [16 12], want [16 13]`},
		{"head norm over the model width", keys, reshaped("blk.0.attn_k_norm.weight", 16),
			`reference: blk.0.attn_k_norm.weight: shape [16], want [6]`},
		{"bias", keys, with(tensor{name: "blk.0.attn_q.bias", shape: []uint64{24}, values: make([]float32, 24)}),
			`reference: blk.0.attn_q.bias: unsupported tensor`},
		{"extra layer", keys, with(tensor{name: "blk.2.attn_norm.weight", shape: []uint64{16}, values: make([]float32, 16)}),
			`reference: blk.2.attn_norm.weight: unsupported tensor`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Load(writeModel(t, tt.keys, tt.tensors))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load: error %v, want one containing %q", err, tt.want)
			}
			if m != nil {
				t.Error("Load returned a model along with its error")
			}
		})
	}

	t.Run("no file", func(t *testing.T) {
		if _, err := Load(filepath.Join(t.TempDir(), "absent.gguf")); err == nil {
			t.Error("Load of a missing file succeeded")
		}
	})
}

// TestLoadDefaults checks that keys llama.cpp treats as optional take
// llama.cpp's defaults (llama_model_base::load_hparams, src/llama-model.cpp):
// head_count_kv = head_count, key_length = value_length = embedding_length /
// head_count, rope.freq_base = 10000; and that no-op rope scaling and
// explicit causal attention are accepted.
func TestLoadDefaults(t *testing.T) {
	c := smallConfig
	c.KVHeads, c.HeadDim, c.RopeBase = c.Heads, c.Hidden/c.Heads, 10000
	keys := configKeys(c)
	for _, k := range []string{"head_count_kv", "key_length", "value_length"} {
		keys = setKey(keys, "qwen3.attention."+k, nil)
	}
	keys = setKey(keys, "qwen3.rope.freq_base", nil)
	keys = setKey(keys, "qwen3.rope.scaling.factor", float32(0))
	keys = setKey(keys, "qwen3.rope.scale_linear", float32(1))
	keys = setKey(keys, "qwen3.attention.causal", true)
	m := load(t, keys, modelTensors(c, false, randomDraw(6)))
	if m.Config != c {
		t.Errorf("Config = %+v, want %+v", m.Config, c)
	}
}
