package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/labelfree/labelfree/llama"
	"github.com/labelfree/labelfree/perturb"
	"github.com/labelfree/labelfree/sampling"
)

// Files of a run inside Config.Out.
const (
	tracesFile    = "traces.jsonl"
	scoresFile    = "scores.jsonl"
	selectionFile = "selection.jsonl"
	summaryFile   = "selection-summary.json"
	sftDir        = "sft"
	reportDir     = "report"
)

func (c *Config) path(name string) string { return filepath.Join(c.Out, name) }

// params are the sampling settings of c.
func (c *Config) params() *sampling.Params {
	s := c.Sampling
	return &sampling.Params{Samples: s.K, MaxTokens: s.MaxTokens, Temperature: s.Temperature,
		TopK: s.TopK, TopP: s.TopP, MinP: s.MinP, Seed: s.Seed, Stop: s.Stop}
}

// items loads the questions of c.Task.
func (c *Config) items(ctx context.Context) ([]sampling.Item, error) {
	dir := c.Task.Data
	if dir == "" {
		var err error
		if dir, err = perturb.Fetch(ctx, c.Task.Cell, nil); err != nil {
			return nil, err
		}
	}
	qs, err := perturb.Load(dir, c.Task.Cell, c.Task.Split)
	if err != nil {
		return nil, err
	}
	if c.Task.N > 0 {
		qs = perturb.Sample(qs, c.Task.N, c.Task.Seed)
	}
	return perturb.Items(qs), nil
}

// taskName identifies the questions in the trace file's header.
func (c *Config) taskName() string {
	return fmt.Sprintf("perturbqa/%s/%s", c.Task.Cell, c.Task.Split)
}

// noThinking turns reasoning off in every prompt of a task.
type noThinking struct{ sampling.Task }

func (t noThinking) Prompt(it sampling.Item) (sampling.Prompt, error) {
	p, err := t.Task.Prompt(it)
	p.NoThinking = true
	return p, err
}

// sample runs the sampling stage: it generates (or resumes) the trace file.
func sample(ctx context.Context, c *Config, stderr io.Writer) (sampling.Stats, error) {
	return sampleShard(ctx, c, sampling.Shard{}, stderr)
}

// sampleShard generates (or resumes) the trace file of one shard of the
// questions, c.tracesPath(shard); the zero shard is all of them.
func sampleShard(ctx context.Context, c *Config, shard sampling.Shard, stderr io.Writer) (sampling.Stats, error) {
	items, err := c.items(ctx)
	if err != nil {
		return sampling.Stats{}, err
	}
	var task sampling.Task = perturb.Task{}
	if c.Sampling.NoThinking {
		task = noThinking{task}
	}
	m, err := llama.Load(ctx, c.Backend.Model, &llama.ModelConfig{GPULayers: c.Backend.GPULayers})
	if err != nil {
		return sampling.Stats{}, err
	}
	defer m.Close()
	var lora *llama.LoRA
	if c.Backend.LoRA != "" {
		if lora, err = m.LoadLoRA(c.Backend.LoRA); err != nil {
			return sampling.Stats{}, err
		}
	}
	gens := make([]sampling.Generator, c.Backend.Concurrency)
	for i := range gens {
		cfg := llama.ExactSession(c.Backend.Context)
		if c.Backend.Fast {
			cfg = &llama.SessionConfig{ContextLen: c.Backend.Context}
		}
		cfg.Sequences = c.Sampling.K + 1
		cfg.Threads = c.Backend.Threads
		s, err := m.NewSession(cfg)
		if err != nil {
			return sampling.Stats{}, err
		}
		defer s.Close()
		if lora != nil {
			if err := s.SetLoRA(llama.Adapter{LoRA: lora, Scale: float32(c.Backend.LoRAScale)}); err != nil {
				return sampling.Stats{}, err
			}
		}
		gens[i] = llama.NewGenerator(s)
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return sampling.Stats{}, err
	}
	bar := newProgress(stderr, "sampling", len(items))
	defer bar.finish()
	return sampling.Run(ctx, &sampling.RunConfig{
		Items:      items,
		Task:       task,
		Generators: gens,
		Params:     c.params(),
		Out:        c.tracesPath(shard),
		Shard:      shard,
		Model:      c.modelName(),
		Backend:    "llama",
		TaskName:   c.taskName(),
		TokenIDs:   true,
		Progress: func(p sampling.Progress) {
			bar.set(p.Skipped+p.Done, p.Total)
		},
		ProgressInterval: 200 * time.Millisecond,
	})
}

// modelName is the model as the trace file's header records it: the GGUF,
// and the LoRA adapter with its scale when one is applied.
func (c *Config) modelName() string {
	if c.Backend.LoRA == "" {
		return c.Backend.Model
	}
	return fmt.Sprintf("%s + lora %s × %g", c.Backend.Model, c.Backend.LoRA, c.Backend.LoRAScale)
}
