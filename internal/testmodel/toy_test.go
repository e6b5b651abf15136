package testmodel_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/labelfree/labelfree/internal/reference"
	"github.com/labelfree/labelfree/internal/testmodel"
)

// TestToy runs the toy reasoner through the float64 reference forward pass
// and checks that it behaves as its comment says: the chain's next tokens
// come with the probabilities set in toyChain (up to the few per cent by
// which the attended feature rescales the normalised state), and after
// "<answer>" only the three answers are possible, with a question-dependent
// split.
func TestToy(t *testing.T) {
	p := filepath.Join(t.TempDir(), "toy.gguf")
	if err := testmodel.WriteToy(p, 7); err != nil {
		t.Fatal(err)
	}
	m, err := reference.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	const (
		think, endThink = testmodel.Think, testmodel.EndThink
		first           = testmodel.EndThink + 1 // "The knockdown"
		answer          = first + 8              // "\n<answer>"
		up, down, none  = answer + 1, answer + 2, answer + 3
	)
	prompt := func(gene string) []int {
		ids := []int{testmodel.ImStart}
		for _, b := range []byte("user\nDoes knocking down " + gene + " change IRF1?") {
			ids = append(ids, int(b))
		}
		ids = append(ids, testmodel.ImEnd, '\n', testmodel.ImStart)
		for _, b := range []byte("assistant\n") {
			ids = append(ids, int(b))
		}
		return ids
	}
	// next returns the next-token probabilities after ids.
	next := func(ids []int) []float64 {
		lp, err := m.LogProbs(ids)
		if err != nil {
			t.Fatal(err)
		}
		last := lp[len(lp)-1]
		p := make([]float64, len(last))
		for i, v := range last {
			p[i] = math.Exp(v)
		}
		return p
	}
	ids := prompt("STAT1")
	checks := []struct {
		after int             // appended token (-1: the prompt itself)
		want  map[int]float64 // from toyChain
	}{
		{-1, map[int]float64{think: 1}},
		{think, map[int]float64{first: 1}},
		{first, map[int]float64{first + 1: 0.6, first + 2: 0.4}},
		{first + 2, map[int]float64{first + 3: 0.55, first + 4: 0.45}},
		{first + 4, map[int]float64{first + 7: 0.6, first + 5: 0.4}},
		{first + 7, map[int]float64{endThink: 0.65, first: 0.35}},
	}
	for _, c := range checks {
		if c.after >= 0 {
			ids = append(ids, c.after)
		}
		p := next(ids)
		for tok, want := range c.want {
			if math.Abs(p[tok]-want) > 0.03 {
				t.Errorf("after %d: p(%d) = %.4f, want %.2f ± 0.03", c.after, tok, p[tok], want)
			}
		}
	}
	split := map[string][3]float64{}
	for _, gene := range []string{"STAT1", "MYC", "GATA1", "TP53"} {
		ids := append(prompt(gene), think, first, first+7, endThink, answer)
		p := next(ids)
		if s := p[up] + p[down] + p[none]; s < 0.999 {
			t.Errorf("%s: the answers have probability %.6f after <answer>, want > 0.999", gene, s)
		}
		split[gene] = [3]float64{p[up], p[down], p[none]}
	}
	if split["STAT1"] == split["MYC"] && split["MYC"] == split["GATA1"] && split["GATA1"] == split["TP53"] {
		t.Errorf("the answer split %v does not depend on the question", split)
	}
}
