package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/finetune"
)

// finetuneDir is where `labelfree finetune` writes inside OUT: the PEFT
// adapter and its checkpoints, and adapter.gguf for backend.lora.
const finetuneDir = "finetune"

// finetuneConfig builds the finetune.Config of c: its JSON settings file,
// if any, then the model, output directory and Python of c.
func (c *Config) finetuneConfig(stderr io.Writer) (*finetune.Config, error) {
	fc := &finetune.Config{}
	if c.Finetune.Config != "" {
		b, err := os.ReadFile(c.Finetune.Config)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, fc); err != nil {
			return nil, fmt.Errorf("%s: %w", c.Finetune.Config, err)
		}
	}
	fc.Model = c.Finetune.Model
	fc.OutputDir = filepath.Join(c.Out, finetuneDir, "adapter")
	fc.Python = c.Finetune.Python
	fc.Log = stderr
	return fc, nil
}

const finetuneHelp = "Fine-tunes finetune.model with QLoRA on OUT/sft/train.jsonl (and validation.jsonl) through the\n" +
	"pinned finetune/qlora.py, printing its progress; an interrupted training resumes from its last\n" +
	"checkpoint. Then converts the adapter to OUT/finetune/adapter.gguf with llama.cpp's\n" +
	"convert_lora_to_gguf.py, for backend.lora: the student is sampled, scored and evaluated by the\n" +
	"same pipeline as the teacher. Training needs a CUDA GPU and `make setup-train`; --check validates\n" +
	"the data and settings with python3 alone (no GPU, no packages)."

func runFinetune(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("finetune", finetuneHelp,
		`labelfree finetune --config run.yaml   # finetune: {model: Qwen/Qwen3-8B}`, stderr)
	load := configFlags(fs)
	checkOnly := fs.Bool("check", false, "only validate the SFT data and the settings (python3, no GPU)")
	asJSON := fs.Bool("json", false, "print progress and the result as JSON lines")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, err := load()
	if err != nil {
		return err
	}
	fc, err := c.finetuneConfig(stderr)
	if err != nil {
		return err
	}
	train := filepath.Join(c.path(sftDir), filter.TrainFile)
	validation := filepath.Join(c.path(sftDir), filter.ValidationFile)
	// Export writes no validation file when no group went there.
	if _, err := os.Stat(validation); errors.Is(err, os.ErrNotExist) {
		validation = ""
	}
	enc := json.NewEncoder(stdout)
	reports, warnings, err := finetune.Check(ctx, train, validation, fc)
	if err != nil {
		return err
	}
	if *asJSON {
		enc.Encode(map[string]any{"check": reports, "warnings": warnings})
	} else {
		for name, r := range reports {
			fmt.Fprintf(stdout, "check   %s: %d examples, classes %v\n", name, r.Examples, r.Classes)
		}
		for _, w := range warnings {
			fmt.Fprintln(stdout, "warning", w)
		}
	}
	if *checkOnly {
		return nil
	}
	if c.Finetune.Model == "" {
		return fmt.Errorf("%w: finetune.model: the Hugging Face model to fine-tune is required", errUsage)
	}
	res, err := finetune.Train(ctx, train, validation, fc, func(p finetune.Progress) {
		if *asJSON {
			enc.Encode(p)
			return
		}
		fmt.Fprintf(stdout, "step    %d/%d loss %.4f lr %.2e %.0f tokens/s eta %v\n",
			p.Step, p.TotalSteps, p.Loss, p.LearningRate, p.TokensPerSecond, p.ETA.Round(time.Second))
	})
	if err != nil {
		return err
	}
	gguf := filepath.Join(c.Out, finetuneDir, "adapter.gguf")
	if err := finetune.ConvertLoRA(ctx, res.AdapterDir, gguf, &finetune.ConvertConfig{Python: c.Finetune.Python}); err != nil {
		return err
	}
	if *asJSON {
		return enc.Encode(map[string]any{"adapter_dir": res.AdapterDir, "adapter_gguf": gguf, "steps": res.Steps, "train_loss": res.TrainLoss})
	}
	fmt.Fprintf(stdout, "finetune %d steps, train loss %.4f: %s (set backend.lora: %s to evaluate the student)\n",
		res.Steps, res.TrainLoss, res.AdapterDir, gguf)
	return nil
}
