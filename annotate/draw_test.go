package annotate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// population returns sizes[s] candidates for each of the strata built by
// classes × quantiles with equal-sized quantiles: candidates of class c
// and quantile q have U in [q, q+1).
func population(classes []string, perQuantile [][]int) []Candidate {
	var out []Candidate
	for ci, c := range classes {
		for q, k := range perQuantile[ci] {
			for i := range k {
				out = append(out, Candidate{
					ID:    fmt.Sprintf("%s-%d-%02d", c, q, i),
					Class: c,
					U:     float64(q) + float64(ci*100+i)/1000,
				})
			}
		}
	}
	return out
}

func TestStratifyQuantiles(t *testing.T) {
	// 10 distinct uncertainties in 3 quantiles: ⌊3i/10⌋ for i = 0..9 is
	// 0,0,0,0,1,1,1,2,2,2.
	var recs []Candidate
	for i := range 10 {
		recs = append(recs, Candidate{ID: fmt.Sprint(i), Class: "A", U: float64(9 - i)})
	}
	strata, members := Stratify(recs, 3)
	var sizes []int
	for s := range strata {
		sizes = append(sizes, len(members[s]))
		if strata[s].Quantile != s {
			t.Errorf("stratum %d has quantile %d", s, strata[s].Quantile)
		}
	}
	if want := []int{4, 3, 3}; !slices.Equal(sizes, want) {
		t.Errorf("sizes = %v, want %v", sizes, want)
	}
	// Ties share a quantile: six equal uncertainties start at position 0.
	tied := []Candidate{{"a", "A", 1}, {"b", "A", 1}, {"c", "A", 1}, {"d", "A", 1}, {"e", "A", 1}, {"f", "A", 1}, {"g", "A", 2}}
	strata, members = Stratify(tied, 2)
	// The tie run at 0 gets quantile 0; g at position 6 gets ⌊2·6/7⌋ = 1.
	if len(strata) != 2 || len(members[0]) != 6 || members[1][0].ID != "g" {
		t.Errorf("tied: strata %v, members %v", strata, members)
	}
}

func TestAllocate(t *testing.T) {
	sized := func(sizes ...int) [][]Candidate {
		m := make([][]Candidate, len(sizes))
		for i, s := range sizes {
			m[i] = make([]Candidate, s)
		}
		return m
	}
	// Hand-worked by the documented rule.
	tests := []struct {
		sizes []int
		n     int
		want  []int
	}{
		// Share 3 each, capped at 1 for the second; 2 left go 1 each to the
		// two strata with room.
		{[]int{5, 1, 3, 10}, 12, []int{4, 1, 3, 4}},
		// Share 2, then share 1 to the three open strata, then the last 1
		// to the stratum with most left (the fourth, 7 left vs 2).
		{[]int{5, 1, 3, 10}, 11, []int{3, 1, 3, 4}},
		// Fewer than strata: to the largest, ties in stratum order.
		{[]int{2, 4, 4, 1}, 2, []int{0, 1, 1, 0}},
		{[]int{2, 4, 4, 1}, 100, []int{2, 4, 4, 1}},
		{[]int{3, 3}, 0, []int{0, 0}},
	}
	for _, tt := range tests {
		got := allocate(sized(tt.sizes...), tt.n)
		if !slices.Equal(got, tt.want) {
			t.Errorf("allocate(%v, %d) = %v, want %v", tt.sizes, tt.n, got, tt.want)
		}
	}
}

func TestDraw(t *testing.T) {
	recs := population([]string{"A", "B"}, [][]int{{10, 10, 10}, {2, 5, 20}})
	byID := make(map[string]Candidate)
	for _, r := range recs {
		byID[r.ID] = r
	}
	for _, n := range []int{1, 6, 13, 40, 57, 100} {
		t.Run(fmt.Sprint("n=", n), func(t *testing.T) {
			got := Draw(recs, n, 42, 3)
			if want := min(n, len(recs)); len(got) != want {
				t.Fatalf("drew %d, want %d", len(got), want)
			}
			seen := make(map[string]bool)
			for _, c := range got {
				if seen[c.ID] {
					t.Errorf("%s drawn twice", c.ID)
				}
				seen[c.ID] = true
				if byID[c.ID] != c {
					t.Errorf("drew %+v, not a record", c)
				}
			}
			// Counts per stratum equal the allocation.
			strata, members := Stratify(recs, 3)
			alloc := allocate(members, n)
			for s, st := range strata {
				k := 0
				for _, m := range members[s] {
					if seen[m.ID] {
						k++
					}
				}
				if k != alloc[s] {
					t.Errorf("stratum %+v: drew %d, want %d", st, k, alloc[s])
				}
			}
			// Deterministic, whatever the input order.
			shuffled := slices.Clone(recs)
			rand.New(rand.NewPCG(uint64(n), 1)).Shuffle(len(shuffled), func(i, j int) {
				shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
			})
			if again := Draw(shuffled, n, 42, 3); !slices.Equal(got, again) {
				t.Errorf("second draw differs:\n%v\n%v", got, again)
			}
		})
	}
	if got := Draw(recs, 0, 1, 3); got != nil {
		t.Errorf("n=0: %v", got)
	}
	if got := Draw(nil, 5, 1, 3); got != nil {
		t.Errorf("no records: %v", got)
	}
}

func TestDrawSeedAndBlinding(t *testing.T) {
	recs := population([]string{"A", "B"}, [][]int{{5, 5, 5}, {5, 5, 5}})
	strata, members := Stratify(recs, 3)
	stratumOf := make(map[string]int)
	for s := range strata {
		for _, m := range members[s] {
			stratumOf[m.ID] = s
		}
	}
	// Without the final shuffle the first drawn record would always come
	// from the first stratum. Over 100 seeds, each of the 6 strata should
	// lead at least once (a uniform shuffle misses one with probability
	// about 6·(5/6)^100 ≈ 7e-8; the seeds are fixed, so this is stable).
	first := make(map[int]bool)
	distinct := make(map[string]bool)
	for seed := range uint64(100) {
		d := Draw(recs, 12, seed, 3)
		first[stratumOf[d[0].ID]] = true
		distinct[fmt.Sprint(d)] = true
		// Two per stratum whatever the seed.
		count := make(map[int]int)
		for _, c := range d {
			count[stratumOf[c.ID]]++
		}
		for s := range strata {
			if count[s] != 2 {
				t.Fatalf("seed %d: stratum %d drew %d, want 2", seed, s, count[s])
			}
		}
	}
	if len(first) != len(strata) {
		t.Errorf("first record came from strata %v only", first)
	}
	if len(distinct) != 100 {
		t.Errorf("100 seeds gave %d distinct draws", len(distinct))
	}
}

// TestDrawGolden pins one draw. The IDs were recorded from this
// implementation; the test guards the documented promise that a seed gives
// the same sample on every machine and Go version (PCG's output and the
// package's own bounded-integer rule are fixed).
func TestDrawGolden(t *testing.T) {
	recs := population([]string{"A", "B"}, [][]int{{4, 4}, {4, 4}})
	var got []string
	for _, c := range Draw(recs, 5, 2026, 2) {
		got = append(got, c.ID)
	}
	want := []string{"A-0-02", "A-1-00", "B-1-00", "B-0-03", "A-0-00"}
	if !slices.Equal(got, want) {
		t.Errorf("Draw = %q, want %q", got, want)
	}
}

func TestUintN(t *testing.T) {
	src := rand.NewPCG(1, 2)
	var counts [3]int
	for range 30000 {
		counts[uintN(src, 3)]++
	}
	for v, c := range counts {
		// Binomial(30000, 1/3): sd ≈ 82; 6 sd is 490.
		if math.Abs(float64(c)-10000) > 490 {
			t.Errorf("value %d drawn %d times of 30000", v, c)
		}
	}
}

func TestDrawPanics(t *testing.T) {
	tests := []struct {
		name string
		recs []Candidate
		q    int
	}{
		{"quantiles", []Candidate{{"a", "A", 1}}, 0},
		{"duplicate", []Candidate{{"a", "A", 1}, {"a", "B", 2}}, 2},
		{"NaN", []Candidate{{"a", "A", math.NaN()}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			Draw(tt.recs, 1, 1, tt.q)
		})
	}
}
