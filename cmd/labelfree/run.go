package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/labelfree/labelfree/internal/gguf"
	"github.com/labelfree/labelfree/internal/testmodel"
)

// toyModel reports whether the backend's model is labelfree's toy
// reasoner, whose output the report must not let pass for a model's.
func (c *Config) toyModel() bool {
	f, err := gguf.Open(c.Backend.Model)
	if err != nil {
		return false
	}
	s, _ := f.String(testmodel.OptionsKey)
	return strings.HasPrefix(s, "toy")
}

// stageFunc runs one stage of the pipeline after sampling.
type stageFunc func(context.Context, *Config) (*result, error)

var stages = []struct {
	name string
	run  stageFunc
}{
	{"score", scoreStage},
	{"filter", filterStage},
	{"export", exportStage},
	{"report", reportStage},
}

// printResults writes the results as lines, or as one JSON array.
func printResults(w io.Writer, asJSON bool, rs []*result) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rs)
	}
	for _, r := range rs {
		if strings.Contains(r.line, "\n") {
			fmt.Fprintf(w, "%-7s %s:\n%s\n", r.Stage, r.Output, r.line)
			continue
		}
		fmt.Fprintf(w, "%-7s %s: %s\n", r.Stage, r.line, r.Output)
	}
	return nil
}

const runHelp = "Runs the whole pipeline from one YAML configuration: sample greedy + K traces per question with\n" +
	"token log-probabilities (OUT/traces.jsonl), score their uncertainty (OUT/scores.jsonl), keep the\n" +
	"least uncertain per predicted class (OUT/selection.jsonl), export them for fine-tuning\n" +
	"(OUT/sft/train.jsonl, validation.jsonl) and write the report (OUT/report/index.md).\n" +
	"A stage whose outputs are up to date is skipped; an interrupted sampling run resumes.\n" +
	"run does not shard; to sample on several machines, run labelfree sample --shard i/n on each,\n" +
	"labelfree merge, then run, which finds OUT/traces.jsonl complete (see labelfree sample --help).\n" +
	"Without --config it runs the demo's configuration (a toy model; see README).\n\n" +
	"Configuration (every key optional but backend.model; defaults shown):\n" +
	"  out: out                     task: {name: perturbqa, data: DIR, cell: k562, split: test, n: 0, seed: 0}\n" +
	"  backend: {kind: llama, model: FILE.gguf, gpu_layers: 0, context: 4096, threads: 0, fast: false, concurrency: 1,\n" +
	"            lora: ADAPTER.gguf, lora_scale: 1}   (lora: evaluate a fine-tuned student with the same pipeline)\n" +
	"  sampling: {k: 4, max_tokens: 1024, temperature: 0.6, top_k: 20, top_p: 0.95, min_p: 0, seed: 0, stop: [], no_thinking: false}\n" +
	"  scoring: {estimators: [cocoa-ppl, self-consistency, log-perplexity, msp, mte], similarity: answer}\n" +
	"  filter: {strategy: per-class, estimator: cocoa-ppl, fraction: 0.5, seed: 0}\n" +
	"  export: {validation: 0.1}\n" +
	"  finetune: {model: HF-MODEL, config: qlora.json, python: \"\"}   (for labelfree finetune)"

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", runHelp, `labelfree run --config paper.yaml --model Qwen3-8B-Q4_K_M.gguf`, stderr)
	load := configFlags(fs)
	asJSON := fs.Bool("json", false, "print the stages' results as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := load()
	if err != nil {
		return err
	}
	st, err := sample(ctx, c, stderr)
	if err != nil {
		return err
	}
	rs := []*result{{Stage: "sample", Output: c.path(tracesFile), Detail: st, Skipped: st.Done == 0 && st.Failed == 0,
		line: fmt.Sprintf("%d questions, %d already done, %d generated", st.Total, st.Skipped, st.Done)}}
	if !*asJSON {
		printResults(stdout, false, rs)
	}
	for _, s := range stages {
		r, err := s.run(ctx, c)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		rs = append(rs, r)
		if !*asJSON {
			printResults(stdout, false, rs[len(rs)-1:])
		}
	}
	if *asJSON {
		return printResults(stdout, true, rs)
	}
	return nil
}

// stageCommand is a command that runs one stage after sampling.
func stageCommand(name, help, example string, run stageFunc) func(context.Context, []string, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		fs := newFlags(name, help, example, stderr)
		load := configFlags(fs)
		asJSON := fs.Bool("json", false, "print the result as JSON")
		if err := parse(fs, args); err != nil {
			return err
		}
		c, err := load()
		if err != nil {
			return err
		}
		r, err := run(ctx, c)
		if err != nil {
			return err
		}
		return printResults(stdout, *asJSON, []*result{r})
	}
}
