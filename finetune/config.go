package finetune

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Defaults of Config (the published recipe).
const (
	DefaultRank         = 32
	DefaultAlpha        = 32
	DefaultLearningRate = 1e-4
	DefaultBatchSize    = 4
	DefaultWarmupSteps  = 5
	DefaultScheduler    = "linear"
	DefaultMaxLength    = 4096
	DefaultGrace        = 30 * time.Second
	DefaultStderrLines  = 20
)

// DefaultTargetModules returns the modules LoRA adapts by default: the
// attention and MLP projections of a Llama/Qwen-style decoder.
func DefaultTargetModules() []string {
	return []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}
}

// VenvDir returns the directory of the virtual environment that
// `make setup-train` creates and that Train uses when neither
// Config.Python nor $LABELFREE_PYTHON names an interpreter:
// $XDG_CACHE_HOME/labelfree/venv-train (os.UserCacheDir).
func VenvDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finetune: %w", err)
	}
	return filepath.Join(d, "labelfree", "venv-train"), nil
}

// Config configures a training run. The fields with JSON names are the
// script's configuration file (qlora.py's DEFAULTS); the others control
// how the script is run. A nil *Config means the zero value; each field
// documents its zero value.
type Config struct {
	// Model is the base model: a Hugging Face model id or a local
	// directory. Train requires it; Check does not.
	Model string `json:"model,omitempty"`
	// OutputDir receives the checkpoints (checkpoint-N) and the adapter
	// (OutputDir/adapter). Train requires it; a run with the OutputDir of
	// an interrupted one resumes from its last checkpoint.
	OutputDir string `json:"output_dir,omitempty"`

	// Rank is the LoRA rank r; 0 means 32.
	Rank int `json:"rank"`
	// Alpha is LoRA's alpha (the update is scaled by Alpha/Rank); 0 means 32.
	Alpha float64 `json:"alpha"`
	// Dropout is LoRA's dropout probability, in [0, 1); 0 is the default.
	Dropout float64 `json:"dropout"`
	// TargetModules are the module names LoRA adapts; nil means
	// DefaultTargetModules.
	TargetModules []string `json:"target_modules"`
	// LearningRate is the peak learning rate; 0 means 1e-4.
	LearningRate float64 `json:"learning_rate"`
	// BatchSize is the per-device batch size; 0 means 4.
	BatchSize int `json:"batch_size"`
	// GradientAccumulation is the number of batches per optimiser step;
	// 0 means 1.
	GradientAccumulation int `json:"gradient_accumulation_steps"`
	// Epochs is the number of passes over the data; 0 means 1. MaxSteps,
	// when positive, overrides it.
	Epochs   float64 `json:"epochs"`
	MaxSteps int     `json:"max_steps"`
	// WarmupSteps is the number of linear warm-up steps; 0 means 5, and a
	// negative value means none.
	WarmupSteps int `json:"warmup_steps"`
	// Scheduler is the learning-rate schedule after warm-up, a name of
	// transformers' SchedulerType ("linear", "cosine", "constant", …);
	// "" means "linear".
	Scheduler string `json:"lr_scheduler"`
	// MaxLength is the maximum length of an example in tokens (longer
	// ones are truncated); 0 means 4096.
	MaxLength int `json:"max_length"`
	// Seed seeds the training run; 0 means the script's default, 3407.
	Seed int `json:"seed,omitempty"`
	// SaveSteps is the number of steps between checkpoints; 0 means 50.
	SaveSteps int `json:"save_steps,omitempty"`

	// Python is the interpreter to run. "" means $LABELFREE_PYTHON, else
	// the venv of VenvDir if it has bin/python, else python3 on $PATH.
	Python string `json:"-"`
	// Script is the path of the training script; "" means the qlora.py
	// embedded in this package, written to a temporary directory.
	Script string `json:"-"`
	// Env is added to the script's environment (for example
	// "CUDA_VISIBLE_DEVICES=0" or "HF_HOME=/data/hf").
	Env []string `json:"-"`
	// Grace is how long the script has to exit after SIGTERM before it
	// is killed; 0 means 30s.
	Grace time.Duration `json:"-"`
	// Log, if not nil, receives the script's stderr as it is written.
	Log io.Writer `json:"-"`
	// StderrLines is how many of the last stderr lines an error carries;
	// 0 means 20.
	StderrLines int `json:"-"`
}

// resolved returns a copy of c (nil: the zero Config) with the defaults
// filled in.
func resolved(c *Config) Config {
	var r Config
	if c != nil {
		r = *c
	}
	setDefault(&r.Rank, DefaultRank)
	setDefault(&r.Alpha, DefaultAlpha)
	if r.TargetModules == nil {
		r.TargetModules = DefaultTargetModules()
	}
	setDefault(&r.LearningRate, DefaultLearningRate)
	setDefault(&r.BatchSize, DefaultBatchSize)
	setDefault(&r.GradientAccumulation, 1)
	setDefault(&r.Epochs, 1)
	switch {
	case r.WarmupSteps == 0:
		r.WarmupSteps = DefaultWarmupSteps
	case r.WarmupSteps < 0:
		r.WarmupSteps = 0
	}
	setDefault(&r.Scheduler, DefaultScheduler)
	setDefault(&r.MaxLength, DefaultMaxLength)
	setDefault(&r.Grace, DefaultGrace)
	setDefault(&r.StderrLines, DefaultStderrLines)
	return r
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}
