package perturb_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/labelfree/labelfree/perturb"
)

func indices(n int) []int {
	xs := make([]int, n)
	for i := range xs {
		xs[i] = i
	}
	return xs
}

// Values from testdata/sample_ref.py, an independent Python implementation
// of the scheme documented on Sample. They pin the scheme: a change to it,
// or to math/rand/v2's PCG, changes the questions a seed names.
func TestSampleReference(t *testing.T) {
	tests := []struct {
		n, k int
		seed uint64
		want []int
	}{
		{1000, 10, 42, []int{91, 138, 188, 368, 650, 857, 929, 960, 961, 966}},
		{23212, 50, 1, []int{552, 739, 892, 1749, 2069, 2763, 3010, 3059, 3593, 3645, 3882, 4008,
			4358, 5052, 5165, 5510, 5668, 7109, 8478, 8608, 8718, 9445, 9544, 9686, 10674, 11074,
			11589, 11675, 12577, 12895, 13705, 13814, 13886, 15467, 16285, 16605, 17166, 18015,
			18335, 18349, 18455, 18521, 18816, 19542, 19795, 20497, 22432, 22434, 22501, 22601}},
		{7, 3, 0, []int{1, 3, 5}},
	}
	for _, tt := range tests {
		if got := perturb.Sample(indices(tt.n), tt.k, tt.seed); !slices.Equal(got, tt.want) {
			t.Errorf("Sample(0…%d, %d, %d) = %v, want %v", tt.n-1, tt.k, tt.seed, got, tt.want)
		}
	}
}

func TestSampleNested(t *testing.T) {
	xs := indices(500)
	for seed := range uint64(20) {
		prev := []int{}
		for _, n := range []int{1, 5, 50, 51, 200, 499} {
			got := perturb.Sample(xs, n, seed)
			if len(got) != n || !slices.IsSorted(got) {
				t.Fatalf("seed %d: Sample(%d) = %v: want %d increasing indices", seed, n, got, n)
			}
			for _, x := range prev {
				if _, ok := slices.BinarySearch(got, x); !ok {
					t.Fatalf("seed %d: %d in Sample(%d) but not in Sample(%d)", seed, x, len(prev), n)
				}
			}
			prev = got
		}
	}
}

func TestSampleEdges(t *testing.T) {
	xs := []string{"a", "b", "c"}
	all := perturb.Sample(xs, 5, 1)
	if !slices.Equal(all, xs) {
		t.Errorf("Sample(xs, 5) = %v, want all of %v", all, xs)
	}
	all[0] = "changed"
	if xs[0] != "a" {
		t.Error("Sample(xs, 5) returned xs itself, not a copy")
	}
	if got := perturb.Sample(xs, 0, 1); len(got) != 0 {
		t.Errorf("Sample(xs, 0) = %v", got)
	}
	if got := perturb.Sample([]string(nil), 3, 1); len(got) != 0 {
		t.Errorf("Sample(nil, 3) = %v", got)
	}
	if slices.Equal(perturb.Sample(indices(1000), 10, 1), perturb.Sample(indices(1000), 10, 2)) {
		t.Error("seeds 1 and 2 chose the same subset")
	}
	defer func() {
		if recover() == nil {
			t.Error("Sample(xs, -1) did not panic")
		}
	}()
	perturb.Sample(xs, -1, 1)
}

// Each of 10 elements is chosen with probability 3/10; over 20,000 seeds
// each count is Binomial(20000, 0.3): mean 6000, sd 64.8. The tolerance is
// 5 sd; the seeds are fixed, so the test is deterministic.
func TestSampleUniform(t *testing.T) {
	const seeds, n, k = 20000, 10, 3
	counts := make([]int, n)
	for seed := range uint64(seeds) {
		for _, x := range perturb.Sample(indices(n), k, seed) {
			counts[x]++
		}
	}
	mean := float64(seeds * k / n)
	sd := math.Sqrt(seeds * 0.3 * 0.7)
	for x, c := range counts {
		if math.Abs(float64(c)-mean) > 5*sd {
			t.Errorf("element %d chosen %d times, want %.0f ± %.0f", x, c, mean, 5*sd)
		}
	}
}

// questions returns 100 questions, classes interleaved: every tenth up,
// two in ten down, the rest none.
func questions() []perturb.Question {
	qs := make([]perturb.Question, 100)
	for i := range qs {
		c := perturb.None
		switch i % 10 {
		case 0:
			c = perturb.Up
		case 1, 2:
			c = perturb.Down
		}
		qs[i] = perturb.Question{Cell: perturb.K562, Pert: "P", Gene: fmt.Sprint("G", i), Split: perturb.Test, Class: c}
	}
	return qs
}

func classCounts(qs []perturb.Question) map[string]int {
	m := map[string]int{}
	for _, q := range qs {
		m[q.Class]++
	}
	return m
}

func TestStratified(t *testing.T) {
	qs := questions()
	// Quotas by Hamilton's method. n = 15: exact shares down 3, none 10.5,
	// up 1.5; the remainders of none and up tie, and none comes first in
	// sorted order.
	tests := []struct {
		n              int
		up, down, none int
	}{
		{10, 1, 2, 7},
		{15, 1, 3, 11},
		{16, 2, 3, 11}, // 1.6, 3.2, 11.2
		{1, 0, 0, 1},
		{99, 10, 20, 69}, // 9.9, 19.8, 69.3
	}
	for _, tt := range tests {
		for seed := range uint64(5) {
			got := perturb.Stratified(qs, tt.n, seed)
			want := map[string]int{perturb.Up: tt.up, perturb.Down: tt.down, perturb.None: tt.none}
			if c := classCounts(got); len(got) != tt.n || c[perturb.Up] != tt.up || c[perturb.Down] != tt.down || c[perturb.None] != tt.none {
				t.Errorf("n %d seed %d: classes %v, want %v", tt.n, seed, c, want)
			}
			// In input order, without repeats.
			last := -1
			for _, q := range got {
				i := slices.Index(qs, q)
				if i <= last {
					t.Fatalf("n %d seed %d: %v out of order or repeated", tt.n, seed, q)
				}
				last = i
			}
		}
	}
	if got := perturb.Stratified(qs, 100, 1); !slices.Equal(got, qs) {
		t.Error("Stratified(qs, len(qs)) is not all of qs")
	}
	if slices.Equal(perturb.Stratified(qs, 10, 1), perturb.Stratified(qs, 10, 2)) {
		t.Error("seeds 1 and 2 chose the same subset")
	}
}

// The demo's 50 questions from k562's test split, whose classes are up
// 2530, down 589, none 20093 (TestLoadCounts): the shares 5.45, 1.27 and
// 43.28 round to 6, 1 and 43.
func TestStratifiedK562(t *testing.T) {
	qs, err := perturb.Load(dataDir(t), perturb.K562, perturb.Test)
	if err != nil {
		t.Fatal(err)
	}
	got := classCounts(perturb.Stratified(qs, 50, 1))
	if got[perturb.Up] != 6 || got[perturb.Down] != 1 || got[perturb.None] != 43 {
		t.Errorf("classes %v, want up 6, down 1, none 43", got)
	}
}
