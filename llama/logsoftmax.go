package llama

import "math"

// LogSoftmax stores log(softmax(logits)) in dst, computed in float64 with
// the maximum subtracted first, and returns it. dst is allocated when nil
// and must otherwise have the length of logits.
//
//	lp_v = l_v - max - log Σ_w exp(l_w - max)
func LogSoftmax(dst []float64, logits []float32) []float64 {
	if dst == nil {
		dst = make([]float64, len(logits))
	}
	if len(dst) != len(logits) {
		panic("llama: LogSoftmax: length mismatch")
	}
	mx := math.Inf(-1)
	for _, l := range logits {
		mx = max(mx, float64(l))
	}
	var sum float64
	for _, l := range logits {
		sum += math.Exp(float64(l) - mx)
	}
	lse := mx + math.Log(sum)
	for i, l := range logits {
		dst[i] = float64(l) - lse
	}
	return dst
}
