// Command custom-curation embeds labelfree in a tool of your own, with
// your task, your similarity, your estimator and your filter: it asks how
// many times a letter occurs in a word (a Task with its own prompt and
// parser), scores the answers with CoCoA under a numeric similarity and
// with an estimator registered here, drops the groups whose samples
// stray from r0 (a Gate) and keeps the least uncertain half of each
// answer (PerClass). Generation is samplingtest.Fake, a deterministic
// stand-in for a model, so it needs none: its answers mean nothing.
//
// Usage:
//
//	go run ./examples/custom-curation [-out DIR]
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"text/tabwriter"

	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/samplingtest"
	"github.com/labelfree/labelfree/score"
	"github.com/labelfree/labelfree/uncertainty"
)

func main() {
	out := flag.String("out", "", "output directory (default: a new temporary directory)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := start(ctx, *out); err != nil {
		fmt.Fprintln(os.Stderr, "custom-curation:", err)
		os.Exit(1)
	}
}

func start(ctx context.Context, out string) error {
	if out == "" {
		dir, err := os.MkdirTemp("", "labelfree-custom-curation-")
		if err != nil {
			return err
		}
		out = dir
	} else if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	return run(ctx, os.Stdout, out)
}

// Settings of the run.
const (
	samples  = 6   // K
	maxDist  = 1.0 // the gate: mean distance of the samples from r0's answer
	fraction = 0.5 // kept per class after the gate
)

// run generates, scores, filters and exports into the directory out.
func run(ctx context.Context, w io.Writer, out string) error {
	// 1. Generation into a trace file, with your task. Fake answers with
	// one of its Classes; here, counts.
	fake := &samplingtest.Fake{Classes: []string{"0", "1", "2", "3", "4"}, Words: 8, Unparsable: 0.05}
	traces := filepath.Join(out, "traces.jsonl")
	if _, err := sampling.Run(ctx, &sampling.RunConfig{
		Items:      items(),
		Task:       countTask{},
		Generators: []sampling.Generator{fake},
		Params:     &sampling.Params{Samples: samples, Seed: 1},
		Out:        traces,
		Backend:    "fake",
		TaskName:   "count-letters",
	}); err != nil {
		return err
	}

	// 2. Scoring with your similarity and estimator. cocoa-ppl is the
	// built-in CoCoA, r0's log-perplexity × its mean dissimilarity to the
	// samples, here under closeness.
	es, err := uncertainty.NewAll(&uncertainty.Config{Similarity: closeness{}}, "cocoa-ppl", "answer-spread")
	if err != nil {
		return err
	}
	scores := filepath.Join(out, "scores.jsonl")
	if err := scoreFile(ctx, traces, scores, es); err != nil {
		return err
	}

	// 3. Your filter: a hard gate on one estimator, then a per-class
	// ranking by another. filter.File reads the score file written above
	// as it reads one from score.File.
	strategy := filter.PerClass{
		Estimator: "cocoa-ppl",
		Fraction:  fraction,
		Gates:     []filter.Gate{{Estimator: "answer-spread", Max: maxDist}},
	}
	sel, err := filter.File(ctx, scores, filepath.Join(out, "selection.jsonl"), strategy)
	if err != nil {
		return err
	}

	// 4. The kept traces as SFT data.
	st, err := filter.Export(ctx, sel, traces, out, &filter.ExportConfig{Samples: true, Replace: true})
	if err != nil {
		return err
	}
	return printSummary(w, sel, st)
}

// scoreFile scores every group of the trace file traces with es and
// writes a score file that the filter, eval and report packages (and the
// labelfree command) read.
func scoreFile(ctx context.Context, traces, out string, es []uncertainty.Estimator) (err error) {
	_, groups, err := sampling.ReadFile(traces)
	if err != nil {
		return err
	}
	ug := make([]uncertainty.Group, len(groups))
	for i := range groups {
		if err := score.Convert(&ug[i], &groups[i], false); err != nil {
			return err
		}
	}
	// Batch stores group i's score under estimator j at i*len(es)+j, and
	// with errs records each estimator's error there instead of stopping.
	vals := make([]uncertainty.Score, len(ug)*len(es))
	errs := make([]error, len(vals))
	if err := uncertainty.Batch(ctx, vals, errs, ug, es, 0); err != nil {
		return err
	}

	sum, err := score.FileSHA256(traces)
	if err != nil {
		return err
	}
	h := &score.Header{Traces: traces, TracesSHA256: sum}
	for _, e := range es {
		h.Estimators = append(h.Estimators, e.Name())
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	bw := bufio.NewWriter(f)
	sw, err := score.NewWriter(bw, h)
	if err != nil {
		return err
	}
	for i := range ug {
		r0 := &ug[i].Greedy
		rec := &score.Record{ID: ug[i].ID, Class: r0.Answer, OK: r0.OK, Label: groups[i].Item.Label,
			Scores: map[string]uncertainty.Score{}, Errors: map[string]string{}}
		for j, e := range es {
			if err := errs[i*len(es)+j]; err != nil {
				// An unparsable r0, say: recorded, and the filter
				// excludes the group.
				rec.Errors[e.Name()] = err.Error()
			} else {
				rec.Scores[e.Name()] = vals[i*len(es)+j]
			}
		}
		if err := sw.Write(rec); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// printSummary writes what the filter kept, class by class.
func printSummary(w io.Writer, sel *filter.Selection, st filter.ExportStats) error {
	sum := sel.Header.Summary
	fmt.Fprintf(w, "FAKE MODEL (samplingtest.Fake: its answers mean nothing): %d questions, K = %d\n", sum.Groups, samples)
	fmt.Fprintf(w, "gate answer-spread <= %g, then per class the least uncertain %g by cocoa-ppl under numeric closeness\n\n", maxDist, fraction)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "r0 answer\tgroups\tpassed gate\tkept\tcocoa-ppl cut\t")
	for _, c := range sum.Classes {
		cut := "-"
		if c.Threshold != nil {
			cut = fmt.Sprintf("%.3f", *c.Threshold)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t\n", c.Class, c.Total, c.Eligible, c.Kept, cut)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nkept %d of %d groups; excluded: %d by the gate, %d unparsable r0, %d not scored\n",
		sum.Kept, sum.Groups, sum.Excluded[filter.ReasonGate], sum.Excluded[filter.ReasonUnparsable], sum.Excluded[filter.ReasonError])
	for _, r := range sel.Records {
		fmt.Fprintf(w, "  %-16s r0 %s  cocoa-ppl %.3f  rank %d in its class\n", r.ID, r.Class, r.U, r.Rank)
	}
	fmt.Fprintf(w, "exported %d traces of the kept groups (r0 and the samples that agree with it) to %s\n", st.Train, filter.TrainFile)
	return nil
}
