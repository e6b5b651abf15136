package reference

import "math"

// LogSoftmax returns the natural-log probabilities of the distribution whose
// logits are given:
//
//	logprobs[i] = logits[i] − m − log Σ_j exp(logits[j] − m),  m = max_j logits[j]
//
// Shifting by the maximum keeps every exp in [0, 1], so logits of any
// magnitude are handled without overflow. A logit of −Inf gets a log-probability
// of −Inf. The result is NaN if a logit is NaN or +Inf, or if every logit is −Inf.
// It panics if logits is empty.
func LogSoftmax(logits []float64) []float64 {
	if len(logits) == 0 {
		panic("reference: LogSoftmax of no logits")
	}
	m := math.Inf(-1)
	for _, z := range logits {
		m = max(m, z)
	}
	var sum float64
	for _, z := range logits {
		sum += math.Exp(z - m)
	}
	logSum := math.Log(sum)
	out := make([]float64, len(logits))
	for i, z := range logits {
		out[i] = (z - m) - logSum
	}
	return out
}

// Entropy returns the entropy, in nats, of the distribution whose natural-log
// probabilities are given:
//
//	H = −Σ_i p_i log p_i,  p_i = exp(logprobs[i])
//
// A log-probability of −Inf contributes 0 (the limit of p log p as p → 0).
func Entropy(logprobs []float64) float64 {
	var h float64
	for _, lp := range logprobs {
		if math.IsInf(lp, -1) {
			continue
		}
		h -= math.Exp(lp) * lp
	}
	return h
}
