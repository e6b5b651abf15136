package reference

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestRMSNorm(t *testing.T) {
	const tol = 1e-15
	tests := []struct {
		name      string
		x, weight []float64
		eps       float64
		want      []float64
	}{
		// mean(x²) = 12.5: (3, 4)/√12.5.
		{"3 4", []float64{3, 4}, []float64{1, 1}, 0, []float64{0.848528137423857, 1.131370849898476}},
		// mean(x²) + eps = 1 + 3 = 4, so x/2, times the weights.
		{"eps and weight", []float64{1, 1, 1, 1}, []float64{1, 2, 3, 4}, 3, []float64{0.5, 1, 1.5, 2}},
		// A unit vector in two dimensions has mean(x²) = ½; with eps = ½ it is unchanged.
		{"unit 2d", []float64{0, -1}, []float64{1, 1}, 0.5, []float64{0, -1}},
		{"scale invariant", []float64{300, 400}, []float64{1, 1}, 0, []float64{0.848528137423857, 1.131370849898476}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make([]float64, len(tt.x))
			rmsNorm(got, tt.x, tt.weight, tt.eps)
			checkVec(t, "rmsNorm", got, tt.want, tol)

			inPlace := slices.Clone(tt.x)
			rmsNorm(inPlace, inPlace, tt.weight, tt.eps)
			checkVec(t, "rmsNorm in place", inPlace, tt.want, tol)
		})
	}
}

func TestRope(t *testing.T) {
	const tol = 1e-15
	c1, s1 := math.Cos(1), math.Sin(1)
	// θ for the pair (2, 5) of a 6-dimensional head at position 2 with base
	// 100: 2·100^(−4/6), from Python's 100**(-2/3)*2.
	const theta = 0.09283177667225559
	tests := []struct {
		name string
		x    []float64
		pos  int
		base float64
		want []float64
	}{
		{"position 0 is the identity", []float64{1, -2, 3, -4, 5, -6}, 0, 10000, []float64{1, -2, 3, -4, 5, -6}},
		// d = 2: one pair, θ = pos, rotated counter-clockwise.
		{"d2 e0 pos 1", []float64{1, 0}, 1, 10000, []float64{c1, s1}},
		{"d2 e1 pos 1", []float64{0, 1}, 1, 10000, []float64{-s1, c1}},
		// d = 4, NEOX: element 0 pairs with element 2 (not with 1) and turns by
		// θ₀ = pos; element 1 pairs with 3 and turns by θ₁ = pos·10000^(−2/4) = pos/100.
		{"d4 e0 pos 1", []float64{1, 0, 0, 0}, 1, 10000, []float64{c1, 0, s1, 0}},
		{"d4 e1 pos 1", []float64{0, 1, 0, 0}, 1, 10000, []float64{0, math.Cos(0.01), 0, math.Sin(0.01)}},
		{"d4 e3 pos 3", []float64{0, 0, 0, 1}, 3, 10000, []float64{0, -math.Sin(0.03), 0, math.Cos(0.03)}},
		{"d6 e2 pos 2 base 100", []float64{0, 0, 1, 0, 0, 0}, 2, 100, []float64{0, 0, math.Cos(theta), 0, 0, math.Sin(theta)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slices.Clone(tt.x)
			rope(got, tt.pos, tt.base)
			checkVec(t, "rope", got, tt.want, tol)
		})
	}
}

// TestHandModel checks a one-layer model whose logits follow in closed form.
// Hidden size 2, one head of size 2, ε = ½ (so that every 2-d unit vector is
// its own RMSNorm), all norm weights 1, attn_q, attn_k, attn_v and
// attn_output the identity, ffn_gate = ffn_up = (1 0), ffn_down = (0 1)ᵀ, and
// tied output. The embeddings are e₀ = (1, 0), e₁ = (0, 1), e₂ = (−1, 0).
//
// Input [0 1]:
//
//	position 0: h = e₀; q = k = v = e₀ (RoPE at position 0 is the identity);
//	  attention only sees itself, so x = e₀ + e₀ = (2, 0).
//	position 1: h = e₁; q₁ = k₁ = RoPE₁(e₁) = (−sin 1, cos 1), k₀ = e₀;
//	  scores (q₁·k₀, q₁·k₁)/√2 = (−sin 1, 1)/√2, weights p = softmax(scores),
//	  x = e₁ + p₀e₀ + p₁e₁ = (p₀, 1 + p₁).
//	then at each position: g = RMSNorm(x)₀ (gate and up both read it),
//	  x₁ += silu(g)·g, and logits = (n₀, n₁, −n₀) with n = RMSNorm(x).
func TestHandModel(t *testing.T) {
	c := Config{Vocab: 3, Hidden: 2, Layers: 1, FFN: 1, Heads: 1, KVHeads: 1, HeadDim: 2,
		Context: 4, RopeBase: 10000, NormEps: 0.5, TiedOutput: true}
	tensors := modelTensors(c, true, func(kind string) float32 {
		if kind == normKind {
			return 1
		}
		return 0
	})
	set := func(name string, v ...float32) { copy(find(t, tensors, name).values, v) }
	set("token_embd.weight", 1, 0, 0, 1, -1, 0)
	for _, w := range []string{"attn_q", "attn_k", "attn_v", "attn_output"} {
		set("blk.0."+w+".weight", 1, 0, 0, 1)
	}
	set("blk.0.ffn_gate.weight", 1, 0)
	set("blk.0.ffn_up.weight", 1, 0)
	set("blk.0.ffn_down.weight", 0, 1)
	m := load(t, configKeys(c), tensors)
	if m.Config != c {
		t.Fatalf("Config = %+v, want %+v", m.Config, c)
	}

	silu := func(z float64) float64 { return z / (1 + math.Exp(-z)) }
	norm := func(x0, x1 float64) (float64, float64) {
		r := 1 / math.Sqrt((x0*x0+x1*x1)/2+0.5)
		return x0 * r, x1 * r
	}
	logits := func(x0, x1 float64) []float64 {
		g, _ := norm(x0, x1)
		x1 += silu(g) * g
		n0, n1 := norm(x0, x1)
		return []float64{n0, n1, -n0}
	}
	s0, s1 := -math.Sin(1)/math.Sqrt2, 1/math.Sqrt2
	p0 := 1 / (1 + math.Exp(s1-s0))
	want := [][]float64{logits(2, 0), logits(p0, 1+(1-p0))}

	got, err := m.Logits([]int{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	const tol = 1e-12
	for pos := range want {
		checkVec(t, fmt.Sprintf("logits at position %d", pos), got[pos], want[pos], tol)
	}
}

// TestCausal checks that the logits at position t depend only on tokens[:t+1]:
// changing every token from position cut on leaves the earlier logits
// bit-for-bit unchanged, and changes the logits at cut.
func TestCausal(t *testing.T) {
	m := load(t, configKeys(smallConfig), modelTensors(smallConfig, false, randomDraw(1)))
	a := []int{5, 2, 7, 1, 3, 8, 0, 12}
	la, err := m.Logits(a)
	if err != nil {
		t.Fatal(err)
	}
	for cut := range len(a) {
		b := slices.Clone(a)
		for i := cut; i < len(b); i++ {
			b[i] = (b[i] + 1 + i) % smallConfig.Vocab
		}
		lb, err := m.Logits(b)
		if err != nil {
			t.Fatal(err)
		}
		for pos := range cut {
			if !slices.Equal(la[pos], lb[pos]) {
				t.Errorf("tokens %v and %v: logits at position %d differ:\n%v\n%v", a, b, pos, la[pos], lb[pos])
			}
		}
		if slices.Equal(la[cut], lb[cut]) {
			t.Errorf("tokens %v and %v: logits at position %d are equal, want them to differ", a, b, cut)
		}
	}
}

// TestTiedOutput checks that a model without output.weight computes exactly
// what the same model computes with an output.weight equal to token_embd.weight.
func TestTiedOutput(t *testing.T) {
	tied := modelTensors(smallConfig, true, randomDraw(2))
	embd := find(t, tied, "token_embd.weight")
	separate := slices.Insert(slices.Clone(tied), 2,
		tensor{name: "output.weight", shape: embd.shape, values: slices.Clone(embd.values)})

	tokens := []int{1, 4, 1, 5, 9, 2, 6}
	var logits [2][][]float64
	for i, tensors := range [][]tensor{tied, separate} {
		m := load(t, configKeys(smallConfig), tensors)
		if want := i == 0; m.Config.TiedOutput != want {
			t.Errorf("model %d: TiedOutput = %v, want %v", i, m.Config.TiedOutput, want)
		}
		var err error
		if logits[i], err = m.Logits(tokens); err != nil {
			t.Fatal(err)
		}
	}
	for pos := range tokens {
		if !slices.Equal(logits[0][pos], logits[1][pos]) {
			t.Errorf("position %d: tied logits %v, separate %v", pos, logits[0][pos], logits[1][pos])
		}
	}
}

func TestLogProbs(t *testing.T) {
	m := load(t, configKeys(smallConfig), modelTensors(smallConfig, false, randomDraw(3)))
	tokens := []int{3, 1, 4, 1, 5}
	logits, err := m.Logits(tokens)
	if err != nil {
		t.Fatal(err)
	}
	logprobs, err := m.LogProbs(tokens)
	if err != nil {
		t.Fatal(err)
	}
	const tol = 1e-12
	for pos := range tokens {
		if want := LogSoftmax(logits[pos]); !slices.Equal(logprobs[pos], want) {
			t.Errorf("position %d: LogProbs %v, want LogSoftmax(Logits) %v", pos, logprobs[pos], want)
		}
		var sum float64
		for _, lp := range logprobs[pos] {
			sum += math.Exp(lp)
		}
		if !near(sum, 1, tol) {
			t.Errorf("position %d: probabilities sum to %v, want 1 (tolerance %g)", pos, sum, tol)
		}
	}
}

func TestLogitsErrors(t *testing.T) {
	m := load(t, configKeys(smallConfig), modelTensors(smallConfig, false, randomDraw(4)))
	tests := []struct {
		name   string
		tokens []int
		want   string
	}{
		{"empty", nil, "no tokens"},
		{"negative token", []int{1, -1}, "token -1 at position 1 is outside the vocabulary [0, 13)"},
		{"token past vocab", []int{13}, "token 13 at position 0 is outside the vocabulary [0, 13)"},
		{"longer than context", make([]int, smallConfig.Context+1), "17 tokens, context length is 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range []func([]int) ([][]float64, error){m.Logits, m.LogProbs} {
				got, err := f(tt.tokens)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %v, want one containing %q", err, tt.want)
				}
				if got != nil {
					t.Errorf("got %d rows of logits along with the error", len(got))
				}
			}
		})
	}
	if _, err := m.Logits(make([]int, smallConfig.Context)); err != nil {
		t.Errorf("a full context: %v", err)
	}
}

func checkVec(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s has %d entries, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !near(got[i], want[i], tol) {
			t.Errorf("%s[%d] = %v, want %v (tolerance %g)", what, i, got[i], want[i], tol)
		}
	}
}
