// Command remote uses an OpenAI-compatible server as the generator:
// llama.cpp's llama-server, vLLM, SGLang or a hosted endpoint that returns
// token log-probabilities. It samples the greedy trace and K samples of
// PerturbQA questions through sampling/openai into a trace file, scores
// them and prints the questions from least to most uncertain. It needs no
// cgo: the model runs in the server (see README.md).
//
// Usage:
//
//	llama-server -m Qwen3-8B-Q4_K_M.gguf -np 4 -c 32768 &
//	go run ./examples/remote [-base-url http://127.0.0.1:8080/v1] [-data DIR] [-n 20] [-k 4]
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/labelfree/labelfree/perturb"
	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/openai"
	"github.com/labelfree/labelfree/score"
	"github.com/labelfree/labelfree/uncertainty"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // -h: the flag package printed the usage
		}
		fmt.Fprintln(os.Stderr, "remote:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	baseURL, model, data, cell, split, out string
	parallel, n, k, maxTokens, top         int
}

func parseFlags(args []string) (*options, error) {
	var o options
	fs := flag.NewFlagSet("remote", flag.ContinueOnError)
	fs.StringVar(&o.baseURL, "base-url", "http://127.0.0.1:8080/v1", "the API's root, to which /chat/completions is appended")
	fs.StringVar(&o.model, "model", "", "model name sent with each request (llama-server needs none) and recorded in the trace file; an API key, if any, is read from OPENAI_API_KEY")
	fs.IntVar(&o.parallel, "parallel", 4, "requests in flight at once: the server's parallel slots (llama-server -np)")
	fs.StringVar(&o.data, "data", "", "directory with PerturbQA's {cell}-de.csv and {cell}-dir.csv (default: download them, checksums pinned)")
	fs.StringVar(&o.cell, "cell", perturb.K562, "cell line: k562, rpe1, hepg2, jurkat or k562_set")
	fs.StringVar(&o.split, "split", perturb.Train, "split the questions are drawn from: train or test")
	fs.IntVar(&o.n, "n", 20, "number of questions, drawn at random (seed 1)")
	fs.IntVar(&o.k, "k", 4, "sampled traces per question beside the greedy one")
	fs.IntVar(&o.maxTokens, "max-tokens", 1024, "token budget of each trace")
	fs.IntVar(&o.top, "top-logprobs", 5, "alternatives asked for with each token's log-probability")
	fs.StringVar(&o.out, "out", "out/remote", "output directory")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.parallel < 1 || o.n < 1 || o.k < 1 || o.maxTokens < 1 || o.top < 1 {
		return nil, fmt.Errorf("-parallel %d, -n %d, -k %d, -max-tokens %d, -top-logprobs %d: each must be at least 1",
			o.parallel, o.n, o.k, o.maxTokens, o.top)
	}
	return &o, nil
}

// estimators are those that need no entropies. A server returns the
// log-probabilities of the top n alternatives only, so the entropies of a
// trace ("top-n") are not those of the full distribution that mte and
// cocoa-mte are defined on; score.Config.TopNEntropies would accept them.
var estimators = []string{"cocoa-ppl", "self-consistency", "log-perplexity", "msp"}

// run samples, scores and prints the ranking, writing into o.out.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	c, err := openai.New(&openai.Config{BaseURL: o.baseURL, Model: o.model, MaxConcurrency: o.parallel, TopLogprobs: o.top})
	if err != nil {
		return err
	}
	defer c.CloseIdleConnections()

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

	// A Client is safe for concurrent use: listed o.parallel times, it
	// works on that many questions at once, and MaxConcurrency bounds the
	// requests (one per trace) they send together.
	gens := make([]sampling.Generator, o.parallel)
	for i := range gens {
		gens[i] = c
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	traces := filepath.Join(o.out, "traces.jsonl")
	st, err := sampling.Run(ctx, &sampling.RunConfig{
		Items:      items,
		Task:       perturb.Task{},
		Generators: gens,
		Params:     &sampling.Params{Samples: o.k, MaxTokens: o.maxTokens, Seed: 1, Stop: []string{"</answer>"}},
		Out:        traces,
		Model:      o.model,
		Backend:    "openai",
		TaskName:   "perturbqa/" + o.cell + "/" + o.split,
		LogProbs:   sampling.LogProbsTop(o.top), // what the numbers are; a trace the server gave none for says "none"
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sample: %d questions (%d already done), r0 + %d samples each -> %s\n", st.Total, st.Skipped, o.k, traces)

	scores := filepath.Join(o.out, "scores.jsonl")
	sst, err := score.File(ctx, traces, scores, &score.Config{Estimators: estimators})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "score:  %d groups, %d with an unparsable greedy answer -> %s\n\n", sst.Groups, sst.Unparsable, scores)
	return printRanking(stdout, scores)
}

// printRanking prints the score file's groups from least to most
// uncertain by the first estimator, those it could not score last.
func printRanking(w io.Writer, scores string) error {
	h, recs, err := score.ReadFile(scores)
	if err != nil {
		return err
	}
	by := h.Estimators[0]
	type row struct {
		rec *score.Record
		s   uncertainty.Score
		err error
	}
	rows := make([]row, len(recs))
	for i := range recs {
		rows[i].rec = &recs[i]
		rows[i].s, rows[i].err = recs[i].Score(by)
	}
	slices.SortFunc(rows, func(a, b row) int {
		switch {
		case a.err != nil && b.err == nil:
			return 1
		case a.err == nil && b.err != nil:
			return -1
		}
		return cmp.Or(uncertainty.Compare(a.s, b.s), cmp.Compare(a.rec.ID, b.rec.ID))
	})
	fmt.Fprintf(w, "least uncertain first, by %s:\n", by)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(append([]string{"rank", "question", "r0", "gold"}, h.Estimators...), "\t"))
	for i, r := range rows {
		class := r.rec.Class
		if !r.rec.OK {
			class = "(none)"
		}
		cells := []string{strconv.Itoa(i + 1), r.rec.ID, class, r.rec.Label}
		for _, e := range h.Estimators {
			// An estimator that could not score a group (a trace the
			// server gave no log-probabilities for, an unparsable r0)
			// has its reason in the score file.
			if s, err := r.rec.Score(e); err != nil {
				cells = append(cells, "n/a")
			} else {
				cells = append(cells, fmt.Sprintf("%.3f", s.Value))
			}
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}
