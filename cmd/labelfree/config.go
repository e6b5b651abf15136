package main

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// Config is a pipeline run: what `labelfree run` reads from YAML, and what
// the stage commands build from their flags. Paths are relative to the
// configuration file's directory.
type Config struct {
	// Out is the directory every stage writes into (traces.jsonl,
	// scores.jsonl, selection.jsonl, sft/, report/).
	Out      string         `yaml:"out"`
	Task     TaskConfig     `yaml:"task"`
	Backend  BackendConfig  `yaml:"backend"`
	Sampling SamplingConfig `yaml:"sampling"`
	Scoring  ScoringConfig  `yaml:"scoring"`
	Filter   FilterConfig   `yaml:"filter"`
	Export   ExportConfig   `yaml:"export"`
	Finetune FinetuneConfig `yaml:"finetune"`
}

// FinetuneConfig configures `labelfree finetune`: QLoRA on OUT/sft through
// finetune/qlora.py (a CUDA GPU and `make setup-train`).
type FinetuneConfig struct {
	// Model is the Hugging Face model (id or directory) to fine-tune: the
	// checkpoint the GGUF of backend.model was made from.
	Model string `yaml:"model"`
	// Config is a JSON file of qlora.py settings (rank, alpha, learning
	// rate…; see finetune/README.md); empty means the defaults.
	Config string `yaml:"config"`
	// Python runs qlora.py; empty means $LABELFREE_PYTHON, the venv of make
	// setup-train, then python3.
	Python string `yaml:"python"`
}

// TaskConfig chooses the questions.
type TaskConfig struct {
	// Name is the task; "perturbqa" is the one built in.
	Name string `yaml:"name"`
	// Data is the PerturbQA directory ({cell}-de.csv, {cell}-dir.csv);
	// empty downloads the files into the cache.
	Data  string `yaml:"data"`
	Cell  string `yaml:"cell"`
	Split string `yaml:"split"`
	// N questions are drawn with Seed (perturb.Sample); 0 takes them all.
	N    int    `yaml:"n"`
	Seed uint64 `yaml:"seed"`
}

// BackendConfig chooses the model that generates the traces.
type BackendConfig struct {
	// Kind is "llama" (a local GGUF model through llama.cpp).
	Kind string `yaml:"kind"`
	// Model is the GGUF file.
	Model string `yaml:"model"`
	// GPULayers is the number of layers offloaded to a GPU; -1 offloads
	// all of them.
	GPULayers int `yaml:"gpu_layers"`
	// Context is each session's context length in tokens; it holds the
	// prompt and all K+1 traces of a question.
	Context int `yaml:"context"`
	// Threads for llama.cpp; 0 means all cores.
	Threads int `yaml:"threads"`
	// Fast uses llama.cpp's fast settings (F16 KV cache, flash attention
	// auto) instead of the exact ones (F32 KV cache, flash attention off);
	// see the README for what it shifts.
	Fast bool `yaml:"fast"`
	// Concurrency is the number of questions in flight, each on its own
	// session.
	Concurrency int `yaml:"concurrency"`
	// LoRA is a GGUF LoRA adapter applied to the model (e.g. the student
	// `labelfree finetune` trained, converted), so that the fine-tuned
	// model is sampled and evaluated by the same pipeline as the teacher.
	LoRA string `yaml:"lora"`
	// LoRAScale scales the adapter; 0 means 1.
	LoRAScale float64 `yaml:"lora_scale"`
}

// SamplingConfig are the settings of sampling.Params.
type SamplingConfig struct {
	K           int      `yaml:"k"`
	MaxTokens   int      `yaml:"max_tokens"`
	Temperature float64  `yaml:"temperature"`
	TopK        int      `yaml:"top_k"`
	TopP        float64  `yaml:"top_p"`
	MinP        float64  `yaml:"min_p"`
	Seed        uint64   `yaml:"seed"`
	Stop        []string `yaml:"stop"`
	NoThinking  bool     `yaml:"no_thinking"`
}

// ScoringConfig chooses the uncertainty estimators.
type ScoringConfig struct {
	Estimators []string `yaml:"estimators"`
	// Similarity for the consistency estimators: answer, jaccard or rougel.
	Similarity string `yaml:"similarity"`
}

// FilterConfig chooses what is kept.
type FilterConfig struct {
	// Strategy is per-class, global or random.
	Strategy string `yaml:"strategy"`
	// Estimator ranks the groups; lower uncertainty is kept first.
	Estimator string `yaml:"estimator"`
	// Fraction of each class (per-class) or of all groups (global) kept,
	// in (0, 1].
	Fraction float64 `yaml:"fraction"`
	// Seed of the random strategy.
	Seed uint64 `yaml:"seed"`
}

// ExportConfig configures the SFT export.
type ExportConfig struct {
	// Validation is the fraction of kept groups in validation.jsonl.
	Validation float64 `yaml:"validation"`
}

// defaults fills zero fields.
func (c *Config) defaults() {
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&c.Out, "out")
	set(&c.Task.Name, "perturbqa")
	set(&c.Task.Cell, "k562")
	set(&c.Task.Split, "test")
	set(&c.Backend.Kind, "llama")
	if c.Backend.Context == 0 {
		c.Backend.Context = 4096
	}
	if c.Backend.Concurrency == 0 {
		c.Backend.Concurrency = 1
	}
	if c.Backend.LoRAScale == 0 {
		c.Backend.LoRAScale = 1
	}
	if c.Sampling.K == 0 {
		c.Sampling.K = 4
	}
	if c.Scoring.Estimators == nil {
		c.Scoring.Estimators = []string{"cocoa-ppl", "self-consistency", "log-perplexity", "msp", "mte"}
	}
	set(&c.Scoring.Similarity, "answer")
	set(&c.Filter.Strategy, "per-class")
	set(&c.Filter.Estimator, "cocoa-ppl")
	if c.Filter.Fraction == 0 {
		c.Filter.Fraction = 0.5
	}
	if c.Export.Validation == 0 {
		c.Export.Validation = 0.1
	}
}

// validate reports the first field outside its range, named as in YAML.
func (c *Config) validate() error {
	switch {
	case c.Task.Name != "perturbqa":
		return fmt.Errorf("task.name %q: the built-in task is perturbqa", c.Task.Name)
	case c.Task.N < 0:
		return fmt.Errorf("task.n %d: must be at least 0", c.Task.N)
	case c.Backend.Kind != "llama":
		return fmt.Errorf("backend.kind %q: want llama", c.Backend.Kind)
	case c.Backend.Model == "":
		return errors.New("backend.model: a GGUF model file is required")
	case c.Backend.Context < 64:
		return fmt.Errorf("backend.context %d: must be at least 64", c.Backend.Context)
	case c.Backend.Concurrency < 1:
		return fmt.Errorf("backend.concurrency %d: must be at least 1", c.Backend.Concurrency)
	case c.Backend.LoRAScale < 0:
		return fmt.Errorf("backend.lora_scale %g: must be at least 0", c.Backend.LoRAScale)
	case c.Backend.Threads < 0:
		return fmt.Errorf("backend.threads %d: must be at least 0", c.Backend.Threads)
	case c.Sampling.K < 0:
		return fmt.Errorf("sampling.k %d: must be at least 0", c.Sampling.K)
	case c.Filter.Fraction <= 0 || c.Filter.Fraction > 1:
		return fmt.Errorf("filter.fraction %g: must be in (0, 1]", c.Filter.Fraction)
	case c.Export.Validation < 0 || c.Export.Validation >= 1:
		return fmt.Errorf("export.validation %g: must be in [0, 1)", c.Export.Validation)
	}
	switch c.Filter.Strategy {
	case "per-class", "global", "random":
	default:
		return fmt.Errorf("filter.strategy %q: want per-class, global or random", c.Filter.Strategy)
	}
	return c.params().Validate()
}

// decodeConfig reads YAML strictly: unknown fields are errors with their
// line, so a typo never silently falls back to a default.
func decodeConfig(r io.Reader, name string) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty configuration", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &c, nil
}

// loadConfig reads a configuration file; relative paths in it are taken
// relative to the file's directory.
func loadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := decodeConfig(bytes.NewReader(data), path)
	if err != nil {
		return nil, err
	}
	c.resolve(filepath.Dir(path))
	return c, nil
}

// resolve makes the paths of c relative to dir absolute-or-cwd-relative.
func (c *Config) resolve(dir string) {
	for _, p := range []*string{&c.Out, &c.Task.Data, &c.Backend.Model, &c.Backend.LoRA, &c.Finetune.Config} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}
