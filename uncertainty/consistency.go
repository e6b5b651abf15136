package uncertainty

import (
	"fmt"
	"math"
)

// NoAnswer is the class of a trace whose answer could not be parsed, in the
// functions that take answer classes as ints. Any negative class means the
// same.
const NoAnswer = -1

// Vote is the self-consistency of a group.
type Vote struct {
	// Agreement is the share of samples whose answer equals r0's:
	// a = (1/K) Σ_i [c_i == c_0]. The uncertainty form is 1 - a.
	Agreement float64
	// Majority is the most frequent parsed class among the samples; a tie
	// goes to r0's class if it is among the tied, else to the smallest
	// class. NoAnswer when no sample was parsed.
	Majority int
	// Share is Majority's count over K, unparsed samples included in K.
	Share float64
}

// SelfConsistency returns the agreement of the K sampled answers with the
// greedy answer r0 and the samples' majority answer, from answer classes
// (a negative class is an unparsed answer, which agrees with nothing):
//
//	a = (1/K) Σ_{i=1..K} [c_i == c_0]
//
// It returns ErrNoSamples when K = 0 and ErrNoAnswer when r0 is unparsed.
func SelfConsistency(r0 int, samples []int) (Vote, error) {
	if len(samples) == 0 {
		return Vote{}, fmt.Errorf("%w: self-consistency needs K >= 1 samples", ErrNoSamples)
	}
	if r0 < 0 {
		return Vote{}, fmt.Errorf("%w: the greedy trace r0", ErrNoAnswer)
	}
	agree := 0
	for _, c := range samples {
		if c == r0 {
			agree++
		}
	}
	maj, share := Majority(r0, samples)
	return Vote{Agreement: float64(agree) / float64(len(samples)), Majority: maj, Share: share}, nil
}

// Majority returns the most frequent non-negative class of classes and its
// count over len(classes). A tie goes to prefer if it is among the tied,
// else to the smallest class, so the result does not depend on the order of
// classes. It returns (NoAnswer, 0) when no class is non-negative.
//
// It takes O(n²) time and no allocation: groups are small.
func Majority(prefer int, classes []int) (class int, share float64) {
	best, bestN := NoAnswer, 0
	for i, c := range classes {
		if c < 0 || seenBefore(classes[:i], c) {
			continue
		}
		n := 0
		for _, d := range classes[i:] {
			if d == c {
				n++
			}
		}
		if n > bestN || n == bestN && (c == prefer || best != prefer && c < best) {
			best, bestN = c, n
		}
	}
	if bestN == 0 {
		return NoAnswer, 0
	}
	return best, float64(bestN) / float64(len(classes))
}

func seenBefore(prev []int, c int) bool {
	for _, d := range prev {
		if d == c {
			return true
		}
	}
	return false
}

// NumSemSets returns the number of semantic sets among answer classes: the
// number of distinct non-negative classes plus one for every unparsed
// answer (an unparsable answer agrees with nothing). LM-Polygraph's
// NumSemSets counts the connected components of an NLI entailment graph;
// over answer classes those components are the classes, and Clusters finds
// them for any other similarity.
func NumSemSets(classes []int) int {
	n := 0
	for i, c := range classes {
		if c < 0 || !seenBefore(classes[:i], c) {
			n++
		}
	}
	return n
}

// SemanticEntropy returns the entropy, in nats, of the distribution of
// answer classes among n traces:
//
//	SE = -Σ_c p_c log p_c
//
// With logWeights nil, p_c = n_c/n is the frequency of class c (the
// discrete semantic entropy of Farquhar et al. 2024). Otherwise logWeights[i]
// is trace i's log sequence probability (for example its mean token
// log-probability, as Farquhar et al.'s code uses) and the classes are
// weighted by probability, normalised over the n traces:
//
//	p_c = Σ_{i∈c} exp(w_i) / Σ_i exp(w_i)
//
// Each unparsed answer (negative class) is a class of its own. It returns
// ErrNoSamples for no traces, ErrNoAnswer when no answer was parsed,
// ErrInvalid when logWeights has another length, and a *NonFiniteError for a
// NaN or infinite weight. One trace has entropy 0.
//
// LM-Polygraph's SemanticEntropy is a different estimator, the Monte-Carlo
// form of Kuhn et al. 2023: see SemanticEntropyMC.
func SemanticEntropy(classes []int, logWeights []float64) (float64, error) {
	if err := checkClasses(classes, logWeights); err != nil {
		return 0, err
	}
	var shift, total float64
	if logWeights != nil {
		shift = math.Inf(-1)
		for _, w := range logWeights {
			shift = max(shift, w)
		}
		for _, w := range logWeights {
			total += math.Exp(w - shift)
		}
	} else {
		total = float64(len(classes))
	}
	weight := func(i int) float64 {
		if logWeights == nil {
			return 1
		}
		return math.Exp(logWeights[i] - shift)
	}
	var h float64
	for i, c := range classes {
		if c >= 0 && seenBefore(classes[:i], c) {
			continue
		}
		m := weight(i)
		if c >= 0 {
			for j := i + 1; j < len(classes); j++ {
				if classes[j] == c {
					m += weight(j)
				}
			}
		}
		if p := m / total; p > 0 {
			h -= p * math.Log(p)
		}
	}
	return max(h, 0), nil // rounding can leave -0 or -1e-17 for one class
}

// SemanticEntropyMC returns the semantic entropy as LM-Polygraph's
// SemanticEntropy estimator computes it (Kuhn et al. 2023): a Monte-Carlo
// estimate over the n sampled traces from their log sequence probabilities
// lp_i, without normalising the class probabilities:
//
//	SE_MC = -(1/n) Σ_j log Σ_{i: c_i = c_j} exp(lp_i)
//
// Unparsed answers are classes of their own; errors are those of
// SemanticEntropy, and logProbs must not be nil.
func SemanticEntropyMC(classes []int, logProbs []float64) (float64, error) {
	if logProbs == nil {
		return 0, fmt.Errorf("%w: SemanticEntropyMC needs sequence log-probabilities", ErrMissing)
	}
	if err := checkClasses(classes, logProbs); err != nil {
		return 0, err
	}
	var sum float64
	for j, c := range classes {
		// log Σ exp over j's class, shifted by its largest member.
		m := logProbs[j]
		if c >= 0 {
			for i, d := range classes {
				if d == c {
					m = max(m, logProbs[i])
				}
			}
		}
		var s float64
		if c < 0 {
			s = 1
		} else {
			for i, d := range classes {
				if d == c {
					s += math.Exp(logProbs[i] - m)
				}
			}
		}
		sum += m + math.Log(s)
	}
	return -sum / float64(len(classes)), nil
}

func checkClasses(classes []int, logWeights []float64) error {
	if len(classes) == 0 {
		return fmt.Errorf("%w: no traces", ErrNoSamples)
	}
	if logWeights != nil && len(logWeights) != len(classes) {
		return fmt.Errorf("%w: %d weights for %d classes", ErrInvalid, len(logWeights), len(classes))
	}
	parsed := false
	for _, c := range classes {
		parsed = parsed || c >= 0
	}
	if !parsed {
		return fmt.Errorf("%w: none of %d answers", ErrNoAnswer, len(classes))
	}
	return checkFinite("log-weight", logWeights)
}
