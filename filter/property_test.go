package filter_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/score"
	"github.com/labelfree/labelfree/uncertainty"
)

// randomRecords returns n records over up to five classes with scores
// drawn from a small set of values, so that ties in Value (and in
// Tiebreak) are common; about 10% are unparsable and 10% have a
// cocoa-ppl error.
func randomRecords(rng *rand.Rand, n int) []score.Record {
	classes := []string{"up", "down", "none", "other", "x"}[:1+rng.IntN(5)]
	recs := make([]score.Record, n)
	for i := range recs {
		r := score.Record{ID: fmt.Sprintf("g%05d", rng.IntN(1<<20)*1000+i), Scores: map[string]uncertainty.Score{}}
		if rng.Float64() >= 0.1 {
			r.Class, r.OK = classes[rng.IntN(len(classes))], true
		}
		if rng.Float64() < 0.1 {
			r.Errors = map[string]string{"cocoa-ppl": "uncertainty: no samples"}
		} else {
			r.Scores["cocoa-ppl"] = uncertainty.Score{Value: float64(rng.IntN(8)) / 4, Tiebreak: float64(rng.IntN(3))}
		}
		r.Scores["self-consistency"] = uncertainty.Score{Value: float64(rng.IntN(5)) / 4}
		recs[i] = r
	}
	return recs
}

// eligible counts, per class, the records with a parsed answer and a
// cocoa-ppl score: what the strategies may keep.
func eligible(recs []score.Record) map[string][]*score.Record {
	m := map[string][]*score.Record{}
	for i := range recs {
		r := &recs[i]
		if _, ok := r.Scores["cocoa-ppl"]; ok && r.OK {
			m[r.Class] = append(m[r.Class], r)
		}
	}
	return m
}

// before reports whether a ranks before b: by Value, Tiebreak, then id.
func before(a, b *score.Record) bool {
	if c := uncertainty.Compare(a.Scores["cocoa-ppl"], b.Scores["cocoa-ppl"]); c != 0 {
		return c < 0
	}
	return a.ID < b.ID
}

// TestSelectProperties checks, on random score files, the invariants
// every selection must keep:
//   - per-class by fraction keeps exactly Size(q, n_c) = ⌈q·n_c⌉ of each
//     class; global keeps Size(q, n) overall;
//   - every kept group ranks before every eligible group left out (of its
//     class for per-class), ranks count 1, 2, … in file order;
//   - unparsable and unscored groups are never kept, and the summary's
//     counts add up;
//   - the selection does not depend on the order of the records;
//   - random matched to a selection has its size, per class or overall.
func TestSelectProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		recs := randomRecords(rng, 1+rng.IntN(300))
		q := []float64{0.05, 0.1, 0.25, 0.3, 0.5, 0.7, 1}[rng.IntN(7)]
		el := eligible(recs)
		byID := map[string]*score.Record{}
		for i := range recs {
			byID[recs[i].ID] = &recs[i]
		}
		nElig := 0
		for _, rs := range el {
			nElig += len(rs)
		}
		shuffled := append([]score.Record(nil), recs...)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })

		for _, s := range []filter.Strategy{
			filter.PerClass{Estimator: "cocoa-ppl", Fraction: q},
			filter.Global{Estimator: "cocoa-ppl", Fraction: q},
		} {
			name := fmt.Sprintf("trial %d %T q=%v", trial, s, q)
			sel, err := filter.Select(&header, score.Records(recs), s)
			if err != nil {
				t.Fatal(err)
			}
			perClass := sel.Header.Strategy == filter.NamePerClass
			kept := map[string]bool{}
			keptBy := map[string]int{}
			for i, r := range sel.Records {
				src := byID[r.ID]
				if !src.OK || src.Errors["cocoa-ppl"] != "" {
					t.Fatalf("%s: kept %s, which is unparsable or unscored", name, r.ID)
				}
				if r.Class != src.Class || r.U != src.Scores["cocoa-ppl"].Value || r.Tie != src.Scores["cocoa-ppl"].Tiebreak {
					t.Fatalf("%s: record %+v does not match its source %+v", name, r, src)
				}
				want := i + 1
				if perClass {
					want = keptBy[r.Class] + 1
				}
				if r.Rank != want {
					t.Fatalf("%s: %s rank %d, want %d", name, r.ID, r.Rank, want)
				}
				if i > 0 && (!perClass || sel.Records[i-1].Class == r.Class) && !before(byID[sel.Records[i-1].ID], src) {
					t.Fatalf("%s: %s listed after %s but ranks before it", name, r.ID, sel.Records[i-1].ID)
				}
				kept[r.ID] = true
				keptBy[r.Class]++
			}
			if perClass {
				for c, rs := range el {
					if keptBy[c] != filter.Size(q, len(rs)) {
						t.Fatalf("%s: class %s kept %d of %d, want %d", name, c, keptBy[c], len(rs), filter.Size(q, len(rs)))
					}
				}
			} else if len(sel.Records) != filter.Size(q, nElig) {
				t.Fatalf("%s: kept %d of %d, want %d", name, len(sel.Records), nElig, filter.Size(q, nElig))
			}
			// Every kept group ranks before every eligible group left out.
			for c, rs := range el {
				for _, out := range rs {
					if kept[out.ID] {
						continue
					}
					for _, r := range sel.Records {
						if (!perClass || r.Class == c) && !before(byID[r.ID], out) {
							t.Fatalf("%s: kept %s but left out %s, which ranks before it", name, r.ID, out.ID)
						}
					}
				}
			}
			sum := sel.Header.Summary
			total := sum.Eligible
			for _, k := range sum.Excluded {
				total += k
			}
			if total != len(recs) || sum.Eligible != nElig || sum.Kept != len(sel.Records) {
				t.Fatalf("%s: summary %+v does not add up to %d records, %d eligible", name, sum, len(recs), nElig)
			}
			again, err := filter.Select(&header, score.Records(shuffled), s)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(again, sel) {
				t.Fatalf("%s: shuffling the records changed the selection", name)
			}

			// A random baseline of the same size, per class and overall,
			// drawn from the same pool (Estimator excludes the unscored).
			for _, pc := range []bool{true, false} {
				seed := rng.Uint64()
				rs := filter.Random{Seed: seed, Like: &sel.Header.Summary, PerClass: pc, Estimator: "cocoa-ppl"}
				rnd, err := filter.Select(&header, score.Records(recs), rs)
				if err != nil {
					t.Fatal(err)
				}
				if rnd.Header.Summary.Kept != sum.Kept {
					t.Fatalf("%s: random (per class %v) kept %d, reference %d", name, pc, rnd.Header.Summary.Kept, sum.Kept)
				}
				if pc {
					for i, c := range rnd.Header.Summary.Classes {
						if c.Kept != sum.Classes[i].Kept {
							t.Fatalf("%s: random kept %d of %s, reference %d", name, c.Kept, c.Class, sum.Classes[i].Kept)
						}
					}
				}
				for _, r := range rnd.Records {
					if src := byID[r.ID]; !src.OK || src.Errors["cocoa-ppl"] != "" {
						t.Fatalf("%s: random kept %s, which is not eligible", name, r.ID)
					}
				}
				// The same seed gives the same draw, whatever the order.
				rnd2, err := filter.Select(&header, score.Records(shuffled), rs)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(rnd2, rnd) {
					t.Fatalf("%s: the same seed drew differently from shuffled records", name)
				}
			}
		}
	}
}

// classRecords returns n records per class, class c's cocoa-ppl values
// drawn uniformly from [0, scale[c]).
func classRecords(rng *rand.Rand, n int, scale map[string]float64) []score.Record {
	var recs []score.Record
	for _, c := range []string{"down", "none", "up"} {
		for i := range n {
			recs = append(recs, score.Record{ID: fmt.Sprintf("%s%05d", c, i), Class: c, OK: true,
				Scores: map[string]uncertainty.Score{"cocoa-ppl": {Value: scale[c] * rng.Float64()}, "self-consistency": {}}})
		}
	}
	return recs
}

// TestPerClassVersusGlobal checks the argument for per-class filtering.
// When every class draws its uncertainties from one distribution, the
// per-class and global selections nearly coincide: with 3000 groups a
// class and q = 0.3, a class's share of the global selection is 30% give
// or take about 0.8% (binomial standard deviation √(0.3·0.7/3000)), so the
// selections' Jaccard overlap must be at least 0.9. When one class's
// scale is ten times the others' (U[0, 10) against U[0, 1)), the global
// threshold t solves (t + t + t/10)/3 = 0.3, t ≈ 0.43, so global keeps
// only about 4.3% of that class (we require under 10%) while per-class
// keeps its 30% (exactly ⌈0.3·3000⌉ = 900).
func TestPerClassVersusGlobal(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	const n, q = 3000, 0.3
	pick := func(recs []score.Record, s filter.Strategy) (*filter.Selection, map[string]bool) {
		sel, err := filter.Select(&header, score.Records(recs), s)
		if err != nil {
			t.Fatal(err)
		}
		return sel, sel.IDs()
	}
	same := classRecords(rng, n, map[string]float64{"down": 1, "none": 1, "up": 1})
	_, pc := pick(same, filter.PerClass{Estimator: "cocoa-ppl", Fraction: q})
	_, gl := pick(same, filter.Global{Estimator: "cocoa-ppl", Fraction: q})
	inter := 0
	for id := range pc {
		if gl[id] {
			inter++
		}
	}
	if j := float64(inter) / float64(len(pc)+len(gl)-inter); j < 0.9 {
		t.Errorf("same distribution: Jaccard overlap %.3f < 0.9", j)
	}

	wide := classRecords(rng, n, map[string]float64{"down": 1, "none": 10, "up": 1})
	pcSel, _ := pick(wide, filter.PerClass{Estimator: "cocoa-ppl", Fraction: q})
	glSel, _ := pick(wide, filter.Global{Estimator: "cocoa-ppl", Fraction: q})
	kept := func(s *filter.Selection, c string) int {
		for _, cs := range s.Header.Summary.Classes {
			if cs.Class == c {
				return cs.Kept
			}
		}
		return 0
	}
	if k := kept(glSel, "none"); k >= n/10 {
		t.Errorf("wide class: global kept %d of %d, want under 10%%", k, n)
	}
	if k := kept(pcSel, "none"); k != 900 {
		t.Errorf("wide class: per-class kept %d, want 900", k)
	}
	if kept(glSel, "up") < 1200 {
		t.Errorf("narrow class: global kept %d of %d, want the surplus (about 43%%)", kept(glSel, "up"), n)
	}
}
