package uncertainty

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

// stableNames are the names tools rely on; they must not change.
var stableNames = []string{
	"msp", "perplexity", "log-perplexity", "mte", "max-entropy", "self-consistency",
	"semantic-entropy", "semantic-entropy-weighted", "num-sem-sets", "degmat", "eccentricity",
	"eigval-laplacian", "lexical-similarity", "cocoa-msp", "cocoa-ppl", "cocoa-mte",
}

func TestNames(t *testing.T) {
	names := Names()
	if !slices.IsSorted(names) {
		t.Errorf("Names not sorted: %v", names)
	}
	for _, n := range stableNames {
		if !slices.Contains(names, n) {
			t.Errorf("Names lacks %q", n)
		}
		e, err := New(n, nil)
		if err != nil || e.Name() != n {
			t.Errorf("New(%q) = %v, %v", n, e, err)
		}
	}
	if _, err := New("no-such", nil); !errors.Is(err, ErrUnknown) {
		t.Errorf("New(unknown): %v, want ErrUnknown", err)
	}
	for _, n := range names {
		if !slices.Contains(stableNames, n) && !strings.HasPrefix(n, "test-") && !strings.HasPrefix(n, "example-") {
			t.Errorf("estimator %q is registered but not in stableNames (and so has no reference test)", n)
		}
	}
	all, err := NewAll(nil)
	if err != nil || len(all) != len(names) {
		t.Errorf("NewAll() = %d estimators, %v; want %d", len(all), err, len(names))
	}
	if _, err := NewAll(nil, "msp", "nope"); !errors.Is(err, ErrUnknown) {
		t.Errorf("NewAll with an unknown name: %v", err)
	}
	for _, c := range []*Config{{Part: 9}, {EccentricityThreshold: -1}, {EccentricityThreshold: math.NaN()}} {
		if _, err := New("msp", c); !errors.Is(err, ErrInvalid) {
			t.Errorf("New with %+v: %v, want ErrInvalid", *c, err)
		}
	}
}

// lengthEstimator is a user estimator: the number of tokens of r0.
type lengthEstimator struct{}

func (lengthEstimator) Name() string { return "test-length" }
func (lengthEstimator) Estimate(g *Group) (Score, error) {
	return Score{Value: float64(len(g.Greedy.LogProbs))}, nil
}

func TestRegister(t *testing.T) {
	Register("test-length", func(*Config) (Estimator, error) { return lengthEstimator{}, nil })
	e, err := New("test-length", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := e.Estimate(&Group{Greedy: Trace{LogProbs: []float64{-1, -2}}}); err != nil || s.Value != 2 {
		t.Errorf("user estimator: %v, %v", s, err)
	}
	for name, f := range map[string]Factory{"test-length": func(*Config) (Estimator, error) { return nil, nil }, "": nil} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", name)
				}
			}()
			Register(name, f)
		}()
	}
}

func TestCompareOrderRank(t *testing.T) {
	s := []Score{{0, 2}, {1, 0}, {0, 1}, {0, 2}, {0.5, 9}}
	if got, want := Order(nil, s), []int{2, 0, 3, 4, 1}; !slices.Equal(got, want) {
		t.Errorf("Order = %v, want %v", got, want)
	}
	// Ranks: {0,1} first; the two {0,2} share ranks 2 and 3; then 4, 5.
	if got, want := Rank(nil, s), []float64{2.5, 5, 1, 2.5, 4}; !slices.Equal(got, want) {
		t.Errorf("Rank = %v, want %v", got, want)
	}
	if Compare(Score{1, 0}, Score{1, 0}) != 0 || Compare(Score{1, 5}, Score{2, 0}) != -1 || Compare(Score{1, 5}, Score{1, 4}) != 1 {
		t.Error("Compare")
	}
}

// degenerateGroup builds groups for TestDegenerate.
func tr(answer string, ok bool, lp ...float64) Trace {
	h := make([]float64, len(lp))
	for i := range h {
		h[i] = 0.5
	}
	return Trace{LogProbs: lp, Entropies: h, Answer: answer, OK: ok, Tokens: make([]string, len(lp))}
}

// TestDegenerate documents, for every estimator, what each degenerate group
// gives: a sentinel error or a value (nil error).
func TestDegenerate(t *testing.T) {
	good := tr("up", true, -0.5, -0.5)
	groups := map[string]Group{
		"K=0":                 {Greedy: good},
		"K=1":                 {Greedy: good, Samples: []Trace{tr("up", true, -1)}},
		"all unparsed":        {Greedy: tr("", false, -1), Samples: []Trace{tr("", false, -1), tr("", false, -2)}},
		"empty greedy":        {Greedy: tr("up", true), Samples: []Trace{tr("up", true, -1)}},
		"-Inf in greedy":      {Greedy: tr("up", true, -1, math.Inf(-1)), Samples: []Trace{tr("up", true, -1)}},
		"NaN entropy":         {Greedy: Trace{LogProbs: []float64{-1}, Entropies: []float64{math.NaN()}, Answer: "up", OK: true}, Samples: []Trace{tr("up", true, -1)}},
		"no entropies":        {Greedy: Trace{LogProbs: []float64{-1}, Answer: "up", OK: true}, Samples: []Trace{tr("up", true, -1)}},
		"-Inf in a sample lp": {Greedy: good, Samples: []Trace{tr("up", true, math.Inf(-1)), tr("down", true, -1)}},
		// Unparsed samples whose Answer field still holds text.
		"unparsed with text": {Greedy: good, Samples: []Trace{tr("up", false, -1), tr("up", false, -1), tr("up", true, -1)}},
	}
	// want[group][estimator]: an error sentinel, or nil for a value.
	val := error(nil)
	want := map[string]map[string]error{
		"K=0": {"msp": val, "perplexity": val, "log-perplexity": val, "mte": val, "max-entropy": val,
			"self-consistency": ErrNoSamples, "semantic-entropy": ErrNoSamples, "semantic-entropy-weighted": ErrNoSamples,
			"num-sem-sets": ErrNoSamples, "degmat": ErrNoSamples, "eccentricity": ErrNoSamples, "eigval-laplacian": ErrNoSamples,
			"lexical-similarity": ErrNoSamples, "cocoa-msp": ErrNoSamples, "cocoa-ppl": ErrNoSamples, "cocoa-mte": ErrNoSamples},
		"K=1": {"self-consistency": val, "semantic-entropy": val, "num-sem-sets": val, "degmat": val, "eccentricity": val,
			"eigval-laplacian": val, "lexical-similarity": ErrNoSamples, "cocoa-ppl": val},
		"all unparsed": {"msp": val, "self-consistency": ErrNoAnswer, "semantic-entropy": ErrNoAnswer,
			"semantic-entropy-weighted": ErrNoAnswer, "num-sem-sets": ErrNoAnswer, "degmat": val,
			"eigval-laplacian": val, "eccentricity": val, "cocoa-ppl": val},
		"empty greedy": {"msp": ErrEmpty, "perplexity": ErrEmpty, "mte": ErrEmpty, "cocoa-ppl": ErrEmpty, "self-consistency": val},
		"-Inf in greedy": {"msp": ErrNonFinite, "log-perplexity": ErrNonFinite, "perplexity": ErrNonFinite,
			"cocoa-msp": ErrNonFinite, "cocoa-ppl": ErrNonFinite, "cocoa-mte": ErrNonFinite, "self-consistency": val},
		"NaN entropy":         {"mte": ErrNonFinite, "max-entropy": ErrNonFinite, "cocoa-mte": ErrNonFinite, "cocoa-ppl": ErrNonFinite},
		"no entropies":        {"mte": ErrMissing, "max-entropy": ErrMissing, "cocoa-mte": ErrMissing, "msp": val, "cocoa-ppl": val},
		"-Inf in a sample lp": {"semantic-entropy-weighted": ErrNonFinite, "semantic-entropy": val, "cocoa-ppl": val},
	}
	for gname, byEst := range want {
		g := groups[gname]
		for ename, werr := range byEst {
			e, err := New(ename, nil)
			if err != nil {
				t.Fatal(err)
			}
			s, err := e.Estimate(&g)
			if werr == nil && (err != nil || math.IsNaN(s.Value)) || werr != nil && !errors.Is(err, werr) {
				t.Errorf("%s on %q = %+v, %v; want error %v", ename, gname, s, err, werr)
			}
		}
	}
	// The documented values of the degenerate cases that have one.
	for _, c := range []struct {
		group, est string
		want       float64
	}{
		{"K=1", "semantic-entropy", 0},
		{"K=1", "eigval-laplacian", 1},
		{"K=1", "degmat", 0},
		{"all unparsed", "degmat", 0.5},            // W = I, m = 2: 1 - 2/4
		{"all unparsed", "eigval-laplacian", 2},    // m singleton classes
		{"all unparsed", "cocoa-ppl", 1},           // r0 agrees with nothing: U = u(r0) = 1
		{"empty greedy", "self-consistency", 0},    // answers need no tokens
		{"-Inf in a sample lp", "cocoa-ppl", 0.25}, // u = 0.5, one of two samples differs
		{"-Inf in a sample lp", "semantic-entropy", math.Ln2},
		{"unparsed with text", "self-consistency", 2.0 / 3},     // only the parsed sample agrees
		{"unparsed with text", "num-sem-sets", 3},               // two singletons and "up"
		{"unparsed with text", "cocoa-ppl", 0.5 * 2 / 3},        // u = 0.5
		{"unparsed with text", "semantic-entropy", math.Log(3)}, // three classes of one
	} {
		e, _ := New(c.est, nil)
		g := groups[c.group]
		if s, err := e.Estimate(&g); err != nil || math.Abs(s.Value-c.want) > 1e-15 {
			t.Errorf("%s on %q = %+v, %v; want %v", c.est, c.group, s, err, c.want)
		}
	}
}

// TestPartNeedsTokens: Reasoning and Answer parts need token texts unless a
// Summary is given; a precomputed Summary is used as is.
func TestPartNeedsTokens(t *testing.T) {
	e, _ := New("msp", &Config{Part: Reasoning})
	g := &Group{Greedy: Trace{LogProbs: []float64{-1, -2}}}
	if _, err := e.Estimate(g); !errors.Is(err, ErrMissing) {
		t.Errorf("no tokens: %v, want ErrMissing", err)
	}
	g.Greedy.Summary = Summary{N: 3, SumLogProb: -4.5}
	if s, err := e.Estimate(g); err != nil || s.Value != 4.5 {
		t.Errorf("with Summary: %+v, %v; want 4.5", s, err)
	}
	g = &Group{Greedy: Trace{LogProbs: []float64{-1, -2, -3}, Entropies: []float64{1, 2}, Tokens: []string{"a", "</think>", "b"}}}
	mte, _ := New("mte", &Config{Part: Answer})
	if _, err := mte.Estimate(g); !errors.Is(err, ErrInvalid) {
		t.Errorf("entropies of another length: %v, want ErrInvalid", err)
	}
}
