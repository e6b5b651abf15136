package uncertainty

import "fmt"

// CoCoA returns the CoCoA uncertainty of Vashurin et al. 2025 (arXiv
// 2502.04964) from the greedy trace's uncertainty u = u(r0) and its
// similarities s_i = s(r0, r_i) to the K samples:
//
//	U = u · (1/K) Σ_i (1 - s_i)
//
// With u the MSP, the log-perplexity or the mean token entropy of r0 this is
// CoCoA_MSP, CoCoA_PPL or CoCoA_MTE; LM-Polygraph's CocoaPPL multiplies by
// the log-perplexity (mean negative log-likelihood), not the perplexity.
// U is 0 whenever every sample matches r0, whatever u: rank such ties by u
// (Score.Tiebreak does). It returns ErrNoSamples for K = 0, a
// *NonFiniteError for a non-finite u or s_i and ErrInvalid for an s_i
// outside [0, 1].
func CoCoA(u float64, sims []float64) (float64, error) {
	if len(sims) == 0 {
		return 0, fmt.Errorf("%w: CoCoA needs K >= 1 samples", ErrNoSamples)
	}
	if !finite(u) {
		return 0, &NonFiniteError{What: "CoCoA u(r0)", Value: u}
	}
	var d float64
	for i, s := range sims {
		if !finite(s) {
			return 0, &NonFiniteError{What: "similarity", Index: i, Value: s}
		}
		if s < 0 || s > 1 {
			return 0, fmt.Errorf("%w: similarity %d is %v, outside [0, 1]", ErrInvalid, i, s)
		}
		d += 1 - s
	}
	return u * d / float64(len(sims)), nil
}
