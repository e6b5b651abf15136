package annotate

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Candidate is one group that may be drawn for annotation.
type Candidate struct {
	ID    string  // the group's id in the trace and score files
	Class string  // r0's predicted answer class (never the gold label)
	U     float64 // the chosen estimator's uncertainty; higher is less trustworthy
}

// Stratum identifies one cell of Draw's stratification.
type Stratum struct {
	Class    string // the candidates' Class
	Quantile int    // 0 holds the least uncertain candidates, quantiles-1 the most
}

// drawStream is the PCG stream (its second seed word) Draw uses; it is a
// constant so that one seed gives one draw everywhere.
const drawStream = 0x6c6162656c667265 // "labelfre"

// Draw returns a stratified, blinded random sample of n records for
// annotation. It is deterministic: the same records (in any order), n,
// seed and quantiles give the same sample in the same order on every
// machine. It uses math/rand/v2's PCG (the PCG-DXSM generator, a fixed
// algorithm) seeded with (seed, 0x6c6162656c667265), and draws a bounded
// integer in [0, k) as PCG.Uint64() mod k, rejecting outputs below
// 2⁶⁴ mod k, rather than through rand.Rand's methods, whose algorithms a
// Go release may change.
//
// Strata. Each record falls into the stratum (Class, q) where q is its
// uncertainty quantile among all records: sorted by (U, ID), the tie run
// starting at 0-based position i gets q = ⌊quantiles·i/len(records)⌋, so
// equal uncertainties share a quantile and the quantile cut points are
// the same for every class.
//
// Allocation. Strata are filled in rounds: each round gives every stratum
// that still has undrawn records an equal share ⌊left/open⌋ of the left
// over budget, capped by what the stratum has; when the share is 0 the
// last left records go one each to the strata with the most undrawn
// records (ties by Class, then quantile). So the sample is as equal
// across strata as their sizes allow, and n ≥ len(records) returns every
// record.
//
// Selection and blinding. Within a stratum, records are sorted by ID and
// drawn without replacement (a partial Fisher–Yates shuffle), strata in
// order of (Class, quantile); the whole sample is then shuffled, so a
// record's position says nothing about its stratum or its score.
//
// It returns nil for n ≤ 0 and panics if quantiles < 1, if two records
// share an ID or if a U is NaN: candidates come from a score file, which
// holds neither.
func Draw(records []Candidate, n int, seed uint64, quantiles int) []Candidate {
	if quantiles < 1 {
		panic(fmt.Sprintf("annotate: Draw with %d quantiles", quantiles))
	}
	if n <= 0 || len(records) == 0 {
		return nil
	}
	strata, members := Stratify(records, quantiles)
	alloc := allocate(members, n)
	src := rand.NewPCG(seed, drawStream)
	var out []Candidate
	for s := range strata {
		m := slices.Clone(members[s])
		for i := range alloc[s] {
			j := i + int(uintN(src, uint64(len(m)-i)))
			m[i], m[j] = m[j], m[i]
		}
		out = append(out, m[:alloc[s]]...)
	}
	for i := len(out) - 1; i > 0; i-- {
		j := int(uintN(src, uint64(i+1)))
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Stratify returns Draw's strata, sorted by (Class, Quantile), and each
// stratum's records sorted by ID. It panics as Draw does.
func Stratify(records []Candidate, quantiles int) ([]Stratum, [][]Candidate) {
	if quantiles < 1 {
		panic(fmt.Sprintf("annotate: Stratify with %d quantiles", quantiles))
	}
	sorted := slices.Clone(records)
	for _, r := range sorted {
		if math.IsNaN(r.U) {
			panic(fmt.Sprintf("annotate: candidate %q has a NaN uncertainty", r.ID))
		}
	}
	slices.SortFunc(sorted, func(a, b Candidate) int {
		return cmp.Or(cmp.Compare(a.U, b.U), cmp.Compare(a.ID, b.ID))
	})
	byStratum := make(map[Stratum][]Candidate)
	seen := make(map[string]bool, len(sorted))
	for lo := 0; lo < len(sorted); {
		q := quantiles * lo / len(sorted)
		hi := lo
		for ; hi < len(sorted) && sorted[hi].U == sorted[lo].U; hi++ {
			r := sorted[hi]
			if seen[r.ID] {
				panic(fmt.Sprintf("annotate: candidate id %q occurs twice", r.ID))
			}
			seen[r.ID] = true
			s := Stratum{Class: r.Class, Quantile: q}
			byStratum[s] = append(byStratum[s], r)
		}
		lo = hi
	}
	strata := make([]Stratum, 0, len(byStratum))
	for s := range byStratum {
		strata = append(strata, s)
	}
	slices.SortFunc(strata, func(a, b Stratum) int {
		return cmp.Or(cmp.Compare(a.Class, b.Class), cmp.Compare(a.Quantile, b.Quantile))
	})
	members := make([][]Candidate, len(strata))
	for i, s := range strata {
		members[i] = byStratum[s]
		slices.SortFunc(members[i], func(a, b Candidate) int { return cmp.Compare(a.ID, b.ID) })
	}
	return strata, members
}

// allocate returns how many records to draw from each stratum, by the
// rule Draw documents.
func allocate(members [][]Candidate, n int) []int {
	alloc := make([]int, len(members))
	left := n
	for left > 0 {
		var open []int
		for s, m := range members {
			if alloc[s] < len(m) {
				open = append(open, s)
			}
		}
		if len(open) == 0 {
			break
		}
		share := left / len(open)
		if share == 0 {
			// Stable sort: equal room keeps (Class, quantile) order.
			slices.SortStableFunc(open, func(a, b int) int {
				return cmp.Compare(len(members[b])-alloc[b], len(members[a])-alloc[a])
			})
			for _, s := range open[:left] {
				alloc[s]++
			}
			break
		}
		for _, s := range open {
			k := min(share, len(members[s])-alloc[s])
			alloc[s] += k
			left -= k
		}
	}
	return alloc
}

// uintN returns a uniform integer in [0, n) from src, n > 0, by rejecting
// the 2⁶⁴ mod n lowest outputs so that x mod n is exactly uniform.
func uintN(src *rand.PCG, n uint64) uint64 {
	threshold := -n % n // 2⁶⁴ mod n
	for {
		if x := src.Uint64(); x >= threshold {
			return x % n
		}
	}
}
