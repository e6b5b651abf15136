package uncertainty_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log"
	"math"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/labelfree/labelfree/uncertainty"
)

func ExamplePerplexity() {
	// Three tokens with probabilities 1/2, 1/4 and 1/8.
	lp := []float64{math.Log(0.5), math.Log(0.25), math.Log(0.125)}
	msp, _ := uncertainty.MSP(lp)
	lppl, _ := uncertainty.LogPerplexity(lp)
	ppl, err := uncertainty.Perplexity(lp)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("MSP %.4f = 6 ln 2\n", msp)
	fmt.Printf("log-perplexity %.4f = 2 ln 2 (LM-Polygraph's \"Perplexity\")\n", lppl)
	fmt.Printf("perplexity %.4f\n", ppl)

	_, err = uncertainty.MSP([]float64{-0.1, math.Inf(-1)})
	fmt.Println(errors.Is(err, uncertainty.ErrNonFinite), err)
	// Output:
	// MSP 4.1589 = 6 ln 2
	// log-perplexity 1.3863 = 2 ln 2 (LM-Polygraph's "Perplexity")
	// perplexity 4.0000
	// true uncertainty: log-probability 1 is -Inf
}

func ExampleSplitReasoning() {
	tokens := []string{"<think>", "STAT1", " binds", "</think>", "\n", "up", "<|im_end|>"}
	lp := []float64{-0.01, -1.2, -0.8, -0.05, -0.02, -0.7, -0.03}
	reasoning, answer, closed := uncertainty.SplitReasoning(tokens, "", "")
	fmt.Println(reasoning, answer, closed)
	r, _ := uncertainty.LogPerplexity(lp[reasoning.Start:reasoning.End])
	a, _ := uncertainty.LogPerplexity(lp[answer.Start:answer.End])
	fmt.Printf("log-perplexity: reasoning %.2f, answer %.2f\n", r, a)
	// Output:
	// {1 3} {4 7} true
	// log-perplexity: reasoning 1.00, answer 0.25
}

func ExampleSelfConsistency() {
	// Classes: 0 = up, 1 = down; NoAnswer for an unparsable sample.
	v, err := uncertainty.SelfConsistency(0, []int{0, 1, 1, 1, uncertainty.NoAnswer})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("agreement %.1f, uncertainty %.1f, majority %d with share %.1f\n", v.Agreement, 1-v.Agreement, v.Majority, v.Share)
	// Output: agreement 0.2, uncertainty 0.8, majority 1 with share 0.6
}

func ExampleCoCoA() {
	// CoCoA_PPL: r0's log-perplexity times its mean dissimilarity to the samples.
	u, _ := uncertainty.LogPerplexity([]float64{-0.2, -0.4})
	agree, _ := uncertainty.CoCoA(u, []float64{1, 1, 1, 1})
	half, _ := uncertainty.CoCoA(u, []float64{1, 0, 1, 0})
	fmt.Printf("all agree %.2f, half agree %.2f (u = %.2f breaks ties)\n", agree, half, u)
	// Output: all agree 0.00, half agree 0.15 (u = 0.30 breaks ties)
}

func ExampleNew() {
	trace := func(answer string, lp ...float64) uncertainty.Trace {
		return uncertainty.Trace{LogProbs: lp, Answer: answer, OK: answer != ""}
	}
	g := &uncertainty.Group{
		Greedy:  trace("up", -0.1, -0.5, -0.3),
		Samples: []uncertainty.Trace{trace("up", -0.2), trace("down", -1), trace("up", -0.3), trace("", -2)},
	}
	for _, name := range []string{"msp", "log-perplexity", "self-consistency", "semantic-entropy", "cocoa-ppl"} {
		e, err := uncertainty.New(name, nil)
		if err != nil {
			log.Fatal(err)
		}
		s, err := e.Estimate(g)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-17s %.4f (tie-break %.4f)\n", e.Name(), s.Value, s.Tiebreak)
	}
	// Output:
	// msp               0.9000 (tie-break 0.0000)
	// log-perplexity    0.3000 (tie-break 0.0000)
	// self-consistency  0.5000 (tie-break 0.0000)
	// semantic-entropy  1.0397 (tie-break 0.0000)
	// cocoa-ppl         0.1500 (tie-break 0.3000)
}

func ExampleStream() {
	// A sequence that reuses one Group: memory holds one group at a time.
	groups := func(yield func(*uncertainty.Group, error) bool) {
		g := &uncertainty.Group{Samples: make([]uncertainty.Trace, 2)}
		for i, ans := range [][3]string{{"up", "up", "up"}, {"up", "down", "up"}, {"none", "up", "down"}} {
			g.ID = fmt.Sprint("q", i)
			g.Greedy = uncertainty.Trace{Summary: uncertainty.Summary{N: 10, SumLogProb: -float64(i + 1)}, Answer: ans[0], OK: true}
			for j := range g.Samples {
				g.Samples[j] = uncertainty.Trace{Answer: ans[j+1], OK: true}
			}
			if !yield(g, nil) {
				return
			}
		}
	}
	es, err := uncertainty.NewAll(nil, "self-consistency", "cocoa-ppl")
	if err != nil {
		log.Fatal(err)
	}
	err = uncertainty.Stream(iter.Seq2[*uncertainty.Group, error](groups), es,
		func(g *uncertainty.Group, s []uncertainty.Score, errs []error) error {
			fmt.Printf("%s: self-consistency %.2f, cocoa-ppl %.2f\n", g.ID, s[0].Value, s[1].Value)
			return errors.Join(errs...)
		})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// q0: self-consistency 0.00, cocoa-ppl 0.00
	// q1: self-consistency 0.50, cocoa-ppl 0.10
	// q2: self-consistency 1.00, cocoa-ppl 0.30
}

func ExampleBatch() {
	// Per-trace summaries, as kept after reading each trace once.
	trace := func(answer string, sumLP float64) uncertainty.Trace {
		return uncertainty.Trace{Summary: uncertainty.Summary{N: 4, SumLogProb: sumLP}, Answer: answer, OK: true}
	}
	groups := []uncertainty.Group{
		{ID: "a", Greedy: trace("up", -2), Samples: []uncertainty.Trace{trace("up", -1), trace("up", -3)}},
		{ID: "b", Greedy: trace("up", -1), Samples: []uncertainty.Trace{trace("up", -1), trace("up", -1)}},
		{ID: "c", Greedy: trace("down", -1), Samples: []uncertainty.Trace{trace("up", -1), trace("down", -1)}},
	}
	es, err := uncertainty.NewAll(nil, "cocoa-ppl")
	if err != nil {
		log.Fatal(err)
	}
	scores := make([]uncertainty.Score, len(groups)*len(es))
	if err := uncertainty.Batch(context.Background(), scores, nil, groups, es, 2); err != nil {
		log.Fatal(err)
	}
	// a and b tie at 0; b's greedy trace is more likely, so it ranks first.
	for _, i := range uncertainty.Order(nil, scores) {
		fmt.Printf("%s %.3f (u(r0) %.2f)\n", groups[i].ID, scores[i].Value, scores[i].Tiebreak)
	}
	// Output:
	// b 0.000 (u(r0) 0.25)
	// a 0.000 (u(r0) 0.50)
	// c 0.125 (u(r0) 0.25)
}

func ExampleEigValLaplacian() {
	// Answer-match similarities of four answers: up, up, down, up.
	w := mat.NewSymDense(4, []float64{
		1, 1, 0, 1,
		1, 1, 0, 1,
		0, 0, 1, 0,
		1, 1, 0, 1,
	})
	ev, _ := uncertainty.EigValLaplacian(w)
	ecc, _ := uncertainty.Eccentricity(w, 0.9)
	deg, _ := uncertainty.DegMat(w)
	fmt.Printf("EigValLaplacian %.3f, Eccentricity %.3f, DegMat %.3f\n", ev, ecc, deg)
	// Output: EigValLaplacian 2.000, Eccentricity 1.000, DegMat 0.375
}

func ExampleRougeL() {
	// LCS "the cat on mat"; F = 2·4/(6+6). Word sets share 4 of 7 words.
	a := strings.Fields("the cat sat on the mat")
	b := strings.Fields("the cat lay on a mat")
	fmt.Printf("LCS %d, ROUGE-L %.3f, Jaccard %.3f\n", uncertainty.LCS(a, b), uncertainty.RougeL(a, b), uncertainty.Jaccard(a, b))
	// Output: LCS 4, ROUGE-L 0.667, Jaccard 0.571
}

func ExampleNormalizedPRR() {
	uncertainties := []float64{0.1, 0.9, 0.3, 0.7, 0.5, 0.2}
	correct := []float64{1, 0, 1, 0, 1, 0}
	prr, _ := uncertainty.PRR(uncertainties, correct)
	norm, _ := uncertainty.NormalizedPRR(uncertainties, correct)
	wrong := []bool{false, true, false, true, false, true}
	auc, _ := uncertainty.ROCAUC(uncertainties, wrong)
	fmt.Printf("PRR %.4f, normalised %.4f, ROC-AUC %.4f\n", prr, norm, auc)
	// Output: PRR 0.6694, normalised 0.5495, ROC-AUC 0.7778
}

func ExampleRetention() {
	u := []float64{0.1, 0.4, 0.2, 0.9}
	pred := []string{"up", "down", "up", "none"}
	gold := []string{"up", "up", "up", "down"}
	// All four: "up" has F1 2·2/(2·2+0+1) = 0.8, "down" and "none" 0.
	rs, err := uncertainty.Retention(u, pred, gold, []float64{0.5, 1})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rs {
		fmt.Printf("keep %.0f%%: %d items, accuracy %.2f, macro-F1 %.2f\n", 100*r.Fraction, r.N, r.Accuracy, r.MacroF1)
	}
	// Output:
	// keep 50%: 2 items, accuracy 1.00, macro-F1 1.00
	// keep 100%: 4 items, accuracy 0.50, macro-F1 0.27
}

// answerLength is a user estimator: the number of tokens of r0's trace.
type answerLength struct{}

func (answerLength) Name() string { return "example-length" }
func (answerLength) Estimate(g *uncertainty.Group) (uncertainty.Score, error) {
	return uncertainty.Score{Value: float64(len(g.Greedy.LogProbs))}, nil
}

func ExampleRegister() {
	uncertainty.Register("example-length", func(*uncertainty.Config) (uncertainty.Estimator, error) {
		return answerLength{}, nil
	})
	e, err := uncertainty.New("example-length", nil)
	if err != nil {
		log.Fatal(err)
	}
	s, _ := e.Estimate(&uncertainty.Group{Greedy: uncertainty.Trace{LogProbs: []float64{-1, -1, -1}}})
	fmt.Println(e.Name(), s.Value)
	// Output: example-length 3
}
