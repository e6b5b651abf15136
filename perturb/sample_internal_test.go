package perturb

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// Values from testdata/sample_ref.py, an independent Python implementation
// of the documented scheme; with m just above 2⁶³ six of the twelve raw
// draws are rejected, so the rejection path is exercised.
func TestBelowReference(t *testing.T) {
	src := rand.NewPCG(3, 0)
	want := []uint64{2597835623906073931, 8369558963816781538, 5533587275698516798,
		8848765532895475873, 7274714660702969811, 3830102992655344673}
	var got []uint64
	for range want {
		got = append(got, below(src, 1<<63+1))
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}
