package testmodel

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/labelfree/labelfree/internal/gguf"
)

// The toy reasoner: a Tiny-shape Qwen3 whose weights are set by hand, not
// drawn, so that its traces have the form of a reasoning model's answer to
// a PerturbQA question:
//
//	<think>The knockdown may perturb the target pathway.</think>
//	<answer>not differentially expressed</answer>
//
// It knows nothing. Every layer's feed-forward output and the second
// layer's attention output are zero, so the residual stream at a position
// is the token's embedding plus what the first layer's one attention
// mechanism adds: with zero query and key weights every head attends
// uniformly to all positions so far, and its value reads a 16-dimensional
// "feature" that only uppercase letters and digits carry (gene names are
// written in them). The output head then makes the next token a seeded
// function of the current one — a bigram chain over the toy's words, with
// sampling branches of set probabilities — except after "<answer>", where
// the three answers' logits also depend on that averaged feature: the
// question's gene and perturbation names shift which answer is likely, so
// the greedy answer differs between questions and the samples agree with
// it more for some questions than for others. That is all the structure
// labelfree's pipeline needs to show its machinery end to end.

// toyWords are the tokens the toy adds after the byte vocabulary's
// specials, in id order (USER_DEFINED, matched literally).
var toyWords = []string{
	"The knockdown", " may", " perturb", " the target", " pathway", " via", " a regulator", " .",
	"\n<answer>", "up", "down", "not differentially expressed", "</answer>",
}

// Ids of the toy's tokens.
const (
	toyFirst  = byteVocabSize
	toyAnswer = toyFirst + 8 // "\n<answer>"
	toyUp     = toyFirst + 9
	toyDown   = toyFirst + 10
	toyNone   = toyFirst + 11
	toyClose  = toyFirst + 12 // "</answer>"
	toyVocab  = toyFirst + 13 // len(toyWords), checked by a test
)

// toyChain is the bigram chain: the probabilities of the next token after
// each chain token (before the answer's feature shift).
var toyChain = map[int]map[int]float64{
	'\n':         {Think: 1},
	Think:        {toyFirst: 1},
	toyFirst:     {toyFirst + 1: 0.6, toyFirst + 2: 0.4},
	toyFirst + 1: {toyFirst + 2: 0.7, toyFirst + 5: 0.3},
	toyFirst + 2: {toyFirst + 3: 0.55, toyFirst + 4: 0.45},
	toyFirst + 3: {toyFirst + 7: 0.55, toyFirst + 5: 0.45},
	toyFirst + 4: {toyFirst + 7: 0.6, toyFirst + 5: 0.4},
	toyFirst + 5: {toyFirst + 6: 0.7, toyFirst + 4: 0.3},
	toyFirst + 6: {toyFirst + 7: 0.6, toyFirst + 1: 0.4},
	toyFirst + 7: {EndThink: 0.65, toyFirst: 0.35},
	EndThink:     {toyAnswer: 1},
	toyAnswer:    {toyUp: 0.3, toyDown: 0.2, toyNone: 0.5},
	toyUp:        {toyClose: 1},
	toyDown:      {toyClose: 1},
	toyNone:      {toyClose: 1},
	toyClose:     {ImEnd: 1},
	ImEnd:        {ImEnd: 1},
	EndOfText:    {ImEnd: 1},
	ImStart:      {ImEnd: 1},
}

const (
	toyFeatureDim = 16          // the feature subspace: the last 16 dimensions
	toyFloor      = -20.0       // logit of a token the chain does not allow
	toyAttnGain   = 1.0         // how much of the averaged feature the attention adds
	toyAnswerGain = 9.0         // how strongly the feature moves the answers' logits
	toyOptions    = "toy gen=1" // OptionsKey value of a toy model
	toyName       = "labelfree toy reasoner"
)

// ToyOptions is the OptionsKey value of models written by WriteToy.
func ToyOptions(seed uint64) string { return fmt.Sprintf("%s seed=%d", toyOptions, seed) }

// WriteToy writes the toy reasoner (see above) to path, atomically; seed
// draws the feature vectors and the answers' directions. It is as exact a
// Qwen3 model as any other here: the reference forward pass recomputes it.
func WriteToy(path string, seed uint64) (err error) {
	s := Tiny
	h := s.Hidden
	chainDims := h - toyFeatureDim
	// Every chain token needs its own direction outside the feature space.
	chain := make([]int, 0, len(toyChain))
	for t := range toyVocab {
		if _, ok := toyChain[t]; ok {
			chain = append(chain, t)
		}
	}
	if len(chain) > chainDims {
		return errors.New("testmodel: toy chain longer than the hidden size")
	}
	dim := map[int]int{}
	for i, t := range chain {
		dim[t] = i
	}
	g := generator{seed: seed, typ: gguf.F32}

	// Embeddings: chain tokens are basis vectors; uppercase letters and
	// digits carry a random unit feature; every other token is zero.
	emb := make([]float32, toyVocab*h)
	fr := g.rng("toy.features")
	for t := range toyVocab {
		row := emb[t*h : (t+1)*h]
		if d, ok := dim[t]; ok {
			row[d] = 1
			continue
		}
		if t < 256 && (('A' <= t && t <= 'Z') || ('0' <= t && t <= '9')) {
			var n float64
			for i := chainDims; i < h; i++ {
				x := fr.NormFloat64()
				row[i], n = float32(x), n+x*x
			}
			for i := chainDims; i < h; i++ {
				row[i] /= float32(math.Sqrt(n))
			}
		}
	}

	// Output head. After RMSNorm a chain token's basis vector has length
	// √h, so a weight w on its dimension gives the logit w·√h.
	scale := float32(math.Sqrt(float64(h)))
	out := make([]float32, toyVocab*h)
	for _, t := range chain {
		for v := range toyVocab {
			out[v*h+dim[t]] = toyFloor / scale
		}
		for v, p := range toyChain[t] {
			out[v*h+dim[t]] = float32(math.Log(p)) / scale
		}
	}
	ar := g.rng("toy.answers")
	for _, v := range []int{toyUp, toyDown, toyNone} {
		for i := chainDims; i < h; i++ {
			out[v*h+i] = float32(toyAnswerGain * ar.NormFloat64() / math.Sqrt(toyFeatureDim))
		}
	}

	ones := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = 1
		}
		return v
	}
	q, kv := s.Heads*s.HeadDim, s.KVHeads*s.HeadDim
	// Layer 0's values read the feature into kv head 0; its output adds it
	// back into the feature space, scaled.
	wv := make([]float32, kv*h)
	for i := range toyFeatureDim {
		wv[i*h+chainDims+i] = 1
	}
	wo := make([]float32, h*q)
	for i := range toyFeatureDim {
		wo[(chainDims+i)*q+i] = toyAttnGain
	}

	var w gguf.Writer
	w.Add("general.architecture", "qwen3")
	w.Add("general.name", toyName)
	w.Add("general.description", "hand-set weights: a bigram chain in the form of a reasoning trace; its answers mean nothing")
	w.Add("general.file_type", uint32(0))
	w.Add(OptionsKey, ToyOptions(seed))
	w.Add("qwen3.context_length", uint32(s.Context))
	w.Add("qwen3.embedding_length", uint32(h))
	w.Add("qwen3.block_count", uint32(s.Layers))
	w.Add("qwen3.feed_forward_length", uint32(s.FFN))
	w.Add("qwen3.attention.head_count", uint32(s.Heads))
	w.Add("qwen3.attention.head_count_kv", uint32(s.KVHeads))
	w.Add("qwen3.attention.key_length", uint32(s.HeadDim))
	w.Add("qwen3.attention.value_length", uint32(s.HeadDim))
	w.Add("qwen3.rope.freq_base", s.RopeBase)
	w.Add("qwen3.attention.layer_norm_rms_epsilon", s.Eps)
	toyVocabKeys(&w)

	add := func(name string, shape []uint64, v []float32) {
		if err == nil {
			err = w.AddFloat32(name, shape, v)
		}
	}
	zeros := func(n int) []float32 { return make([]float32, n) }
	H, Q, KV, F := uint64(h), uint64(q), uint64(kv), uint64(s.FFN)
	add("token_embd.weight", []uint64{H, uint64(toyVocab)}, emb)
	add("output_norm.weight", []uint64{H}, ones(h))
	add("output.weight", []uint64{H, uint64(toyVocab)}, out)
	for l := range s.Layers {
		p := fmt.Sprintf("blk.%d.", l)
		lv, lo := zeros(kv*h), zeros(h*q)
		if l == 0 {
			lv, lo = wv, wo
		}
		add(p+"attn_norm.weight", []uint64{H}, ones(h))
		add(p+"attn_q.weight", []uint64{H, Q}, zeros(q*h))
		add(p+"attn_k.weight", []uint64{H, KV}, zeros(kv*h))
		add(p+"attn_v.weight", []uint64{H, KV}, lv)
		add(p+"attn_output.weight", []uint64{Q, H}, lo)
		add(p+"attn_q_norm.weight", []uint64{uint64(s.HeadDim)}, ones(s.HeadDim))
		add(p+"attn_k_norm.weight", []uint64{uint64(s.HeadDim)}, ones(s.HeadDim))
		add(p+"ffn_norm.weight", []uint64{H}, ones(h))
		add(p+"ffn_gate.weight", []uint64{H, F}, zeros(int(F)*h))
		add(p+"ffn_up.weight", []uint64{H, F}, zeros(int(F)*h))
		add(p+"ffn_down.weight", []uint64{F, H}, zeros(int(F)*h))
	}
	if err != nil {
		return fmt.Errorf("testmodel: toy: %w", err)
	}
	return writeAtomic(path, &w)
}

// toyVocabKeys declares the byte vocabulary plus the toy's words.
func toyVocabKeys(w *gguf.Writer) {
	tokens := append(ByteVocab(), toyWords...)
	types := make([]int32, len(tokens))
	for i := range types {
		switch {
		case i < 256:
			types[i] = 1 // NORMAL
		case i == Think || i == EndThink || i >= toyFirst:
			types[i] = 4 // USER_DEFINED
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
}

// writeAtomic writes w to path through a temporary file and a rename.
func writeAtomic(path string, w *gguf.Writer) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("testmodel: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("testmodel: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = w.WriteTo(io.Writer(tmp)); err != nil {
		return fmt.Errorf("testmodel: %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("testmodel: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("testmodel: %w", err)
	}
	return nil
}
