package filter

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortSmallest checks sortSmallest against sorting everything, on
// random, sorted, reversed and few-valued inputs of many sizes, for every
// kind of k; and groupByClass against a stable sort by class.
func TestSortSmallest(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	byValue := func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.s.Value, b.s.Value), cmp.Compare(a.idOff, b.idOff))
	}
	for _, n := range []int{0, 1, 2, 3, 16, 17, 18, 100, 1000, 5000} {
		for _, shape := range []string{"random", "sorted", "reversed", "few values"} {
			es := make([]entry, n)
			for i := range es {
				es[i] = entry{idOff: int64(i), class: int32(rng.IntN(3))}
				switch shape {
				case "random":
					es[i].s.Value = rng.Float64()
				case "sorted":
					es[i].s.Value = float64(i)
				case "reversed":
					es[i].s.Value = float64(n - i)
				case "few values":
					es[i].s.Value = float64(rng.IntN(3))
				}
			}
			want := slices.Clone(es)
			slices.SortFunc(want, byValue)
			for _, k := range []int{0, 1, n / 3, n / 2, n - 1, n} {
				if k < 0 || k > n {
					continue
				}
				got := slices.Clone(es)
				rng.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
				sortSmallest(got, k, byValue)
				if !slices.Equal(got[:k], want[:k]) {
					t.Fatalf("%s, n %d, k %d: %v, want %v", shape, n, k, got[:k], want[:k])
				}
				rest := slices.Clone(got[k:])
				slices.SortFunc(rest, byValue)
				if !slices.Equal(rest, want[k:]) {
					t.Fatalf("%s, n %d, k %d: the rest is not the rest", shape, n, k)
				}
			}
			counts := make([]int, 3)
			for _, e := range es {
				counts[e.class]++
			}
			got := slices.Clone(es)
			groupByClass(got, counts)
			for i := 1; i < len(got); i++ {
				if got[i].class < got[i-1].class {
					t.Fatalf("groupByClass: class %d after %d", got[i].class, got[i-1].class)
				}
			}
			byID := func(a, b entry) int { return cmp.Compare(a.idOff, b.idOff) }
			slices.SortFunc(got, byID)
			if !slices.Equal(got, es) {
				t.Fatalf("groupByClass lost or changed entries")
			}
		}
	}
}
