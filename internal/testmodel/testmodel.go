package testmodel

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"

	"github.com/labelfree/labelfree/internal/gguf"
)

// Shape is the set of hyper-parameters of a Qwen3 model.
type Shape struct {
	Name     string
	Vocab    int // embedding rows; 0 means the size of the vocabulary used
	Hidden   int // embedding_length
	Layers   int // block_count
	Heads    int // attention.head_count
	KVHeads  int // attention.head_count_kv
	HeadDim  int // attention.key_length = value_length
	FFN      int // feed_forward_length
	Context  int // context_length
	RopeBase float32
	Eps      float32 // attention.layer_norm_rms_epsilon
	Tied     bool    // output head shares token_embd (no output.weight)
}

// The shapes Write knows. Tiny has a separate output head so that tests
// cover both that path and the tied one of the real shapes.
var (
	Tiny = Shape{Name: "tiny", Hidden: 64, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 32,
		FFN: 128, Context: 1024, RopeBase: 1e6, Eps: 1e-6}
	// Qwen3_0_6B has the shape of Qwen/Qwen3-0.6B (its config.json).
	Qwen3_0_6B = Shape{Name: "qwen3-0.6b", Vocab: 151936, Hidden: 1024, Layers: 28, Heads: 16,
		KVHeads: 8, HeadDim: 128, FFN: 3072, Context: 40960, RopeBase: 1e6, Eps: 1e-6, Tied: true}
	// Qwen3_1_7B has the shape of Qwen/Qwen3-1.7B (its config.json).
	Qwen3_1_7B = Shape{Name: "qwen3-1.7b", Vocab: 151936, Hidden: 2048, Layers: 28, Heads: 16,
		KVHeads: 8, HeadDim: 128, FFN: 6144, Context: 40960, RopeBase: 1e6, Eps: 1e-6, Tied: true}
)

// Shapes lists the known shapes by name.
var Shapes = []Shape{Tiny, Qwen3_0_6B, Qwen3_1_7B}

// ShapeByName returns the known shape called name.
func ShapeByName(name string) (Shape, error) {
	for _, s := range Shapes {
		if s.Name == name {
			return s, nil
		}
	}
	names := make([]string, len(Shapes))
	for i, s := range Shapes {
		names[i] = s.Name
	}
	return Shape{}, fmt.Errorf("testmodel: unknown shape %q (known: %s)", name, strings.Join(names, ", "))
}

// Options configures Write. The zero value of each field is documented.
type Options struct {
	Shape Shape  // required
	Seed  uint64 // weight seed; 0 is a valid seed
	// Type of the 2-D weight matrices: gguf.F32 (the zero value) or gguf.F16.
	// Norm weights are always F32, as in llama.cpp's own conversions.
	Type gguf.Type
	// VocabFile is a GGUF whose tokenizer.* keys are copied into the model.
	// Empty means the byte-level vocabulary of ByteVocab.
	VocabFile string
}

// Special tokens of the byte-level vocabulary, after the 256 byte tokens.
const (
	EndOfText = 256 + iota // <|endoftext|>: bos and padding
	ImStart                // <|im_start|>
	ImEnd                  // <|im_end|>: end of generation
	Think                  // <think>
	EndThink               // </think>
	byteVocabSize
)

// ByteVocab returns the tokens of the byte-level vocabulary: token b < 256 is
// byte b in GPT-2's byte-to-unicode spelling, followed by the specials.
func ByteVocab() []string {
	tokens := make([]string, 0, byteVocabSize)
	for b := range 256 {
		tokens = append(tokens, string(byteRune(byte(b))))
	}
	return append(tokens, "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>")
}

// byteRune is GPT-2's bytes_to_unicode: printable Latin-1 bytes map to
// themselves, the others to U+0100 onwards in byte order.
func byteRune(b byte) rune {
	printable := func(c byte) bool {
		return ('!' <= c && c <= '~') || (0xA1 <= c && c <= 0xAC) || (0xAE <= c)
	}
	if printable(b) {
		return rune(b)
	}
	n := 0
	for c := range int(b) {
		if !printable(byte(c)) {
			n++
		}
	}
	return rune(256 + n)
}

// chatTemplate is ChatML with Qwen3's thinking convention; llama.cpp detects
// it as the chatml template by its <|im_start|> marker.
const chatTemplate = `{%- for message in messages %}{{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}`

func byteVocabKeys(w *gguf.Writer) int {
	tokens := ByteVocab()
	types := make([]int32, len(tokens))
	for i := range types {
		switch {
		case i < 256:
			types[i] = 1 // LLAMA_TOKEN_TYPE_NORMAL
		case i == Think || i == EndThink:
			types[i] = 4 // USER_DEFINED, as in Qwen3's own GGUFs
		default:
			types[i] = 3 // CONTROL
		}
	}
	w.Add("tokenizer.ggml.model", "gpt2")
	w.Add("tokenizer.ggml.pre", "qwen2")
	w.Add("tokenizer.ggml.tokens", tokens)
	w.Add("tokenizer.ggml.token_type", types)
	w.Add("tokenizer.ggml.merges", []string{})
	w.Add("tokenizer.ggml.eos_token_id", uint32(ImEnd))
	w.Add("tokenizer.ggml.bos_token_id", uint32(EndOfText))
	w.Add("tokenizer.ggml.padding_token_id", uint32(EndOfText))
	w.Add("tokenizer.ggml.add_bos_token", false)
	w.Add("tokenizer.chat_template", chatTemplate)
	return len(tokens)
}

// qwen3Added are the tokens Qwen3 adds after Qwen2's <|im_end|> (ids 151646
// to 151668, from Qwen3's tokenizer_config.json added_tokens_decoder), where
// a Qwen2 vocabulary such as ggml-vocab-qwen2.gguf has [PAD…] placeholders.
// Those marked special there are CONTROL tokens (type 3), the rest
// USER_DEFINED (4), as llama.cpp's convert_hf_to_gguf.py writes them.
var qwen3Added = []struct {
	text    string
	special bool
}{
	{"<|object_ref_start|>", true}, {"<|object_ref_end|>", true}, {"<|box_start|>", true},
	{"<|box_end|>", true}, {"<|quad_start|>", true}, {"<|quad_end|>", true},
	{"<|vision_start|>", true}, {"<|vision_end|>", true}, {"<|vision_pad|>", true},
	{"<|image_pad|>", true}, {"<|video_pad|>", true}, {"<tool_call>", false},
	{"</tool_call>", false}, {"<|fim_prefix|>", true}, {"<|fim_middle|>", true},
	{"<|fim_suffix|>", true}, {"<|fim_pad|>", true}, {"<|repo_name|>", true},
	{"<|file_sep|>", true}, {"<tool_response>", false}, {"</tool_response>", false},
	{"<think>", false}, {"</think>", false},
}

// Ids of the Qwen2/Qwen3 vocabulary.
const (
	qwenEndOfText = 151643
	qwenImEnd     = 151645
	qwenFirstPad  = 151646
)

// copyVocabKeys copies the tokenizer of the GGUF at path. A Qwen2
// vocabulary is made Qwen3's: its placeholders become Qwen3's added tokens
// (among them <think> and </think>), end of generation is <|im_end|> and
// the chat template is Qwen3's ChatML.
func copyVocabKeys(w *gguf.Writer, path string) (int, error) {
	v, err := gguf.Open(path)
	if err != nil {
		return 0, fmt.Errorf("testmodel: vocab: %w", err)
	}
	tokens, err := v.Strings("tokenizer.ggml.tokens")
	if err != nil {
		return 0, fmt.Errorf("testmodel: vocab %s: %w", path, err)
	}
	kv, _ := v.Lookup("tokenizer.ggml.token_type")
	types, _ := kv.Value.([]int32)
	qwen := len(tokens) > qwenFirstPad+len(qwen3Added) && len(types) == len(tokens) &&
		tokens[qwenEndOfText] == "<|endoftext|>" && tokens[qwenImEnd] == "<|im_end|>"
	if qwen {
		tokens, types = slices.Clone(tokens), slices.Clone(types)
		for i, a := range qwen3Added {
			id := qwenFirstPad + i
			if tokens[id] != fmt.Sprintf("[PAD%d]", id) && tokens[id] != a.text {
				return 0, fmt.Errorf("testmodel: vocab %s: token %d is %q, expected a placeholder or %q", path, id, tokens[id], a.text)
			}
			tokens[id], types[id] = a.text, 4
			if a.special {
				types[id] = 3
			}
		}
	}
	for _, kv := range v.KV {
		if !strings.HasPrefix(kv.Key, "tokenizer.") {
			continue
		}
		value := kv.Value
		if qwen {
			switch kv.Key {
			case "tokenizer.ggml.tokens":
				value = tokens
			case "tokenizer.ggml.token_type":
				value = types
			case "tokenizer.ggml.eos_token_id":
				value = uint32(qwenImEnd)
			case "tokenizer.chat_template":
				value = chatTemplate
			}
		}
		w.Add(kv.Key, value)
	}
	if _, ok := v.Lookup("tokenizer.ggml.add_bos_token"); qwen && !ok {
		w.Add("tokenizer.ggml.add_bos_token", false)
	}
	return len(tokens), nil
}

// OptionsKey is the metadata key under which a generated model records the
// Options it was made with (Options.String), so a cached file can be checked.
const OptionsKey = "labelfree.testmodel.options"

// generation is bumped whenever Write's output for the same Options changes,
// so that a cached model made by older code is not mistaken for a current one.
const generation = 2

// String describes the options that determine the file (and the version of
// the generator).
func (o *Options) String() string {
	vocab := "bytes"
	if o.VocabFile != "" {
		vocab = filepath.Base(o.VocabFile)
	}
	return fmt.Sprintf("shape=%s seed=%d type=%v vocab=%s gen=%d", o.Shape.Name, o.Seed, o.Type, vocab, generation)
}

// Write writes the model described by opts to path. The file appears
// atomically: a partial file is never left under path.
func Write(path string, opts *Options) (err error) {
	if opts == nil {
		return errors.New("testmodel: nil options")
	}
	s := opts.Shape
	if s.Hidden <= 0 || s.Layers <= 0 || s.Heads <= 0 || s.KVHeads <= 0 || s.HeadDim <= 0 ||
		s.FFN <= 0 || s.Context <= 0 || s.Heads%s.KVHeads != 0 || s.HeadDim%2 != 0 {
		return fmt.Errorf("testmodel: invalid shape %+v", s)
	}
	if opts.Type != gguf.F32 && opts.Type != gguf.F16 {
		return fmt.Errorf("testmodel: weight type %v, want f32 or f16", opts.Type)
	}
	var w gguf.Writer
	name := s.Name
	if name == "" {
		name = "custom"
	}
	w.Add("general.architecture", "qwen3")
	w.Add("general.name", "labelfree random "+name)
	w.Add("general.description", fmt.Sprintf("random weights (seed %d): output is meaningless", opts.Seed))
	w.Add("general.file_type", map[gguf.Type]uint32{gguf.F32: 0, gguf.F16: 1}[opts.Type]) // LLAMA_FTYPE_ALL_F32 / MOSTLY_F16
	w.Add(OptionsKey, opts.String())
	w.Add("qwen3.context_length", uint32(s.Context))
	w.Add("qwen3.embedding_length", uint32(s.Hidden))
	w.Add("qwen3.block_count", uint32(s.Layers))
	w.Add("qwen3.feed_forward_length", uint32(s.FFN))
	w.Add("qwen3.attention.head_count", uint32(s.Heads))
	w.Add("qwen3.attention.head_count_kv", uint32(s.KVHeads))
	w.Add("qwen3.attention.key_length", uint32(s.HeadDim))
	w.Add("qwen3.attention.value_length", uint32(s.HeadDim))
	w.Add("qwen3.rope.freq_base", s.RopeBase)
	w.Add("qwen3.attention.layer_norm_rms_epsilon", s.Eps)
	var nTokens int
	if opts.VocabFile == "" {
		nTokens = byteVocabKeys(&w)
	} else if nTokens, err = copyVocabKeys(&w, opts.VocabFile); err != nil {
		return err
	}
	vocab := s.Vocab
	if vocab == 0 {
		vocab = nTokens
	}
	if vocab < nTokens {
		return fmt.Errorf("testmodel: shape %s has %d embedding rows, fewer than the %d tokens of the vocabulary",
			name, vocab, nTokens)
	}
	if opts.VocabFile == "" && s.Vocab != 0 && s.Vocab != nTokens {
		return fmt.Errorf("testmodel: shape %s needs a %d-token vocabulary: set VocabFile (e.g. ggml-vocab-qwen2.gguf)",
			name, s.Vocab)
	}

	g := generator{seed: opts.Seed, typ: opts.Type}
	h, q, kv, ffn := uint64(s.Hidden), uint64(s.Heads*s.HeadDim), uint64(s.KVHeads*s.HeadDim), uint64(s.FFN)
	embStd := 2 / math.Sqrt(float64(s.Hidden)) // logits of a few nats' spread
	add := []func() error{
		func() error { return g.matrix(&w, "token_embd.weight", h, uint64(vocab), embStd) },
		func() error { return g.norm(&w, "output_norm.weight", h) },
	}
	if !s.Tied {
		add = append(add, func() error { return g.matrix(&w, "output.weight", h, uint64(vocab), embStd) })
	}
	for i := range s.Layers {
		p := fmt.Sprintf("blk.%d.", i)
		add = append(add,
			func() error { return g.norm(&w, p+"attn_norm.weight", h) },
			func() error { return g.matrix(&w, p+"attn_q.weight", h, q, 0) },
			func() error { return g.matrix(&w, p+"attn_k.weight", h, kv, 0) },
			func() error { return g.matrix(&w, p+"attn_v.weight", h, kv, 0) },
			func() error { return g.matrix(&w, p+"attn_output.weight", q, h, 0) },
			func() error { return g.norm(&w, p+"attn_q_norm.weight", uint64(s.HeadDim)) },
			func() error { return g.norm(&w, p+"attn_k_norm.weight", uint64(s.HeadDim)) },
			func() error { return g.norm(&w, p+"ffn_norm.weight", h) },
			func() error { return g.matrix(&w, p+"ffn_gate.weight", h, ffn, 0) },
			func() error { return g.matrix(&w, p+"ffn_up.weight", h, ffn, 0) },
			func() error { return g.matrix(&w, p+"ffn_down.weight", ffn, h, 0) },
		)
	}
	for _, f := range add {
		if err := f(); err != nil {
			return err
		}
	}

	return writeAtomic(path, &w)
}

type generator struct {
	seed uint64
	typ  gguf.Type
}

func (g generator) rng(name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(g.seed, h.Sum64()))
}

// norm declares an F32 norm weight near 1.
func (g generator) norm(w *gguf.Writer, name string, n uint64) error {
	r := g.rng(name)
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(1 + 0.1*r.NormFloat64())
	}
	return w.AddFloat32(name, []uint64{n}, v)
}

// matrix declares an in×out weight (Shape {in, out}) with normal entries of
// standard deviation std, or 1/√in when std is 0. Values are generated while
// the file is written, a chunk of rows at a time.
func (g generator) matrix(w *gguf.Writer, name string, in, out uint64, std float64) error {
	if std == 0 {
		std = 1 / math.Sqrt(float64(in))
	}
	typ := g.typ
	return w.AddTensor(name, typ, []uint64{in, out}, func(dst io.Writer) error {
		r := g.rng(name)
		rows := max(1, (1<<20)/in)
		buf := make([]float32, 0, rows*in)
		for done := uint64(0); done < out; done += rows {
			buf = buf[:min(rows, out-done)*in]
			for i := range buf {
				buf[i] = float32(std * r.NormFloat64())
			}
			if err := encode(dst, typ, buf); err != nil {
				return err
			}
		}
		return nil
	})
}

func encode(dst io.Writer, typ gguf.Type, v []float32) error {
	if typ == gguf.F16 {
		return gguf.EncodeF16(dst, v)
	}
	b := make([]byte, 4*len(v))
	for i, x := range v {
		u := math.Float32bits(x)
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
	_, err := dst.Write(b)
	return err
}

// TensorNames lists the tensors a model of shape s holds, in file order.
func TensorNames(s Shape) []string {
	names := []string{"token_embd.weight", "output_norm.weight"}
	if !s.Tied {
		names = append(names, "output.weight")
	}
	for i := range s.Layers {
		for _, t := range []string{"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output",
			"attn_q_norm", "attn_k_norm", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"} {
			names = append(names, fmt.Sprintf("blk.%d.%s.weight", i, t))
		}
	}
	return slices.Clip(names)
}
