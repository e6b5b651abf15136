package uncertainty

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// The expected values of the tests in this file come from
// testdata/reference.py (Python 3 standard library, no numpy), which
// computes them independently of this package: from the definitions, with a
// Jacobi eigen-solver of its own, and, where it says so, by transcribing
// LM-Polygraph's estimator and metric code. Its output is
// testdata/reference.json; regenerate with
//
//	python3 testdata/reference.py > testdata/reference.json

// tol is the tolerance of comparisons with the reference: both sides
// compute in float64, in different orders.
const tol = 1e-12

func close(got, want float64) bool {
	return math.Abs(got-want) <= tol*max(1, math.Abs(want))
}

type refTrace struct {
	Tokens    []string  `json:"tokens"`
	LogProbs  []float64 `json:"log_probs"`
	Entropies []float64 `json:"entropies"`
	Answer    string    `json:"answer"`
	OK        bool      `json:"ok"`
}

func (t refTrace) trace() Trace {
	return Trace{Tokens: t.Tokens, LogProbs: t.LogProbs, Entropies: t.Entropies, Answer: t.Answer, OK: t.OK}
}

type reference struct {
	Info []struct {
		Name          string    `json:"name"`
		LogProbs      []float64 `json:"log_probs"`
		Entropies     []float64 `json:"entropies"`
		MSP           float64   `json:"msp"`
		LogPerplexity float64   `json:"log_perplexity"`
		Perplexity    float64   `json:"perplexity"`
		MTE           float64   `json:"mte"`
		MaxEntropy    float64   `json:"max_entropy"`
	} `json:"info"`
	Lexical []struct {
		Name    string   `json:"name"`
		A       []string `json:"a"`
		B       []string `json:"b"`
		LCS     int      `json:"lcs"`
		RougeL  float64  `json:"rouge_l"`
		Jaccard float64  `json:"jaccard"`
	} `json:"lexical"`
	Graph []struct {
		Name              string      `json:"name"`
		W                 [][]float64 `json:"w"`
		DegMat            float64     `json:"degmat"`
		EigValLaplacian   float64     `json:"eigval_laplacian"`
		Eccentricity      float64     `json:"eccentricity"`
		LexicalSimilarity *float64    `json:"lexical_similarity"`
	} `json:"graph"`
	Consistency []struct {
		Name      string  `json:"name"`
		R0        int     `json:"r0"`
		Samples   []int   `json:"samples"`
		Agreement float64 `json:"agreement"`
		Majority  int     `json:"majority"`
		Share     float64 `json:"share"`
	} `json:"consistency"`
	Semantic []struct {
		Name       string    `json:"name"`
		Classes    []int     `json:"classes"`
		LogWeights []float64 `json:"log_weights"`
		Frequency  float64   `json:"frequency"`
		Weighted   float64   `json:"weighted"`
		MC         float64   `json:"mc"`
		NumSemSets int       `json:"num_sem_sets"`
	} `json:"semantic"`
	CoCoA []struct {
		Name      string    `json:"name"`
		LogProbs  []float64 `json:"log_probs"`
		Entropies []float64 `json:"entropies"`
		Sims      []float64 `json:"sims"`
		MSP       float64   `json:"msp"`
		PPL       float64   `json:"ppl"`
		MTE       float64   `json:"mte"`
	} `json:"cocoa"`
	Metrics []struct {
		Name          string    `json:"name"`
		U             []float64 `json:"u"`
		Q             []float64 `json:"q"`
		PRR           float64   `json:"prr"`
		Random        float64   `json:"random"`
		Oracle        float64   `json:"oracle"`
		NormalizedPRR float64   `json:"normalized_prr"`
		RCAUC         float64   `json:"rc_auc"`
		ROCAUCWrong   float64   `json:"roc_auc_wrong"`
	} `json:"metrics"`
	Retention []struct {
		Name      string    `json:"name"`
		U         []float64 `json:"u"`
		Pred      []string  `json:"pred"`
		Gold      []string  `json:"gold"`
		Fractions []float64 `json:"fractions"`
		Retained  []struct {
			Fraction  float64 `json:"fraction"`
			N         int     `json:"n"`
			Threshold float64 `json:"threshold"`
			Accuracy  float64 `json:"accuracy"`
			MacroF1   float64 `json:"macro_f1"`
		} `json:"retained"`
	} `json:"retention"`
	Split []struct {
		Name      string   `json:"name"`
		Tokens    []string `json:"tokens"`
		Reasoning [2]int   `json:"reasoning"`
		Answer    [2]int   `json:"answer"`
		Closed    bool     `json:"closed"`
	} `json:"split"`
	Estimators struct {
		Groups []struct {
			Name    string     `json:"name"`
			Greedy  refTrace   `json:"greedy"`
			Samples []refTrace `json:"samples"`
		} `json:"groups"`
		Cases []struct {
			Group  string `json:"group"`
			Config struct {
				Name       string `json:"name"`
				Part       string `json:"part"`
				WithGreedy bool   `json:"with_greedy"`
				Similarity string `json:"similarity"`
			} `json:"config"`
			Want map[string]json.RawMessage `json:"want"`
		} `json:"cases"`
	} `json:"estimators"`
}

func loadReference(t *testing.T) *reference {
	t.Helper()
	b, err := os.ReadFile("testdata/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var r reference
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func TestReferenceInfo(t *testing.T) {
	for _, c := range loadReference(t).Info {
		t.Run(c.Name, func(t *testing.T) {
			for _, f := range []struct {
				name string
				fn   func([]float64) (float64, error)
				in   []float64
				want float64
			}{
				{"MSP", MSP, c.LogProbs, c.MSP},
				{"LogPerplexity", LogPerplexity, c.LogProbs, c.LogPerplexity},
				{"Perplexity", Perplexity, c.LogProbs, c.Perplexity},
				{"MeanTokenEntropy", MeanTokenEntropy, c.Entropies, c.MTE},
				{"MaxTokenEntropy", MaxTokenEntropy, c.Entropies, c.MaxEntropy},
			} {
				got, err := f.fn(f.in)
				if err != nil || !close(got, f.want) {
					t.Errorf("%s = %v, %v; want %v", f.name, got, err, f.want)
				}
			}
		})
	}
}

func TestReferenceLexical(t *testing.T) {
	for _, c := range loadReference(t).Lexical {
		t.Run(c.Name, func(t *testing.T) {
			if got := LCS(c.A, c.B); got != c.LCS {
				t.Errorf("LCS = %d, want %d", got, c.LCS)
			}
			if got := RougeL(c.A, c.B); !close(got, c.RougeL) {
				t.Errorf("RougeL = %v, want %v", got, c.RougeL)
			}
			if got := Jaccard(c.A, c.B); !close(got, c.Jaccard) {
				t.Errorf("Jaccard = %v, want %v", got, c.Jaccard)
			}
		})
	}
}

func symOf(w [][]float64) *mat.SymDense {
	m := mat.NewSymDense(len(w), nil)
	for i := range w {
		for j := i; j < len(w); j++ {
			m.SetSym(i, j, w[i][j])
		}
	}
	return m
}

func TestReferenceGraph(t *testing.T) {
	for _, c := range loadReference(t).Graph {
		t.Run(c.Name, func(t *testing.T) {
			w := symOf(c.W)
			if got, err := DegMat(w); err != nil || !close(got, c.DegMat) {
				t.Errorf("DegMat = %v, %v; want %v", got, err, c.DegMat)
			}
			if got, err := EigValLaplacian(w); err != nil || !close(got, c.EigValLaplacian) {
				t.Errorf("EigValLaplacian = %v, %v; want %v", got, err, c.EigValLaplacian)
			}
			if got, err := Eccentricity(w, 0.9); err != nil || !close(got, c.Eccentricity) {
				t.Errorf("Eccentricity = %v, %v; want %v", got, err, c.Eccentricity)
			}
			got, err := LexicalSimilarity(w)
			switch {
			case c.LexicalSimilarity == nil && !errors.Is(err, ErrNoSamples):
				t.Errorf("LexicalSimilarity = %v, %v; want ErrNoSamples", got, err)
			case c.LexicalSimilarity != nil && (err != nil || !close(got, *c.LexicalSimilarity)):
				t.Errorf("LexicalSimilarity = %v, %v; want %v", got, err, *c.LexicalSimilarity)
			}
		})
	}
}

func TestReferenceConsistency(t *testing.T) {
	for _, c := range loadReference(t).Consistency {
		t.Run(c.Name, func(t *testing.T) {
			got, err := SelfConsistency(c.R0, c.Samples)
			want := Vote{Agreement: c.Agreement, Majority: c.Majority, Share: c.Share}
			if err != nil || !close(got.Agreement, want.Agreement) || got.Majority != want.Majority || !close(got.Share, want.Share) {
				t.Errorf("SelfConsistency(%d, %v) = %+v, %v; want %+v", c.R0, c.Samples, got, err, want)
			}
		})
	}
}

func TestReferenceSemantic(t *testing.T) {
	for _, c := range loadReference(t).Semantic {
		t.Run(c.Name, func(t *testing.T) {
			if got, err := SemanticEntropy(c.Classes, nil); err != nil || !close(got, c.Frequency) {
				t.Errorf("SemanticEntropy(frequency) = %v, %v; want %v", got, err, c.Frequency)
			}
			if got, err := SemanticEntropy(c.Classes, c.LogWeights); err != nil || !close(got, c.Weighted) {
				t.Errorf("SemanticEntropy(weighted) = %v, %v; want %v", got, err, c.Weighted)
			}
			if got, err := SemanticEntropyMC(c.Classes, c.LogWeights); err != nil || !close(got, c.MC) {
				t.Errorf("SemanticEntropyMC = %v, %v; want %v", got, err, c.MC)
			}
			if got := NumSemSets(c.Classes); got != c.NumSemSets {
				t.Errorf("NumSemSets = %d, want %d", got, c.NumSemSets)
			}
		})
	}
}

func TestReferenceCoCoA(t *testing.T) {
	for _, c := range loadReference(t).CoCoA {
		t.Run(c.Name, func(t *testing.T) {
			s, err := Summarize(c.LogProbs, c.Entropies)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				name string
				u    func() (float64, error)
				want float64
			}{
				{"CoCoA_MSP", s.MSP, c.MSP},
				{"CoCoA_PPL", s.LogPerplexity, c.PPL},
				{"CoCoA_MTE", s.MeanTokenEntropy, c.MTE},
			} {
				u, err := f.u()
				if err != nil {
					t.Fatal(err)
				}
				if got, err := CoCoA(u, c.Sims); err != nil || !close(got, f.want) {
					t.Errorf("%s = %v, %v; want %v", f.name, got, err, f.want)
				}
			}
		})
	}
}

func TestReferenceMetrics(t *testing.T) {
	for _, c := range loadReference(t).Metrics {
		t.Run(c.Name, func(t *testing.T) {
			if got, err := PRR(c.U, c.Q); err != nil || !close(got, c.PRR) {
				t.Errorf("PRR = %v, %v; want %v", got, err, c.PRR)
			}
			// The reference's random baseline averages up to 720 orders.
			if random, oracle, err := PRRBaselines(c.Q); err != nil || math.Abs(random-c.Random) > 1e-11 || !close(oracle, c.Oracle) {
				t.Errorf("PRRBaselines = %v, %v, %v; want %v, %v", random, oracle, err, c.Random, c.Oracle)
			}
			if got, err := NormalizedPRR(c.U, c.Q); err != nil || math.Abs(got-c.NormalizedPRR) > 1e-11 {
				t.Errorf("NormalizedPRR = %v, %v; want %v", got, err, c.NormalizedPRR)
			}
			if got, err := RiskCoverageAUC(c.U, c.Q); err != nil || !close(got, c.RCAUC) {
				t.Errorf("RiskCoverageAUC = %v, %v; want %v", got, err, c.RCAUC)
			}
			wrong := make([]bool, len(c.Q))
			for i, q := range c.Q {
				wrong[i] = q < 0.5
			}
			if got, err := ROCAUC(c.U, wrong); err != nil || !close(got, c.ROCAUCWrong) {
				t.Errorf("ROCAUC = %v, %v; want %v", got, err, c.ROCAUCWrong)
			}
		})
	}
}

func TestReferenceRetention(t *testing.T) {
	for _, c := range loadReference(t).Retention {
		t.Run(c.Name, func(t *testing.T) {
			got, err := Retention(c.U, c.Pred, c.Gold, c.Fractions)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range c.Retained {
				g := got[i]
				if g.Fraction != w.Fraction || g.N != w.N || g.Threshold != w.Threshold ||
					!close(g.Accuracy, w.Accuracy) || !close(g.MacroF1, w.MacroF1) {
					t.Errorf("fraction %v: got %+v, want %+v", w.Fraction, g, w)
				}
			}
		})
	}
}

func TestReferenceSplit(t *testing.T) {
	for _, c := range loadReference(t).Split {
		t.Run(c.Name, func(t *testing.T) {
			r, a, closed := SplitReasoning(c.Tokens, "", "")
			wantR, wantA := Span{c.Reasoning[0], c.Reasoning[1]}, Span{c.Answer[0], c.Answer[1]}
			if r != wantR || a != wantA || closed != c.Closed {
				t.Errorf("SplitReasoning(%q) = %v, %v, %v; want %v, %v, %v", c.Tokens, r, a, closed, wantR, wantA, c.Closed)
			}
		})
	}
}

// TestReferenceEstimators runs every registered estimator of the reference
// over whole groups under three configurations, against values the script
// computes from the groups' raw tokens, log-probabilities and answers.
func TestReferenceEstimators(t *testing.T) {
	ref := loadReference(t).Estimators
	groups := map[string]Group{}
	for _, g := range ref.Groups {
		gr := Group{ID: g.Name, Greedy: g.Greedy.trace()}
		for _, s := range g.Samples {
			gr.Samples = append(gr.Samples, s.trace())
		}
		groups[g.Name] = gr
	}
	parts := map[string]Part{"whole": Whole, "reasoning": Reasoning, "answer": Answer}
	sims := map[string]Similarity{"answer": AnswerMatch{}, "rouge": TokenRougeL{}, "jaccard": TokenJaccard{}}
	sentinels := map[string]error{"ErrEmpty": ErrEmpty, "ErrNoAnswer": ErrNoAnswer, "ErrNoSamples": ErrNoSamples}
	seen := map[string]bool{}
	for _, c := range ref.Cases {
		g := groups[c.Group]
		cfg := &Config{Part: parts[c.Config.Part], WithGreedy: c.Config.WithGreedy, Similarity: sims[c.Config.Similarity]}
		t.Run(c.Group+"/"+c.Config.Name, func(t *testing.T) {
			for name, raw := range c.Want {
				seen[name] = true
				e, err := New(name, cfg)
				if err != nil {
					t.Fatal(err)
				}
				got, err := e.Estimate(&g)
				var sentinel string
				var want struct{ Value, Tiebreak float64 }
				if json.Unmarshal(raw, &sentinel) == nil {
					if !errors.Is(err, sentinels[sentinel]) {
						t.Errorf("%s = %+v, %v; want %s", name, got, err, sentinel)
					}
					continue
				}
				if json.Unmarshal(raw, &want) != nil {
					if err := json.Unmarshal(raw, &want.Value); err != nil {
						t.Fatal(err)
					}
				}
				if err != nil || !close(got.Value, want.Value) || !close(got.Tiebreak, want.Tiebreak) {
					t.Errorf("%s = %+v, %v; want %+v", name, got, err, want)
				}
			}
		})
	}
	for _, n := range stableNames {
		if !seen[n] {
			t.Errorf("estimator %q has no reference case", n)
		}
	}
}
