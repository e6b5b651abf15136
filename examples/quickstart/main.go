// Command quickstart scores reasoning traces you already have, with no
// model: it reads each question's greedy trace r0 and K sampled traces
// (tokens, per-token log-probabilities, optionally entropies, and the
// parsed answer) from a JSON file, computes five uncertainties with the
// uncertainty package and prints the questions from least to most
// uncertain. See README.md for the file's format.
//
// Usage:
//
//	go run ./examples/quickstart                  # the example's own traces.json
//	go run ./examples/quickstart -traces FILE     # your traces
package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/labelfree/labelfree/uncertainty"
)

// exampleTraces is traces.json, so that the command runs from any
// directory.
//
//go:embed traces.json
var exampleTraces []byte

func main() {
	path := flag.String("traces", "", "JSON file of traces (default: the example's traces.json)")
	flag.Parse()
	data := exampleTraces
	if *path != "" {
		var err error
		if data, err = os.ReadFile(*path); err != nil {
			fmt.Fprintln(os.Stderr, "quickstart:", err)
			os.Exit(1)
		}
	}
	if err := run(os.Stdout, bytes.NewReader(data)); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// file is the JSON input: questions, each with r0 and its samples.
type file struct {
	About     string `json:"about"`
	Questions []struct {
		ID       string  `json:"id"`
		Question string  `json:"question"`
		Greedy   trace   `json:"greedy"`
		Samples  []trace `json:"samples"`
	} `json:"questions"`
}

// trace is one trace as the JSON file holds it. Entropies may be absent:
// many APIs return the sampled token's log-probability only.
type trace struct {
	Answer    string    `json:"answer"`
	Tokens    []string  `json:"tokens"`
	LogProbs  []float64 `json:"logprobs"`
	Entropies []float64 `json:"entropies"`
}

// uncertaintyTrace converts t; an empty answer means none was parsed.
func (t *trace) uncertaintyTrace() (uncertainty.Trace, error) {
	if len(t.Tokens) != len(t.LogProbs) {
		return uncertainty.Trace{}, fmt.Errorf("%d tokens but %d log-probabilities", len(t.Tokens), len(t.LogProbs))
	}
	return uncertainty.Trace{
		Tokens:    t.Tokens,
		LogProbs:  t.LogProbs,
		Entropies: t.Entropies,
		Answer:    t.Answer,
		OK:        t.Answer != "",
	}, nil
}

// columns are the estimators printed, by their registered names.
var columns = []struct{ estimator, head string }{
	{"msp", "MSP"},                   // -Σ log p of r0
	{"perplexity", "PPL"},            // exp(-mean log p) of r0
	{"mte", "MTE"},                   // mean token entropy of r0
	{"self-consistency", "disagree"}, // share of samples whose answer is not r0's
	{"cocoa-ppl", "CoCoA-PPL"},       // log-perplexity of r0 × disagree: the ranking
}

// rankBy is the column whose scores order the table.
const rankBy = "cocoa-ppl"

// readGroups reads the JSON input: one uncertainty.Group per question.
func readGroups(in io.Reader) ([]uncertainty.Group, error) {
	var f file
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("reading traces: %w", err)
	}
	if len(f.Questions) == 0 {
		return nil, errors.New("no questions in the input")
	}
	groups := make([]uncertainty.Group, len(f.Questions))
	for i, q := range f.Questions {
		g := &groups[i]
		g.ID = q.ID
		var err error
		if g.Greedy, err = q.Greedy.uncertaintyTrace(); err != nil {
			return nil, fmt.Errorf("question %q, greedy trace: %w", q.ID, err)
		}
		for j := range q.Samples {
			t, err := q.Samples[j].uncertaintyTrace()
			if err != nil {
				return nil, fmt.Errorf("question %q, sample %d: %w", q.ID, j+1, err)
			}
			g.Samples = append(g.Samples, t)
		}
	}
	return groups, nil
}

// run reads the traces from in, scores them and writes the table to w.
func run(w io.Writer, in io.Reader) error {
	groups, err := readGroups(in)
	if err != nil {
		return err
	}

	// Answers are free text: "Canberra" and "canberra." must agree.
	cfg := &uncertainty.Config{Normalize: uncertainty.NormalizeAnswer}
	names := make([]string, len(columns))
	rank := -1
	for j, c := range columns {
		names[j] = c.estimator
		if c.estimator == rankBy {
			rank = j
		}
	}
	es, err := uncertainty.NewAll(cfg, names...)
	if err != nil {
		return err
	}
	// Batch stores group i's score under estimator j at i*len(es)+j; with
	// errs it records each estimator's error there and goes on.
	scores := make([]uncertainty.Score, len(groups)*len(es))
	errs := make([]error, len(scores))
	if err := uncertainty.Batch(context.Background(), scores, errs, groups, es, 1); err != nil {
		return err
	}
	for i, err := range errs {
		// Missing entropies leave MTE undefined for that question; any
		// other error is bad input.
		if err != nil && !errors.Is(err, uncertainty.ErrMissing) {
			return fmt.Errorf("question %q: %s: %w", groups[i/len(es)].ID, names[i%len(es)], err)
		}
	}

	// Order by CoCoA-PPL, ties (every sample agrees with r0) broken by
	// r0's log-perplexity, as uncertainty.Compare does.
	ranked := make([]uncertainty.Score, len(groups))
	for i := range groups {
		if err := errs[i*len(es)+rank]; err != nil {
			return fmt.Errorf("question %q: %s: %w", groups[i].ID, rankBy, err)
		}
		ranked[i] = scores[i*len(es)+rank]
	}
	k := 0
	for _, g := range groups {
		k = max(k, len(g.Samples))
	}
	fmt.Fprintf(w, "%d questions, r0 and up to %d samples each, least uncertain first (by %s):\n\n", len(groups), k, rankBy)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "rank\tquestion\tr0 answer\t")
	for _, c := range columns {
		fmt.Fprintf(tw, "%s\t", c.head)
	}
	fmt.Fprintln(tw)
	missing := false
	for r, i := range uncertainty.Order(nil, ranked) {
		g := &groups[i]
		fmt.Fprintf(tw, "%d\t%s\t%s\t", r+1, g.ID, g.Greedy.Answer)
		for j := range es {
			if errs[i*len(es)+j] != nil {
				fmt.Fprint(tw, "n/a\t")
				missing = true
				continue
			}
			fmt.Fprintf(tw, "%.3f\t", scores[i*len(es)+j].Value)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if missing {
		fmt.Fprintln(w, "\nn/a: the traces have no entropies, which MTE needs.")
	}
	return nil
}
