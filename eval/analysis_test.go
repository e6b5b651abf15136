package eval_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/eval"
	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/score"
	"github.com/labelfree/labelfree/uncertainty"
)

// fixture returns seeded score records: PerturbQA ids, gold labels drawn
// 15/15/70, r0 right 70% of the time, 3% unparsed, 5% unlabelled, and two
// estimators: "scaled" (continuous, wider for down answers, so no ties)
// and "coarse" (a few values with tie-breaks, failing on 4% of groups).
func fixture(n int, seed uint64) (score.Header, []score.Record) {
	rng := rand.New(rand.NewPCG(seed, 1))
	h := score.Header{Estimators: []string{"scaled", "coarse"}}
	scale := map[string]float64{"up": 1.5, "down": 3, "none": 1}
	var recs []score.Record
	for i := range n {
		r := score.Record{ID: fmt.Sprintf("k562/P%d/G%d", i%17, i/17), Scores: map[string]uncertainty.Score{}}
		switch x := rng.Float64(); {
		case x < 0.15:
			r.Label = "up"
		case x < 0.30:
			r.Label = "down"
		default:
			r.Label = "none"
		}
		right := rng.Float64() < 0.7
		r.Class, r.OK = r.Label, true
		if !right {
			r.Class = labels[(slices.Index(labels, r.Label)+1+rng.IntN(2))%3]
		}
		if rng.Float64() < 0.03 {
			r.Class, r.OK = "", false
		}
		u := rng.Float64()
		if !right {
			u += 0.5
		}
		s := 1.0
		if r.OK {
			s = scale[r.Class]
		}
		r.Scores["scaled"] = uncertainty.Score{Value: s * u}
		if rng.Float64() < 0.04 {
			r.Errors = map[string]string{"coarse": "uncertainty: no parsable answer"}
		} else {
			r.Scores["coarse"] = uncertainty.Score{Value: float64(int(u * 4)), Tiebreak: rng.Float64()}
		}
		if rng.Float64() < 0.05 {
			r.Label = ""
		}
		recs = append(recs, r)
	}
	return h, recs
}

// TestAnalyzeStrategies checks the retention curves against selections
// computed here from their definitions, and the global curve against
// uncertainty.Retention, an independent implementation of the same
// ranking.
func TestAnalyzeStrategies(t *testing.T) {
	h, recs := fixture(600, 7)
	a, err := eval.Analyze(t.Context(), &eval.Input{Header: h, Records: recs}, &eval.Config{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	unlabelled := 0
	for _, r := range recs {
		if r.Label == "" {
			unlabelled++
		}
	}
	if a.Unlabelled != unlabelled || a.Groups != len(recs) || a.Classification.N != len(recs)-unlabelled {
		t.Errorf("groups %d, unlabelled %d, evaluated %d; want %d, %d, %d", a.Groups, a.Unlabelled, a.Classification.N,
			len(recs), unlabelled, len(recs)-unlabelled)
	}
	if len(a.Fractions) != 20 || a.SummaryFraction != 0.3 {
		t.Errorf("fractions %v, summary fraction %v", a.Fractions, a.SummaryFraction)
	}
	for _, ea := range a.PerEstimator {
		t.Run(ea.Name, func(t *testing.T) {
			// The eligible groups, as the filter package defines them:
			// labelled, r0 parsed, scored.
			type item struct {
				id         string
				s          uncertainty.Score
				pred, gold string
				right      bool
			}
			var eligible []item
			failed := 0
			for _, r := range recs {
				if r.Label == "" {
					continue
				}
				s, ok := r.Scores[ea.Name]
				if !ok {
					failed++
					continue
				}
				if r.OK {
					eligible = append(eligible, item{id: r.ID, s: s, pred: r.Class, gold: r.Label, right: r.Class == r.Label})
				}
			}
			if ea.Failed != failed {
				t.Errorf("failed %d, want %d", ea.Failed, failed)
			}
			byScore := func(a, b item) int {
				if c := uncertainty.Compare(a.s, b.s); c != 0 {
					return c
				}
				return strings.Compare(a.id, b.id)
			}
			slices.SortFunc(eligible, byScore)
			accuracy := func(kept []item) float64 {
				n := 0
				for _, it := range kept {
					if it.right {
						n++
					}
				}
				return float64(n) / float64(len(kept))
			}
			per, glob, rnd := ea.Curves[0], ea.Curves[1], ea.Curves[2]
			if per.Strategy != filter.NamePerClass || glob.Strategy != filter.NameGlobal || rnd.Strategy != filter.NameRandom {
				t.Fatalf("strategies %s, %s, %s", per.Strategy, glob.Strategy, rnd.Strategy)
			}
			for k, q := range a.Fractions {
				// Global: the ⌈q·n⌉ least uncertain (filter.Size's rounding).
				g := glob.Points[k]
				kept := eligible[:filter.Size(q, len(eligible))]
				if g.Kept != len(kept) || !near(g.Accuracy, accuracy(kept)) {
					t.Errorf("global q=%v: kept %d, accuracy %v; want %d, %v", q, g.Kept, g.Accuracy, len(kept), accuracy(kept))
				}
				// Per-class: the ⌈q·n_c⌉ least uncertain of each r0 class.
				p := per.Points[k]
				total := 0
				for ci, l := range labels {
					var class []item
					for _, it := range eligible {
						if it.pred == l {
							class = append(class, it)
						}
					}
					kc := class[:filter.Size(q, len(class))]
					total += len(kc)
					cp := p.Classes[ci]
					if cp.Kept != len(kc) || cp.Eligible != len(class) || !near(cp.Accuracy.Value, accuracy(kc)) {
						t.Errorf("per-class q=%v %s: kept %d of %d, accuracy %v; want %d of %d, %v",
							q, l, cp.Kept, cp.Eligible, cp.Accuracy.Value, len(kc), len(class), accuracy(kc))
					}
				}
				if p.Kept != total {
					t.Errorf("per-class q=%v: kept %d, want %d", q, p.Kept, total)
				}
				// Random: as many as per-class, from the same pool.
				if r := rnd.Points[k]; r.Kept != p.Kept || r.Eligible != len(eligible) {
					t.Errorf("random q=%v: kept %d of %d, want %d of %d", q, r.Kept, r.Eligible, p.Kept, len(eligible))
				}
			}
			// Random draws overall, not per class: somewhere its class
			// counts differ from per-class filtering's.
			differ := false
			for k := range a.Fractions {
				for ci := range labels {
					differ = differ || rnd.Points[k].Classes[ci].Kept != per.Points[k].Classes[ci].Kept
				}
			}
			if !differ {
				t.Error("random keeps exactly per-class's count of every class at every q: it should draw overall")
			}
			// At q = 1 every strategy keeps everything.
			last := len(a.Fractions) - 1
			for _, cu := range ea.Curves {
				if p := cu.Points[last]; p.Kept != len(eligible) || !near(p.Accuracy, accuracy(eligible)) {
					t.Errorf("%s at q=1: kept %d, accuracy %v; want %d, %v", cu.Strategy, p.Kept, p.Accuracy, len(eligible), accuracy(eligible))
				}
			}
			if ea.Name != "scaled" {
				return // "coarse" has ties, which uncertainty.Retention keeps together
			}
			values := make([]float64, len(eligible))
			pred := make([]string, len(eligible))
			gold := make([]string, len(eligible))
			for i, it := range eligible {
				values[i], pred[i], gold[i] = it.s.Value, it.pred, it.gold
			}
			ret, err := uncertainty.Retention(values, pred, gold, a.Fractions)
			if err != nil {
				t.Fatal(err)
			}
			for k, r := range ret {
				if g := glob.Points[k]; g.Kept != r.N || !near(g.Accuracy, r.Accuracy) {
					t.Errorf("q=%v: global keeps %d with accuracy %v, uncertainty.Retention %d with %v", r.Fraction, g.Kept, g.Accuracy, r.N, r.Accuracy)
				}
			}
		})
	}
}

// TestAnalyzeStarvation is the paper's ablation in miniature: when one
// class's uncertainties run on a wider scale, global filtering keeps a
// smaller share of it than of the others, per-class filtering the same
// share of each.
func TestAnalyzeStarvation(t *testing.T) {
	h, recs := fixture(900, 11)
	a, err := eval.Analyze(t.Context(), &eval.Input{Header: h, Records: recs}, &eval.Config{Estimators: []string{"scaled"}})
	if err != nil {
		t.Fatal(err)
	}
	curves := a.PerEstimator[0].Curves
	per, glob := curves[0].At(0.3), curves[1].At(0.3)
	down := slices.Index(labels, "down")
	if g, p := glob.Classes[down].Retained.Value, per.Classes[down].Retained.Value; !(g < p/2) {
		t.Errorf("q=0.3: global keeps %.3f of down, per-class %.3f; want global < half of per-class", g, p)
	}
	if b := per.Balance().Value; b < 0.95 {
		t.Errorf("per-class balance %.3f, want ≥ 0.95 (⌈q·n_c⌉ per class)", b)
	}
}

func TestAnalyzeAUC(t *testing.T) {
	h, recs := fixture(400, 5)
	in := &eval.Input{Header: h, Records: recs}
	a, err := eval.Analyze(t.Context(), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.AUC == nil || a.AUCFromVotes {
		t.Fatalf("AUC %v, from votes %v (skip: %s)", a.AUC, a.AUCFromVotes, a.AUCSkip)
	}
	// Without votes, the score is r0's hard answer: recompute it.
	var gene []string
	var de []float64
	var pos []bool
	for _, r := range recs {
		if r.Label == "" {
			continue
		}
		_, _, g, _ := eval.SplitPerturbID(r.ID)
		gene = append(gene, "k562/"+g)
		de = append(de, map[bool]float64{true: 1, false: 0}[r.Class == "up" || r.Class == "down"])
		if r.Class == "" {
			de[len(de)-1] = 0.5
		}
		pos = append(pos, r.Label != "none")
	}
	want, err := eval.AUCPerGene(gene, de, pos)
	if err != nil {
		t.Fatal(err)
	}
	if !near(a.AUC.DE.Mean, want.Mean) || a.AUC.DE.Skipped != want.Skipped {
		t.Errorf("DE auc_per_gene %v (skipped %d), want %v (%d)", a.AUC.DE.Mean, a.AUC.DE.Skipped, want.Mean, want.Skipped)
	}

	// With votes, they are used.
	in.Votes = map[string]eval.Votes{}
	for _, r := range recs {
		in.Votes[r.ID] = eval.Votes{"up": 1, "none": 1}
	}
	if a, err = eval.Analyze(t.Context(), in, nil); err != nil {
		t.Fatal(err)
	}
	if !a.AUCFromVotes || a.AUC.DE.Mean != 0.5 {
		t.Errorf("equal votes everywhere: from votes %v, DE %v; want true, 0.5", a.AUCFromVotes, a.AUC.DE.Mean)
	}

	// Not PerturbQA ids: no AUC, and a reason.
	recs[0].ID = "q0"
	a, err = eval.Analyze(t.Context(), &eval.Input{Header: h, Records: recs}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.AUC != nil || !strings.Contains(a.AUCSkip, `"q0"`) {
		t.Errorf("AUC %v, skip %q", a.AUC, a.AUCSkip)
	}
}

func TestAnalyzeErrors(t *testing.T) {
	h, recs := fixture(50, 1)
	unlabelled := slices.Clone(recs)
	for i := range unlabelled {
		unlabelled[i].Label = ""
	}
	badClass := slices.Clone(recs)
	badClass[0].Class, badClass[0].OK = "sideways", true
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		in   *eval.Input
		c    *eval.Config
		want error
	}{
		{"no labels", t.Context(), &eval.Input{Header: h, Records: unlabelled}, nil, eval.ErrEmpty},
		{"unknown estimator", t.Context(), &eval.Input{Header: h, Records: recs}, &eval.Config{Estimators: []string{"msp"}}, eval.ErrInvalid},
		{"bad fraction", t.Context(), &eval.Input{Header: h, Records: recs}, &eval.Config{Fractions: []float64{0.5, 1.5}}, eval.ErrInvalid},
		{"bad bins", t.Context(), &eval.Input{Header: h, Records: recs}, &eval.Config{Bins: -1}, eval.ErrInvalid},
		{"unknown class", t.Context(), &eval.Input{Header: h, Records: badClass}, nil, eval.ErrUnknownLabel},
		{"canceled", canceled, &eval.Input{Header: h, Records: recs}, nil, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := eval.Analyze(tt.ctx, tt.in, tt.c); !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAnalyzeFractions(t *testing.T) {
	h, recs := fixture(60, 2)
	a, err := eval.Analyze(t.Context(), &eval.Input{Header: h, Records: recs},
		&eval.Config{Fractions: []float64{1, 0.5, 0.5}, SummaryFraction: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{0.25, 0.5, 1}; !slices.Equal(a.Fractions, want) {
		t.Errorf("fractions %v, want %v (sorted, deduplicated, summary fraction added)", a.Fractions, want)
	}
	for _, ea := range a.PerEstimator {
		for _, cu := range ea.Curves {
			if !slices.IsSortedFunc(cu.Points, func(a, b eval.CurvePoint) int { return cmp.Compare(a.Fraction, b.Fraction) }) ||
				len(cu.Points) != 3 || cu.At(0.25) == nil {
				t.Errorf("%s %s: points %v", ea.Name, cu.Strategy, cu.Points)
			}
		}
	}
}
