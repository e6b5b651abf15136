package perturb

import (
	"math/bits"
	"math/rand/v2"
	"slices"
)

// Sample returns n elements of xs chosen uniformly at random without
// replacement by seed, in their order in xs; all of xs (a copy) when
// n ≥ len(xs). It panics if n < 0.
//
// The scheme is fixed, so that a seed names the same subset on every
// machine and Go release: a math/rand/v2 PCG (PCG-DXSM) source made by
// rand.NewPCG(seed, 0) drives a partial Fisher–Yates shuffle of the indices
// 0…len(xs)-1,
//
//	for i := 0; i < n; i++ {
//		j := i + below(len(xs)-i)
//		idx[i], idx[j] = idx[j], idx[i]
//	}
//
// and idx[:n], sorted, selects the elements. below(m) is Lemire's
// multiply-shift with rejection over the source's Uint64 (the high word of
// the 128-bit product x·m, drawing again while the low word is below
// 2⁶⁴ mod m). It is spelled out here rather than taken from rand.Rand.IntN,
// which on 32-bit platforms uses a 32-bit path with different results.
//
// Because the shuffle's first picks do not depend on n, the subset for n is
// contained in the subset for any larger n with the same seed: a run can
// grow from 50 questions to 100 and keep the 50 it has. The subset does
// depend on the order of xs; Load returns questions in file order, which the
// pinned checksums fix.
func Sample[T any](xs []T, n int, seed uint64) []T {
	if n < 0 {
		panic("perturb: Sample: negative n")
	}
	if n >= len(xs) {
		return slices.Clone(xs)
	}
	src := rand.NewPCG(seed, 0)
	idx := pick(src, len(xs), n)
	out := make([]T, n)
	for i, j := range idx {
		out[i] = xs[j]
	}
	return out
}

// Stratified returns n questions of qs chosen at random by seed so that
// each class keeps its share, in their order in qs; all of qs (a copy) when
// n ≥ len(qs). It panics if n < 0.
//
// The strata are the distinct values of Question.Class, in sorted order
// (for the three classes: down, none, up). A stratum of size s out of N
// questions gets ⌊n·s/N⌋ questions, and the questions still missing go one
// each to the strata with the largest remainders n·s mod N, ties to the
// earlier stratum (Hamilton's method). Each stratum is then sampled as
// Sample does, all strata in order drawing from one PCG source made by
// rand.NewPCG(seed, 0). Unlike Sample's, a smaller n's subset need not be
// contained in a larger one's.
func Stratified(qs []Question, n int, seed uint64) []Question {
	if n < 0 {
		panic("perturb: Stratified: negative n")
	}
	if n >= len(qs) {
		return slices.Clone(qs)
	}
	byClass := map[string][]int{}
	for i, q := range qs {
		byClass[q.Class] = append(byClass[q.Class], i)
	}
	classes := make([]string, 0, len(byClass))
	for c := range byClass {
		classes = append(classes, c)
	}
	slices.Sort(classes)

	N := len(qs)
	quota := make([]int, len(classes))
	order := make([]int, len(classes)) // strata by remainder, largest first
	left := n
	for i, c := range classes {
		quota[i] = n * len(byClass[c]) / N
		left -= quota[i]
		order[i] = i
	}
	rem := func(i int) int { return n * len(byClass[classes[i]]) % N }
	slices.SortStableFunc(order, func(a, b int) int { return rem(b) - rem(a) })
	for _, i := range order[:left] {
		quota[i]++
	}

	src := rand.NewPCG(seed, 0)
	chosen := make([]int, 0, n)
	for i, c := range classes {
		members := byClass[c]
		for _, j := range pick(src, len(members), quota[i]) {
			chosen = append(chosen, members[j])
		}
	}
	slices.Sort(chosen)
	out := make([]Question, len(chosen))
	for i, j := range chosen {
		out[i] = qs[j]
	}
	return out
}

// pick returns n of the indices 0…m-1 by a partial Fisher–Yates shuffle
// driven by src, sorted. n ≤ m.
func pick(src rand.Source, m, n int) []int {
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	for i := range n {
		j := i + int(below(src, uint64(m-i)))
		idx[i], idx[j] = idx[j], idx[i]
	}
	idx = idx[:n]
	slices.Sort(idx)
	return idx
}

// below returns a uniform integer in [0, m) from src by Lemire's method
// (“Fast random integer generation in an interval”, 2019). m > 0.
func below(src rand.Source, m uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), m)
	if lo < m {
		thresh := -m % m // 2⁶⁴ mod m
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), m)
		}
	}
	return hi
}
