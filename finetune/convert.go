package finetune

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// LlamaTag is the llama.cpp release whose convert_lora_to_gguf.py
// ConvertLoRA runs: the one the llama package is built against.
const LlamaTag = "v0.5.0"

// ConvertConfig configures ConvertLoRA. A nil *ConvertConfig means the zero
// value; each field documents its zero value.
type ConvertConfig struct {
	// Source is the llama.cpp source tree holding convert_lora_to_gguf.py,
	// its conversion/ package and gguf-py/. "" means the src/ directory of
	// the prefix scripts/install-llama.sh installs:
	// $LABELFREE_LLAMA_PREFIX, else $XDG_CACHE_HOME/labelfree/llama.cpp-v0.5.0.
	Source string
	// Base is a directory with the base model's Hugging Face config.json
	// (and tokenizer files; weights are not needed). "" lets the script
	// take the base model from the adapter's adapter_config.json, which
	// downloads its config from the Hugging Face Hub.
	Base string
	// OutType is the tensor type of the GGUF: "f32", "f16", "bf16",
	// "q8_0" or "auto"; "" means "f32", which keeps the adapter exact.
	OutType string
	// Python is the interpreter; "" means as for Config.Python. Its
	// environment needs the packages of the source tree's
	// requirements/requirements-convert_lora_to_gguf.txt (torch,
	// transformers, safetensors, numpy, sentencepiece; a CPU torch is
	// enough), which are not those of requirements.txt.
	Python string
	// Env, Grace, Log and StderrLines are as in Config.
	Env         []string
	Grace       time.Duration
	Log         io.Writer
	StderrLines int
}

// llamaSource returns the default ConvertConfig.Source.
func llamaSource() (string, error) {
	if p := os.Getenv("LABELFREE_LLAMA_PREFIX"); p != "" {
		return filepath.Join(p, "src"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finetune: %w", err)
	}
	return filepath.Join(d, "labelfree", "llama.cpp-"+LlamaTag, "src"), nil
}

// ConvertLoRA converts the PEFT adapter in adapterDir (Result.AdapterDir:
// adapter_config.json and adapter_model.safetensors) to a GGUF LoRA
// adapter at out, which llama.Model.LoadLoRA loads, by running llama.cpp's
// convert_lora_to_gguf.py from the pinned source tree. It needs that
// script's Python packages (see ConvertConfig.Python) but no GPU.
// Cancellation is as for Train.
func ConvertLoRA(ctx context.Context, adapterDir, out string, c *ConvertConfig) error {
	var cc ConvertConfig
	if c != nil {
		cc = *c
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("finetune: %w", err)
	}
	if cc.Source == "" {
		s, err := llamaSource()
		if err != nil {
			return err
		}
		cc.Source = s
	}
	script := filepath.Join(cc.Source, "convert_lora_to_gguf.py")
	if _, err := os.Stat(script); err != nil {
		return fmt.Errorf("finetune: convert: %w (install llama.cpp's source with scripts/install-llama.sh, or set ConvertConfig.Source)", err)
	}
	if _, err := os.Stat(filepath.Join(adapterDir, "adapter_config.json")); err != nil {
		return fmt.Errorf("finetune: convert: %s is not a PEFT adapter: %w", adapterDir, err)
	}
	setDefault(&cc.OutType, "f32")
	setDefault(&cc.Grace, DefaultGrace)
	setDefault(&cc.StderrLines, DefaultStderrLines)
	python, err := findPython(cc.Python)
	if err != nil {
		return err
	}
	args := []string{script, "--outfile", out, "--outtype", cc.OutType}
	if cc.Base != "" {
		args = append(args, "--base", cc.Base)
	}
	args = append(args, adapterDir)
	if err := execScript(ctx, python, args, cc.Env, cc.Grace, cc.StderrLines, cc.Log, nil); err != nil {
		return err
	}
	if _, err := os.Stat(out); err != nil {
		return fmt.Errorf("finetune: convert: the script wrote no %s: %w", out, err)
	}
	return nil
}
