package uncertainty

import (
	"math/bits"
	"strings"
)

// LCS returns the length of a longest common subsequence of a and b.
//
// It runs the bit-parallel algorithm of Allison and Dix (1986) in the form of
// Hyyrö (2004): one pass over a, each step a few word operations on a bit
// vector as long as b, so two 1,000-token traces take 1,000 × 16 word
// steps instead of the 10⁶ cells of the textbook dynamic programme. Tokens
// of b are mapped to small ints first; the memory used is one 64-bit word per
// 64 tokens of b for each distinct token of b.
func LCS[T comparable](a, b []T) int {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	if len(b) > len(a) {
		a, b = b, a // the bit vector spans the shorter sequence
	}
	words := (len(b) + 63) / 64
	ids := make(map[T]int32, len(b))
	sym := make([]int32, len(b))
	for j, t := range b {
		id, ok := ids[t]
		if !ok {
			id = int32(len(ids))
			ids[t] = id
		}
		sym[j] = id
	}
	// match[id*words : (id+1)*words] has bit j set where b[j] is token id.
	match := make([]uint64, len(ids)*words)
	for j, id := range sym {
		match[int(id)*words+j/64] |= 1 << (uint(j) % 64)
	}
	// v starts all ones; after a_1..a_i, its zero bits among the first
	// len(b) count the LCS of a_1..a_i and b. Bits past len(b) stay one.
	v := make([]uint64, words)
	for k := range v {
		v[k] = ^uint64(0)
	}
	for _, t := range a {
		id, ok := ids[t]
		if !ok {
			continue // no match anywhere in b: v is unchanged
		}
		m := match[int(id)*words : int(id+1)*words]
		var carry uint64
		for k, vk := range v {
			u := vk & m[k]
			sum, c := bits.Add64(vk, u, carry)
			carry = c
			v[k] = sum | (vk &^ m[k])
		}
	}
	ones := 0
	for _, vk := range v {
		ones += bits.OnesCount64(vk)
	}
	return words*64 - ones
}

// RougeL returns the ROUGE-L F-measure of two token sequences:
//
//	P = LCS/len(a), R = LCS/len(b), F = 2PR/(P+R) = 2·LCS/(len(a)+len(b))
//
// as Google's rouge_score computes it (what LM-Polygraph's lexical
// similarity uses), but over the tokens given: rouge_score lower-cases and
// splits on non-alphanumerics first. It is symmetric and in [0, 1], and 0
// when either sequence is empty (as in rouge_score).
func RougeL[T comparable](a, b []T) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	return 2 * float64(LCS(a, b)) / float64(len(a)+len(b))
}

// Jaccard returns the Jaccard similarity of the sets of tokens of a and b,
// |A ∩ B| / |A ∪ B|. It is 0 when both are empty, as in LM-Polygraph's
// Jaccard_score.
func Jaccard[T comparable](a, b []T) float64 {
	set := make(map[T]uint8, len(a)+len(b))
	for _, t := range a {
		set[t] |= 1
	}
	for _, t := range b {
		set[t] |= 2
	}
	if len(set) == 0 {
		return 0
	}
	both := 0
	for _, m := range set {
		if m == 3 {
			both++
		}
	}
	return float64(both) / float64(len(set))
}

// Words splits text into lower-cased, white-space separated words: the
// tokens of LM-Polygraph's Jaccard_score (text.lower().split()), for traces
// that come without token texts.
func Words(text string) []string {
	return strings.Fields(strings.ToLower(text))
}
