package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/labelfree/labelfree/eval"
	"github.com/labelfree/labelfree/eval/report"
	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/perturb"
	"github.com/labelfree/labelfree/score"
	"github.com/labelfree/labelfree/uncertainty"
)

// params are the knobs of the simulated teacher.
type params struct {
	// Perts × Genes questions, ids "sim/P{pert}/G{gene}".
	Perts, Genes int
	// Samples is K, the sampled answers beside the greedy one.
	Samples int
	// Seed seeds everything random.
	Seed uint64
	// Prior is the share of each gold class, by class.
	Prior map[string]float64
	// Scale multiplies the teacher's per-token surprise when its greedy
	// answer is that class: the per-class confidence scale.
	Scale map[string]float64
}

// defaultParams is the simulation the README describes.
func defaultParams() params {
	return params{
		Perts: 60, Genes: 50, Samples: 8, Seed: 2510,
		Prior: map[string]float64{perturb.Up: 0.07, perturb.Down: 0.07, perturb.None: 0.86},
		Scale: map[string]float64{perturb.Up: 1.5, perturb.Down: 2.2, perturb.None: 1.0},
	}
}

// estimators are the two simulated uncertainties: msp, whose scale
// depends on the class, and self-consistency, which does not.
var estimators = []string{"msp", "self-consistency"}

// simulate draws the questions, the teacher's answers and its
// uncertainties. For each question:
//
//   - the gold class g is drawn from Prior;
//   - the teacher's answer distribution π puts 0.25 + 0.7·e on g, with e,
//     how well it knows the question, uniform on [0, 1], and splits the
//     rest over the other classes: 60% of it on "none" when g is not none
//     (a teacher that leans to the majority class), a uniform share in
//     [0.3, 0.7] of it on "up" and the remainder on "down" when g is none;
//   - the greedy answer r0 is the mode of π and the K samples are drawn
//     from π;
//   - msp = L · s · (0.05 + 0.25·(1 − π(r0))) · LogNormal(0, 0.25): a trace of
//     L ~ U{150…350} tokens whose mean surprise grows as the teacher is
//     less sure, times the scale s = Scale[r0] of r0's class: the teacher
//     is more uncertain on "down" than on "none" even when it is right;
//   - self-consistency = share of the K samples that disagree with r0.
func simulate(p params) (score.Header, []score.Record, map[string]eval.Votes) {
	rng := rand.New(rand.NewPCG(p.Seed, 0x5eed))
	classes := perturb.Classes()
	h := score.Header{Traces: "simulated: no trace file", Estimators: estimators}
	votes := map[string]eval.Votes{}
	var recs []score.Record
	for pi := range p.Perts {
		for gi := range p.Genes {
			id := fmt.Sprintf("sim/P%02d/G%02d", pi, gi)
			gold := draw(rng, classes, func(c string) float64 { return p.Prior[c] })
			e := rng.Float64()
			pi := map[string]float64{gold: 0.25 + 0.7*e}
			rest := 1 - pi[gold]
			split := 0.3 + 0.4*rng.Float64() // a none question's rest, between up and down
			for _, c := range classes {
				switch {
				case c == gold:
				case gold == perturb.None && c == perturb.Up:
					pi[c] = split * rest
				case gold == perturb.None:
					pi[c] = (1 - split) * rest
				case c == perturb.None:
					pi[c] = 0.6 * rest
				default:
					pi[c] = 0.4 * rest
				}
			}
			r0 := classes[0]
			for _, c := range classes[1:] {
				if pi[c] > pi[r0] {
					r0 = c
				}
			}
			v := eval.Votes{r0: 1}
			agree := 0
			for range p.Samples {
				a := draw(rng, classes, func(c string) float64 { return pi[c] })
				v[a]++
				if a == r0 {
					agree++
				}
			}
			length := 150 + rng.IntN(201)
			surprise := p.Scale[r0] * (0.05 + 0.25*(1-pi[r0])) * math.Exp(0.25*rng.NormFloat64())
			votes[id] = v
			recs = append(recs, score.Record{
				ID: id, Class: r0, OK: true, Label: gold,
				Scores: map[string]uncertainty.Score{
					"msp":              {Value: float64(length) * surprise},
					"self-consistency": {Value: 1 - float64(agree)/float64(p.Samples)},
				},
			})
		}
	}
	return h, recs, votes
}

// draw returns one of classes with probability proportional to weight.
func draw(rng *rand.Rand, classes []string, weight func(string) float64) string {
	var total float64
	for _, c := range classes {
		total += weight(c)
	}
	x := rng.Float64() * total
	for _, c := range classes {
		if x -= weight(c); x < 0 {
			return c
		}
	}
	return classes[len(classes)-1]
}

// analyze simulates, writes the score file into dir, reads it back and
// analyses it.
func analyze(ctx context.Context, dir string, p params) (*eval.Analysis, error) {
	h, recs, votes := simulate(p)
	scores := filepath.Join(dir, "scores.jsonl")
	if err := writeScores(scores, &h, recs); err != nil {
		return nil, err
	}
	in, err := eval.Load(ctx, scores, "")
	if err != nil {
		return nil, err
	}
	in.Votes = votes
	return eval.Analyze(ctx, in, &eval.Config{Seed: p.Seed, SummaryFraction: 0.3})
}

// run simulates, writes the score file and the report into out, and
// prints the ablation table to w.
func run(ctx context.Context, w io.Writer, out string, p params) (*eval.Analysis, error) {
	a, err := analyze(ctx, out, p)
	if err != nil {
		return nil, err
	}
	printTable(w, a, p)
	note := "**SIMULATED DATA.** These numbers come from a simulated teacher (examples/simulation), not from a model: " +
		"its uncertainty (msp) runs on a wider scale for \"down\" and \"up\" answers than for \"none\", even when it is right. " +
		"They show what per-class and global filtering do to such a teacher and nothing about any real model."
	if err := report.Write(ctx, filepath.Join(out, "report"), a, &report.Options{
		Title: "per-class vs global uncertainty filtering", Note: note, Mark: "SIMULATED",
	}); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "\nreport: %s\n", filepath.Join(out, "report", "index.md"))
	return a, nil
}

// writeScores writes recs as a score file.
func writeScores(name string, h *score.Header, recs []score.Record) (err error) {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	sw, err := score.NewWriter(f, h)
	if err != nil {
		return err
	}
	for i := range recs {
		if err := sw.Write(&recs[i]); err != nil {
			return err
		}
	}
	return nil
}

// printTable prints the ablation at q = 0.3 for each estimator.
func printTable(w io.Writer, a *eval.Analysis, p params) {
	cl := a.Classification
	fmt.Fprintf(w, "SIMULATED DATA (a simulated teacher, not a model): %d questions, K = %d samples, seed %d\n", cl.N, p.Samples, p.Seed)
	fmt.Fprintf(w, "gold classes:")
	for _, m := range cl.PerClass {
		fmt.Fprintf(w, " %s %d", m.Label, m.Support)
	}
	fmt.Fprintf(w, "; r0 accuracy %.3f, macro-F1 %.3f\n", cl.Accuracy, cl.MacroF1)
	fmt.Fprintf(w, "msp scale by r0 class: up %.1f, down %.1f, none %.1f\n\n", p.Scale[perturb.Up], p.Scale[perturb.Down], p.Scale[perturb.None])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "estimator\tstrategy\tq\tkept\tup kept\tdown kept\tnone kept\tbalance\taccuracy\tmacro-F1\tdown F1\t\n")
	for _, e := range a.PerEstimator {
		for _, cu := range e.Curves {
			pt := cu.At(a.SummaryFraction)
			fmt.Fprintf(tw, "%s\t%s\t%.2f\t%d\t", e.Name, cu.Strategy, pt.Fraction, pt.Kept)
			var downF1 float64
			for _, c := range pt.Classes {
				fmt.Fprintf(tw, "%d (%.0f%%)\t", c.Kept, 100*c.Retained.Value)
				if c.Label == perturb.Down {
					downF1 = c.F1
				}
			}
			fmt.Fprintf(tw, "%.2f\t%.3f\t%.3f\t%.3f\t\n", pt.Balance().Value, pt.Accuracy, pt.MacroF1, downF1)
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%s keeps the same share of every r0 class; %s ranks all groups on one scale and keeps few \"down\" answers.\n",
		filter.NamePerClass, filter.NameGlobal)
}
