package reference

import (
	"fmt"
	"math"
)

// Hidden runs the model on tokens, which take the positions
// 0..len(tokens)-1, and returns the final hidden state at every position:
// the residual stream after the last layer, RMS-normalised and scaled by
// output_norm (the vector the output head multiplies, and what llama.cpp
// pools into an embedding). It returns an error for an empty input, a token
// id outside [0, Vocab) or more than Config.Context tokens.
func (m *Model) Hidden(tokens []int) ([][]float64, error) {
	c := m.Config
	switch {
	case len(tokens) == 0:
		return nil, fmt.Errorf("reference: no tokens")
	case len(tokens) > c.Context:
		return nil, fmt.Errorf("reference: %d tokens, context length is %d", len(tokens), c.Context)
	}
	x := make([][]float64, len(tokens)) // the residual stream, one vector per position
	for t, id := range tokens {
		if id < 0 || id >= c.Vocab {
			return nil, fmt.Errorf("reference: token %d at position %d is outside the vocabulary [0, %d)", id, t, c.Vocab)
		}
		x[t] = append([]float64(nil), m.embed.data[id*c.Hidden:(id+1)*c.Hidden]...)
	}
	for i := range m.layers {
		m.attention(&m.layers[i], x)
		m.feedForward(&m.layers[i], x)
	}
	for t := range x {
		h := make([]float64, c.Hidden)
		rmsNorm(h, x[t], m.outputNorm, c.NormEps)
		x[t] = h
	}
	return x, nil
}

// Logits runs the model on tokens (see Hidden) and returns the logits at
// every position: logits[t] scores the token that follows tokens[:t+1] and
// has Config.Vocab entries. It returns the errors of Hidden, and one for a
// logit that is not finite.
func (m *Model) Logits(tokens []int) ([][]float64, error) {
	hidden, err := m.Hidden(tokens)
	if err != nil {
		return nil, err
	}
	logits := make([][]float64, len(tokens))
	for t, h := range hidden {
		logits[t] = make([]float64, m.Config.Vocab)
		m.output.mulVec(logits[t], h)
		for v, z := range logits[t] {
			if math.IsNaN(z) || math.IsInf(z, 0) {
				return nil, fmt.Errorf("reference: logit of token %d at position %d is %v", v, t, z)
			}
		}
	}
	return logits, nil
}

// LogProbs returns the log-softmax of the logits at every position (see
// Logits): logprobs[t][v] = log p(v | tokens[:t+1]), in nats.
func (m *Model) LogProbs(tokens []int) ([][]float64, error) {
	logits, err := m.Logits(tokens)
	if err != nil {
		return nil, err
	}
	for t, z := range logits {
		logits[t] = LogSoftmax(z)
	}
	return logits, nil
}

// attention adds the causal self-attention of layer l to the residual stream x.
func (m *Model) attention(l *layer, x [][]float64) {
	c := m.Config
	d := c.HeadDim
	n := len(x)
	q := make([][]float64, n)
	k := make([][]float64, n)
	v := make([][]float64, n)
	h := make([]float64, c.Hidden)
	for t := range x {
		rmsNorm(h, x[t], l.attnNorm, c.NormEps)
		q[t] = make([]float64, c.Heads*d)
		k[t] = make([]float64, c.KVHeads*d)
		v[t] = make([]float64, c.KVHeads*d)
		l.wq.mulVec(q[t], h)
		l.wk.mulVec(k[t], h)
		l.wv.mulVec(v[t], h)
		for j := 0; j < c.Heads; j++ {
			head := q[t][j*d : (j+1)*d]
			rmsNorm(head, head, l.qNorm, c.NormEps)
			rope(head, t, c.RopeBase)
		}
		for j := 0; j < c.KVHeads; j++ {
			head := k[t][j*d : (j+1)*d]
			rmsNorm(head, head, l.kNorm, c.NormEps)
			rope(head, t, c.RopeBase)
		}
	}

	// Every position's keys and values are computed from the layer's input, so
	// the residual stream can now be updated in place.
	scale := 1 / math.Sqrt(float64(d))
	group := c.Heads / c.KVHeads
	out := make([]float64, c.Heads*d)
	delta := make([]float64, c.Hidden)
	scores := make([]float64, n)
	for t := range x {
		clear(out)
		for j := 0; j < c.Heads; j++ {
			qh := q[t][j*d : (j+1)*d]
			kvh := j / group
			for s := 0; s <= t; s++ {
				scores[s] = scale * dot(qh, k[s][kvh*d:(kvh+1)*d])
			}
			softmax(scores[:t+1])
			oh := out[j*d : (j+1)*d]
			for s := 0; s <= t; s++ {
				vh := v[s][kvh*d : (kvh+1)*d]
				for i := range oh {
					oh[i] += scores[s] * vh[i]
				}
			}
		}
		l.wo.mulVec(delta, out)
		for i := range delta {
			x[t][i] += delta[i]
		}
	}
}

// feedForward adds the SwiGLU feed-forward block of layer l to x.
func (m *Model) feedForward(l *layer, x [][]float64) {
	c := m.Config
	h := make([]float64, c.Hidden)
	gate := make([]float64, c.FFN)
	up := make([]float64, c.FFN)
	delta := make([]float64, c.Hidden)
	for t := range x {
		rmsNorm(h, x[t], l.ffnNorm, c.NormEps)
		l.gate.mulVec(gate, h)
		l.up.mulVec(up, h)
		for i := range gate {
			gate[i] = silu(gate[i]) * up[i]
		}
		l.down.mulVec(delta, gate)
		for i := range delta {
			x[t][i] += delta[i]
		}
	}
}

// rmsNorm sets dst to x scaled to unit root-mean-square, times weight:
//
//	dst[i] = x[i] / sqrt(mean(x²) + eps) * weight[i]
//
// as ggml_rms_norm followed by ggml_mul. dst may be x. It panics if the
// lengths differ.
func rmsNorm(dst, x, weight []float64, eps float64) {
	if len(dst) != len(x) || len(weight) != len(x) {
		panic("reference: rmsNorm: length mismatch")
	}
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	r := 1 / math.Sqrt(ss/float64(len(x))+eps)
	for i, v := range x {
		dst[i] = v * r * weight[i]
	}
}

// rope rotates one head x (of even length d) in place for position pos, the
// NEOX way (GGML_ROPE_TYPE_NEOX; rotate_pairs in ggml/src/ggml-cpu/ops.cpp):
// for i < d/2, the pair (x[i], x[i+d/2]) is rotated by θ = pos·base^(−2i/d),
//
//	x[i]     ← x[i]·cos θ − x[i+d/2]·sin θ
//	x[i+d/2] ← x[i]·sin θ + x[i+d/2]·cos θ
func rope(x []float64, pos int, base float64) {
	d := len(x)
	half := d / 2
	for i := range half {
		theta := float64(pos) * math.Pow(base, -2*float64(i)/float64(d))
		sin, cos := math.Sincos(theta)
		x0, x1 := x[i], x[i+half]
		x[i] = x0*cos - x1*sin
		x[i+half] = x0*sin + x1*cos
	}
}

// softmax replaces x by exp(x) / Σ exp(x), shifted by the maximum for
// stability.
func softmax(x []float64) {
	mx := math.Inf(-1)
	for _, v := range x {
		mx = max(mx, v)
	}
	var sum float64
	for i, v := range x {
		x[i] = math.Exp(v - mx)
		sum += x[i]
	}
	for i := range x {
		x[i] /= sum
	}
}

func silu(z float64) float64 { return z / (1 + math.Exp(-z)) }

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}
