package uncertainty

import (
	"fmt"
	"math"
)

// MSP returns the maximum-sequence-probability uncertainty of a trace, the
// negative log-probability of the whole sequence:
//
//	MSP = -Σ_t lp_t
//
// It equals LM-Polygraph's MaximumSequenceProbability. For a fixed
// per-token probability it grows linearly with the length.
// It returns ErrEmpty for no tokens and a *NonFiniteError for a NaN or
// infinite log-probability (a -Inf log-probability would make MSP +Inf).
func MSP(logProbs []float64) (float64, error) {
	s, err := Summarize(logProbs, nil)
	if err != nil {
		return 0, err
	}
	return s.MSP()
}

// Perplexity returns the perplexity of a trace, the exponential of the mean
// negative log-likelihood:
//
//	PPL = exp(-(1/L) Σ_t lp_t)
//
// This is the exponentiated form, at least 1. LM-Polygraph's "Perplexity"
// estimator is the log form: see LogPerplexity. Errors are those of MSP.
func Perplexity(logProbs []float64) (float64, error) {
	s, err := Summarize(logProbs, nil)
	if err != nil {
		return 0, err
	}
	return s.Perplexity()
}

// LogPerplexity returns the mean negative log-likelihood of a trace:
//
//	log PPL = -(1/L) Σ_t lp_t
//
// This is what LM-Polygraph's "Perplexity" estimator returns and what its
// CocoaPPL multiplies by. Errors are those of MSP.
func LogPerplexity(logProbs []float64) (float64, error) {
	s, err := Summarize(logProbs, nil)
	if err != nil {
		return 0, err
	}
	return s.LogPerplexity()
}

// MeanTokenEntropy returns the mean token entropy (MTE) of a trace:
//
//	MTE = (1/L) Σ_t H_t
//
// It equals LM-Polygraph's MeanTokenEntropy. It returns ErrEmpty for no
// tokens and a *NonFiniteError for a NaN or infinite entropy.
func MeanTokenEntropy(entropies []float64) (float64, error) {
	if len(entropies) == 0 {
		return 0, fmt.Errorf("%w: no token entropies", ErrEmpty)
	}
	if err := checkFinite("entropy", entropies); err != nil {
		return 0, err
	}
	var sum float64
	for _, h := range entropies {
		sum += h
	}
	return sum / float64(len(entropies)), nil
}

// MaxTokenEntropy returns the largest token entropy of a trace,
// max_t H_t. Errors are those of MeanTokenEntropy.
func MaxTokenEntropy(entropies []float64) (float64, error) {
	if len(entropies) == 0 {
		return 0, fmt.Errorf("%w: no token entropies", ErrEmpty)
	}
	if err := checkFinite("entropy", entropies); err != nil {
		return 0, err
	}
	m := entropies[0]
	for _, h := range entropies[1:] {
		m = max(m, h)
	}
	return m, nil
}

// Summary holds the sums from which every information-based estimator of
// one trace (or span of a trace) follows, so that a trace is read once and
// scored many times. Summarize computes it; a caller that keeps per-trace
// numbers can also fill it directly.
type Summary struct {
	// N is the number of tokens summarised; 0 means no summary.
	N int
	// SumLogProb is Σ_t lp_t.
	SumLogProb float64
	// Entropy reports whether SumEntropy and MaxEntropy are set; traces
	// from backends without full-distribution entropies have none.
	Entropy bool
	// SumEntropy is Σ_t H_t.
	SumEntropy float64
	// MaxEntropy is max_t H_t.
	MaxEntropy float64
}

// Summarize returns the Summary of a trace's log-probabilities and, when
// entropies is not nil, its entropies. It returns ErrEmpty for no tokens,
// ErrInvalid when entropies is not nil and has another length, and a
// *NonFiniteError for the first NaN or infinite value.
//
// Log-probabilities above 0 are not rejected: float32 log-softmax rounds
// near-certain tokens to tiny positive values.
func Summarize(logProbs, entropies []float64) (Summary, error) {
	if len(logProbs) == 0 {
		return Summary{}, fmt.Errorf("%w: no token log-probabilities", ErrEmpty)
	}
	if entropies != nil && len(entropies) != len(logProbs) {
		return Summary{}, fmt.Errorf("%w: %d entropies for %d log-probabilities", ErrInvalid, len(entropies), len(logProbs))
	}
	s := Summary{N: len(logProbs)}
	for i, lp := range logProbs {
		if !finite(lp) {
			return Summary{}, &NonFiniteError{What: "log-probability", Index: i, Value: lp}
		}
		s.SumLogProb += lp
	}
	if entropies != nil {
		s.Entropy = true
		s.MaxEntropy = math.Inf(-1)
		for i, h := range entropies {
			if !finite(h) {
				return Summary{}, &NonFiniteError{What: "entropy", Index: i, Value: h}
			}
			s.SumEntropy += h
			s.MaxEntropy = max(s.MaxEntropy, h)
		}
	}
	return s, nil
}

// check reports why s cannot give a score: no tokens, or a non-finite sum
// (possible only in a Summary filled by hand).
func (s Summary) check() error {
	if s.N <= 0 {
		return fmt.Errorf("%w: summary of %d tokens", ErrEmpty, s.N)
	}
	if !finite(s.SumLogProb) {
		return &NonFiniteError{What: "summary log-probability sum", Value: s.SumLogProb}
	}
	return nil
}

// MSP returns -SumLogProb; see the function MSP.
func (s Summary) MSP() (float64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	return -s.SumLogProb, nil
}

// LogPerplexity returns -SumLogProb/N; see the function LogPerplexity.
func (s Summary) LogPerplexity() (float64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	return -s.SumLogProb / float64(s.N), nil
}

// Perplexity returns exp(-SumLogProb/N); see the function Perplexity. It
// returns ErrNonFinite if the result overflows (mean NLL above ~709 nats).
func (s Summary) Perplexity() (float64, error) {
	l, err := s.LogPerplexity()
	if err != nil {
		return 0, err
	}
	p := math.Exp(l)
	if !finite(p) {
		return 0, &NonFiniteError{What: "perplexity", Value: p}
	}
	return p, nil
}

// checkEntropy is check plus the presence and finiteness of entropies.
func (s Summary) checkEntropy() error {
	if err := s.check(); err != nil {
		return err
	}
	if !s.Entropy {
		return fmt.Errorf("%w: no token entropies", ErrMissing)
	}
	if !finite(s.SumEntropy) || !finite(s.MaxEntropy) {
		return &NonFiniteError{What: "summary entropy", Value: s.SumEntropy + s.MaxEntropy}
	}
	return nil
}

// MeanTokenEntropy returns SumEntropy/N, or ErrMissing without entropies;
// see the function MeanTokenEntropy.
func (s Summary) MeanTokenEntropy() (float64, error) {
	if err := s.checkEntropy(); err != nil {
		return 0, err
	}
	return s.SumEntropy / float64(s.N), nil
}

// MaxTokenEntropy returns MaxEntropy, or ErrMissing without entropies.
func (s Summary) MaxTokenEntropy() (float64, error) {
	if err := s.checkEntropy(); err != nil {
		return 0, err
	}
	return s.MaxEntropy, nil
}
