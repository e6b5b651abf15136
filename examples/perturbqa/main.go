// Command perturbqa runs labelfree's pipeline from Go code, stage by stage,
// on a local GGUF model: PerturbQA questions, the greedy trace and K
// samples per question with exact token log-probabilities, uncertainty
// scores, per-class CoCoA filtering, SFT export, and an evaluation report.
// It is what `labelfree run` does, without the configuration file (see
// README.md).
//
// Usage:
//
//	go run ./examples/perturbqa -model Qwen3-8B-Q4_K_M.gguf [-data DIR] [-n 20] [-k 4] [-out DIR]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/labelfree/labelfree/eval"
	"github.com/labelfree/labelfree/eval/report"
	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/llama"
	"github.com/labelfree/labelfree/perturb"
	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/score"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // -h: the flag package printed the usage
		}
		fmt.Fprintln(os.Stderr, "perturbqa:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	model, data, cell, split, out, mark string
	n, k, maxTokens, ctxLen, threads    int
}

func parseFlags(args []string) (*options, error) {
	var o options
	fs := flag.NewFlagSet("perturbqa", flag.ContinueOnError)
	fs.StringVar(&o.model, "model", "", "GGUF model file (required)")
	fs.StringVar(&o.data, "data", "", "directory with PerturbQA's {cell}-de.csv and {cell}-dir.csv (default: download them, checksums pinned)")
	fs.StringVar(&o.cell, "cell", perturb.K562, "cell line: k562, rpe1, hepg2, jurkat or k562_set")
	fs.StringVar(&o.split, "split", perturb.Train, "split the questions are drawn from: train or test")
	fs.IntVar(&o.n, "n", 20, "number of questions, drawn at random (seed 1)")
	fs.IntVar(&o.k, "k", 4, "sampled traces per question beside the greedy one")
	fs.IntVar(&o.maxTokens, "max-tokens", 1024, "token budget of each trace")
	fs.IntVar(&o.ctxLen, "context", 0, "token positions of the session, shared by the prompt and the K+1 traces (default: 1024 + (k+1)·max-tokens)")
	fs.IntVar(&o.threads, "threads", 0, "CPU threads of the model (default: every core)")
	fs.StringVar(&o.out, "out", "out/perturbqa", "output directory")
	fs.StringVar(&o.mark, "mark", "", `mark every title of the report, e.g. "TOY MODEL"`)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case o.model == "":
		return nil, errors.New("-model is required")
	case o.n < 1 || o.k < 1 || o.maxTokens < 1 || o.ctxLen < 0:
		return nil, fmt.Errorf("-n %d, -k %d, -max-tokens %d, -context %d: out of range", o.n, o.k, o.maxTokens, o.ctxLen)
	}
	return &o, nil
}

// run runs every stage, writing into o.out:
//
//	traces.jsonl     r0 and K samples per question, every token's log-probability
//	scores.jsonl     each question's uncertainty under five estimators
//	selection.jsonl  the least uncertain half of each predicted class by CoCoA-PPL
//	sft/             the kept traces as chat-format SFT data
//	report/          tables and plots against the gold labels
func run(ctx context.Context, args []string, stdout io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	traces := filepath.Join(o.out, "traces.jsonl")
	if err := sample(ctx, o, traces, stdout); err != nil {
		return err
	}

	scores := filepath.Join(o.out, "scores.jsonl")
	st, err := score.File(ctx, traces, scores, &score.Config{
		Estimators: []string{"cocoa-ppl", "self-consistency", "log-perplexity", "msp", "mte"},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "score:  %d groups, %d with an unparsable greedy answer -> %s\n", st.Groups, st.Unparsable, scores)

	// Per-class filtering: the class is r0's answer, never the label, so
	// the rare classes keep the same share as "none".
	sel, err := filter.File(ctx, scores, filepath.Join(o.out, "selection.jsonl"),
		filter.PerClass{Estimator: "cocoa-ppl", Fraction: 0.5})
	if err != nil {
		return err
	}
	sum := sel.Header.Summary
	var kept []string
	for _, c := range sum.Classes {
		kept = append(kept, fmt.Sprintf("%s %d/%d", c.Class, c.Kept, c.Total))
	}
	fmt.Fprintf(stdout, "filter: kept %d of %d groups (%s), %d excluded\n",
		sum.Kept, sum.Groups, strings.Join(kept, ", "), sum.Groups-sum.Eligible)

	sft := filepath.Join(o.out, "sft")
	if err := os.MkdirAll(sft, 0o755); err != nil {
		return err
	}
	es, err := filter.Export(ctx, sel, traces, sft, &filter.ExportConfig{Validation: 0.1, Seed: 1, Replace: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "export: %d train and %d validation examples -> %s\n", es.Train, es.Validation, sft)

	// Evaluation reads the gold labels, which nothing above did.
	in, err := eval.Load(ctx, scores, traces)
	if err != nil {
		return err
	}
	a, err := eval.Analyze(ctx, in, &eval.Config{Seed: 1})
	if err != nil {
		return err
	}
	dir := filepath.Join(o.out, "report")
	if err := report.Write(ctx, dir, a, &report.Options{
		Title:      "PerturbQA " + o.cell + " on " + filepath.Base(o.model),
		Mark:       o.mark,
		Selections: []*filter.Selection{sel},
	}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "report: greedy-answer accuracy %.3f, macro-F1 %.3f -> %s\n",
		a.Classification.Accuracy, a.Classification.MacroF1, filepath.Join(dir, "index.md"))
	return nil
}

// sample draws the traces of o.n PerturbQA questions into the trace file
// traces. Run again with the same flags, it resumes: the questions already
// in the file are skipped.
func sample(ctx context.Context, o *options, traces string, stdout io.Writer) (err error) {
	dir := o.data
	if dir == "" {
		if dir, err = perturb.Fetch(ctx, o.cell, nil); err != nil {
			return err
		}
	}
	qs, err := perturb.Load(dir, o.cell, o.split)
	if err != nil {
		return err
	}
	items := perturb.Items(perturb.Sample(qs, o.n, 1))

	m, err := llama.Load(ctx, o.model, nil) // &llama.ModelConfig{GPULayers: -1} on a GPU build
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, m.Close()) }()
	// The exact configuration (F32 KV cache, flash attention off). The
	// greedy trace and the K samples are decoded together after one shared
	// prompt, so by default the context holds the prompt and every trace
	// at full length; a trace that fills what is left ends with finish
	// "context". NewSession caps it at the model's training context.
	ctxLen := o.ctxLen
	if ctxLen == 0 {
		ctxLen = 1024 + (o.k+1)*o.maxTokens
	}
	cfg := llama.ExactSession(ctxLen)
	cfg.Sequences = o.k + 1
	cfg.Threads = o.threads
	s, err := m.NewSession(cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.Close()) }()

	st, err := sampling.Run(ctx, &sampling.RunConfig{
		Items:      items,
		Task:       perturb.Task{},
		Generators: []sampling.Generator{llama.NewGenerator(s)}, // one per session; sessions are not safe for concurrent use
		Params:     &sampling.Params{Samples: o.k, MaxTokens: o.maxTokens, Seed: 1, Stop: []string{"</answer>"}},
		Out:        traces,
		Model:      o.model,
		Backend:    "llama",
		TaskName:   "perturbqa/" + o.cell + "/" + o.split,
		TokenIDs:   true, // for score.Config.Part, which finds the reasoning by the <think> tokens
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sample: %d questions (%d already done), r0 + %d samples each -> %s\n", st.Total, st.Skipped, o.k, traces)
	return nil
}
