package uncertainty

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
)

// Run with: go test -run '^$' -bench . -count 3 ./uncertainty

const (
	benchGroups = 1_000_000
	benchK      = 8
)

// summaryBatch is 1,000,000 groups of K = 8 traces, each trace with a
// precomputed Summary (as a scoring stage keeps after reading a trace file
// once) and an answer class, 10% unparsed. Every group is distinct: the
// ~1.8 GB do not fit in any cache. Built once per process.
var summaryBatch = sync.OnceValue(func() []Group {
	r := rand.New(rand.NewPCG(1, 1))
	groups := make([]Group, benchGroups)
	samples := make([]Trace, benchGroups*benchK)
	for i := range groups {
		g := &groups[i]
		g.Samples = samples[i*benchK : (i+1)*benchK : (i+1)*benchK]
		fillSummary(r, &g.Greedy)
		for j := range g.Samples {
			fillSummary(r, &g.Samples[j])
		}
	}
	return groups
})

// BenchmarkScore1M scores 1,000,000 groups of K = 8 with self-consistency,
// CoCoA_PPL (answer-match similarity) and MTE through Batch; one op is the
// whole million. Target: at most 2 s with 2 workers on 2 cores.
func BenchmarkScore1M(b *testing.B) {
	groups := summaryBatch()
	es, err := NewAll(nil, "self-consistency", "cocoa-ppl", "mte")
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]Score, len(groups)*len(es))
	errs := make([]error, len(dst))
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Batch(b.Context(), dst, errs, groups, es, workers); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchGroups, "ns/group")
		})
	}
}

// BenchmarkStream streams groups of K = 8 with summaries through the same
// three estimators, one reused Group at a time; B/op and allocs/op stay the
// same whatever the number of groups.
func BenchmarkStream(b *testing.B) {
	es, err := NewAll(nil, "self-consistency", "cocoa-ppl", "mte")
	if err != nil {
		b.Fatal(err)
	}
	var sink float64
	fn := func(_ *Group, s []Score, _ []error) error { sink += s[1].Value; return nil }
	for _, n := range []int{1_000, 100_000} {
		b.Run("groups="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			seq := summaryGroups(n, 3)
			for b.Loop() {
				if err := Stream(seq, es, fn); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/group")
		})
	}
	_ = sink
}

// benchTraces returns two 1,000-token traces that share most of their
// text: tokens drawn from a Zipf law over a 5,000-token vocabulary, the
// second a copy of the first with 30% of the positions substituted,
// deleted or followed by an insertion.
func benchTraces() (a, b []int32) {
	r := rand.New(rand.NewPCG(7, 7))
	z := rand.NewZipf(r, 1.1, 2, 4999)
	a = make([]int32, 1000)
	for i := range a {
		a[i] = int32(z.Uint64())
	}
	for _, t := range a {
		switch x := r.Float64(); {
		case x < 0.1: // substitute
			b = append(b, int32(z.Uint64()))
		case x < 0.2: // delete
		case x < 0.3: // insert after
			b = append(b, t, int32(z.Uint64()))
		default:
			b = append(b, t)
		}
	}
	for len(b) < 1000 {
		b = append(b, int32(z.Uint64()))
	}
	return a, b[:1000]
}

func texts(ids []int32) []string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = "tok" + strconv.Itoa(int(id))
	}
	return s
}

// BenchmarkRougeL1000 is ROUGE-L between two 1,000-token traces, by token
// id and by token text (target: at most 2 ms), with the textbook two-row
// dynamic programme of the tests alongside for comparison.
func BenchmarkRougeL1000(b *testing.B) {
	x, y := benchTraces()
	sx, sy := texts(x), texts(y)
	b.Run("ids", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			RougeL(x, y)
		}
	})
	b.Run("texts", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			RougeL(sx, sy)
		}
	})
	b.Run("dp-ids", func(b *testing.B) {
		for b.Loop() {
			lcsDP(x, y)
		}
	})
	if LCS(x, y) != lcsDP(x, y) {
		b.Fatal("bit-parallel and dynamic-programme LCS differ")
	}
}

// BenchmarkEstimators runs each registered estimator on one group of K = 8
// traces of 1,000 tokens (log-probabilities, entropies and token texts,
// no precomputed summaries): the cost of each per group. The similarity
// estimators use answer match except lexical-similarity (ROUGE-L).
func BenchmarkEstimators(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 9))
	x, _ := benchTraces()
	mk := func() Trace {
		t := Trace{LogProbs: make([]float64, 1000), Entropies: make([]float64, 1000), Tokens: texts(x)}
		for i := range t.LogProbs {
			t.LogProbs[i], t.Entropies[i] = -r.ExpFloat64(), 3*r.Float64()
		}
		for i := range 100 { // differ from the other traces in 10% of the tokens
			t.Tokens[r.IntN(1000)] = "x" + strconv.Itoa(i)
		}
		t.Answer, t.OK = answers[r.IntN(len(answers))], true
		return t
	}
	g := &Group{Greedy: mk()}
	for range benchK {
		g.Samples = append(g.Samples, mk())
	}
	for _, name := range stableNames {
		e, err := New(name, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Estimate(g); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
