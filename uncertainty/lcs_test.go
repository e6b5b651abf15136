package uncertainty

import (
	"math/rand/v2"
	"testing"
)

// lcsDP is the textbook O(n·m) dynamic programme with two rows of ints: the
// oracle for the bit-parallel LCS.
func lcsDP(a, b []int32) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for _, x := range a {
		for j, y := range b {
			if x == y {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(prev[j+1], cur[j])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func randomTokens(r *rand.Rand, n, vocab int) []int32 {
	s := make([]int32, n)
	for i := range s {
		s[i] = int32(r.IntN(vocab))
	}
	return s
}

// TestLCSAgainstDP compares the bit-parallel LCS with the dynamic programme
// on random sequences whose lengths straddle the 64-bit word boundaries.
func TestLCSAgainstDP(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	lengths := []int{0, 1, 2, 63, 64, 65, 127, 128, 129, 200}
	for _, vocab := range []int{2, 4, 30, 1000} {
		for _, n := range lengths {
			for _, m := range lengths {
				a, b := randomTokens(r, n, vocab), randomTokens(r, m, vocab)
				if got, want := LCS(a, b), lcsDP(a, b); got != want {
					t.Fatalf("LCS(len %d, len %d, vocab %d) = %d, want %d", n, m, vocab, got, want)
				}
			}
		}
	}
}

func TestRougeLProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		a, b := randomTokens(r, 1+r.IntN(150), 20), randomTokens(r, 1+r.IntN(150), 20)
		if x, y := RougeL(a, b), RougeL(b, a); x != y || x < 0 || x > 1 {
			t.Fatalf("RougeL not symmetric in [0, 1]: %v, %v", x, y)
		}
		if RougeL(a, a) != 1 || Jaccard(a, a) != 1 {
			t.Fatalf("self-similarity: RougeL %v, Jaccard %v", RougeL(a, a), Jaccard(a, a))
		}
	}
}
