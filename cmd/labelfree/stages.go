package main

import (
	"bytes"
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
)

// demoConfig is the configuration of `make demo`: a generated tiny model
// with random weights (its answers mean nothing) on 50 PerturbQA test
// questions.
//
//go:embed demo.yaml
var demoConfig []byte

// configFlags declares the flags every pipeline command shares: the
// configuration file and the settings most often changed for one run. The
// returned function loads the configuration and applies the flags that were
// given on top of it.
func configFlags(fs *flag.FlagSet) func() (*Config, error) {
	path := fs.String("config", "", "YAML configuration file (see labelfree run --help); default: the demo's")
	out := fs.String("out", "", "output directory (overrides out:)")
	model := fs.String("model", "", "GGUF model file (overrides backend.model:)")
	data := fs.String("data", "", "PerturbQA directory (overrides task.data:)")
	n := fs.Int("n", 0, "number of questions (overrides task.n:)")
	k := fs.Int("k", 0, "sampled traces per question beside the greedy one (overrides sampling.k:)")
	maxTokens := fs.Int("max-tokens", 0, "token budget of each trace (overrides sampling.max_tokens:)")
	fraction := fs.Float64("fraction", 0, "fraction kept by the filter, in (0,1] (overrides filter.fraction:)")
	strategy := fs.String("strategy", "", "per-class, global or random (overrides filter.strategy:)")
	estimator := fs.String("estimator", "", "estimator the filter ranks by (overrides filter.estimator:)")
	return func() (*Config, error) {
		var c *Config
		var err error
		if *path == "" {
			c, err = decodeConfig(bytes.NewReader(demoConfig), "demo configuration")
		} else {
			c, err = loadConfig(*path)
		}
		if err != nil {
			return nil, err
		}
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if set["out"] {
			c.Out = *out
		}
		if set["model"] {
			c.Backend.Model = *model
		}
		if set["data"] {
			c.Task.Data = *data
		}
		if set["n"] {
			c.Task.N = *n
		}
		if set["k"] {
			c.Sampling.K = *k
		}
		if set["max-tokens"] {
			c.Sampling.MaxTokens = *maxTokens
		}
		if set["fraction"] {
			// 0 in YAML means the default; given as a flag it is a mistake.
			if *fraction <= 0 || *fraction > 1 {
				return nil, fmt.Errorf("%w: --fraction %g: must be in (0, 1]", errUsage, *fraction)
			}
			c.Filter.Fraction = *fraction
		}
		if set["strategy"] {
			c.Filter.Strategy = *strategy
		}
		if set["estimator"] {
			c.Filter.Estimator = *estimator
		}
		c.defaults()
		if err := c.validate(); err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		return c, nil
	}
}

func runSample(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sample",
		"Generates the greedy trace and K sampled traces of every question with a local GGUF model and\n"+
			"writes them, with each token's exact log-probability and entropy, to OUT/traces.jsonl.\n"+
			"An interrupted run resumes where it stopped when run again with the same settings.\n\n"+
			shardHelp,
		`labelfree sample --config run.yaml --model Qwen3-8B-Q4_K_M.gguf --n 200 --k 8`, stderr)
	load := configFlags(fs)
	shardArg := fs.String("shard", "", "generate only shard i of n of the questions (i/n, 0 ≤ i < n, or auto/n: i from\n"+
		"SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX) into OUT/traces.shard-i-of-n.jsonl")
	if err := parse(fs, args); err != nil {
		return err
	}
	shard, err := parseShardFlag(*shardArg)
	if err != nil {
		return err
	}
	c, err := load()
	if err != nil {
		return err
	}
	st, err := sampleShard(ctx, c, shard, stderr)
	if err != nil {
		return err
	}
	what := "questions"
	if shard.Count > 0 {
		what = "questions of shard " + shard.String()
	}
	fmt.Fprintf(stdout, "sample: %d %s, %d already done, %d generated, %d failed: %s\n",
		st.Total, what, st.Skipped, st.Done, st.Failed, c.tracesPath(shard))
	return nil
}
