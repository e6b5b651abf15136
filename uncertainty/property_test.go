package uncertainty

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

var answers = []string{"up", "down", "none"}

// randomTrace returns a trace of 5..40 tokens with random log-probabilities,
// entropies, token texts from a small vocabulary, an embedding, and an
// answer (unparsed one time in eight).
func randomTrace(r *rand.Rand) Trace {
	n := 5 + r.IntN(36)
	t := Trace{LogProbs: make([]float64, n), Entropies: make([]float64, n), Tokens: make([]string, n)}
	for i := range n {
		t.LogProbs[i] = -r.ExpFloat64()
		t.Entropies[i] = 3 * r.Float64()
		t.Tokens[i] = string(rune('a' + r.IntN(12)))
	}
	t.Tokens[n/2] = ThinkClose
	t.Embedding = []float32{r.Float32(), r.Float32() - 0.3, r.Float32()}
	if r.IntN(8) > 0 {
		t.Answer, t.OK = answers[r.IntN(len(answers))], true
	}
	return t
}

func randomGroup(r *rand.Rand, k int) Group {
	g := Group{Greedy: randomTrace(r)}
	g.Greedy.Answer, g.Greedy.OK = answers[r.IntN(len(answers))], true
	for range k {
		g.Samples = append(g.Samples, randomTrace(r))
	}
	return g
}

// TestOrderInvariance: every estimator gives the same score, up to
// rounding, whatever the order of the samples, under several
// configurations.
func TestOrderInvariance(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	configs := []*Config{
		nil,
		{WithGreedy: true, Similarity: TokenRougeL{}, Part: Reasoning},
		{Similarity: TokenJaccard{}, Part: Answer},
		{Similarity: EmbeddingCosine{}, WithGreedy: true},
	}
	for _, cfg := range configs {
		es, err := NewAll(cfg, stableNames...)
		if err != nil {
			t.Fatal(err)
		}
		for range 30 {
			g := randomGroup(r, 1+r.IntN(8))
			h := g
			h.Samples = slices.Clone(g.Samples)
			r.Shuffle(len(h.Samples), func(i, j int) { h.Samples[i], h.Samples[j] = h.Samples[j], h.Samples[i] })
			for _, e := range es {
				a, errA := e.Estimate(&g)
				b, errB := e.Estimate(&h)
				if (errA == nil) != (errB == nil) {
					t.Fatalf("%s: errors differ after shuffling: %v vs %v", e.Name(), errA, errB)
				}
				if math.Abs(a.Value-b.Value) > 1e-9 || math.Abs(a.Tiebreak-b.Tiebreak) > 1e-12 {
					t.Errorf("%s (config %+v): %+v before shuffling, %+v after", e.Name(), cfg, a, b)
				}
			}
		}
	}
}

// TestCoCoAZeroWhenAllMatch: when every sample matches r0 (same answer,
// tokens and embedding), CoCoA is 0 under every similarity and its
// tie-break is u(r0).
func TestCoCoAZeroWhenAllMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, sim := range []Similarity{AnswerMatch{}, TokenRougeL{}, TokenJaccard{}, EmbeddingCosine{}} {
		for _, name := range []string{"cocoa-msp", "cocoa-ppl", "cocoa-mte"} {
			e, err := New(name, &Config{Similarity: sim})
			if err != nil {
				t.Fatal(err)
			}
			u, _ := New(map[string]string{"cocoa-msp": "msp", "cocoa-ppl": "log-perplexity", "cocoa-mte": "mte"}[name], nil)
			for k := 1; k <= 8; k++ {
				g := randomGroup(r, 0)
				for range k {
					g.Samples = append(g.Samples, g.Greedy)
				}
				s, err := e.Estimate(&g)
				want, _ := u.Estimate(&g)
				if err != nil || s.Value != 0 || s.Tiebreak != want.Value {
					t.Errorf("%s, %T, K=%d: %+v, %v; want value 0, tie-break %v", name, sim, k, s, err, want.Value)
				}
			}
		}
	}
}

// TestMSPGrowsWithLength: with the same probability p for every token, MSP
// = -L log p grows with L while the log-perplexity stays -log p.
func TestMSPGrowsWithLength(t *testing.T) {
	for _, p := range []float64{0.99, 0.5, 0.01} {
		prev := 0.0
		for l := 1; l <= 200; l++ {
			lp := make([]float64, l)
			for i := range lp {
				lp[i] = math.Log(p)
			}
			msp, err := MSP(lp)
			if err != nil || msp <= prev || math.Abs(msp+float64(l)*math.Log(p)) > 1e-9 {
				t.Fatalf("p=%v, L=%d: MSP = %v, %v; want %v, above %v", p, l, msp, err, -float64(l)*math.Log(p), prev)
			}
			prev = msp
			if lppl, _ := LogPerplexity(lp); math.Abs(lppl+math.Log(p)) > 1e-12 {
				t.Fatalf("p=%v, L=%d: log-perplexity %v, want %v", p, l, lppl, -math.Log(p))
			}
		}
	}
}

// TestOracleNormalizedPRR: ordering by decreasing quality gives normalised
// PRR 1, for binary and graded qualities, with and without ties; the
// reversed order is the worst; and the metrics do not depend on the order
// of the items.
func TestOracleNormalizedPRR(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for trial := range 200 {
		n := 2 + r.IntN(60)
		q := make([]float64, n)
		for i := range q {
			if trial%2 == 0 {
				q[i] = float64(r.IntN(2))
			} else {
				q[i] = math.Round(r.Float64()*4) / 4
			}
		}
		if slices.Min(q) == slices.Max(q) {
			continue
		}
		oracle := make([]float64, n) // a decreasing function of quality
		for i := range q {
			oracle[i] = 10 - 3*q[i]
		}
		if got, err := NormalizedPRR(oracle, q); err != nil || math.Abs(got-1) > 1e-12 {
			t.Fatalf("oracle normalised PRR = %v, %v; want 1 (q=%v)", got, err, q)
		}
		u := make([]float64, n)
		for i := range u {
			u[i] = math.Round(r.Float64()*8) / 8 // ties
		}
		prr, _ := PRR(u, q)
		if worst, _ := PRR(q, q); prr < worst-1e-12 {
			t.Fatalf("PRR %v below the reversed oracle's %v", prr, worst)
		}
		perm := r.Perm(n)
		up, qp := make([]float64, n), make([]float64, n)
		for i, j := range perm {
			up[i], qp[i] = u[j], q[j]
		}
		if prr2, _ := PRR(up, qp); math.Abs(prr-prr2) > 1e-12 {
			t.Fatalf("PRR depends on item order: %v vs %v", prr, prr2)
		}
		if rc, _ := RiskCoverageAUC(u, q); math.Abs(rc-(1-prr)) > 1e-12 {
			t.Fatalf("RiskCoverageAUC %v != 1 - PRR %v", rc, 1-prr)
		}
		wrong := make([]bool, n)
		neg := make([]float64, n)
		for i := range q {
			wrong[i], neg[i] = q[i] < 0.5, -u[i]
		}
		a, errA := ROCAUC(u, wrong)
		b, errB := ROCAUC(neg, wrong)
		if errA == nil && (errB != nil || math.Abs(a+b-1) > 1e-12) {
			t.Fatalf("ROCAUC(u) + ROCAUC(-u) = %v + %v, want 1", a, b)
		}
	}
}
