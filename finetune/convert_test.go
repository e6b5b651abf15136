package finetune_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/finetune"
)

// TestConvertLoRA checks the command line ConvertLoRA runs, with the
// stand-in in place of python and the converter (the real one needs torch).
func TestConvertLoRA(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "llama.cpp")
	adapter := filepath.Join(dir, "adapter")
	for _, d := range []string{src, adapter} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "lora.gguf")
	c := &finetune.ConvertConfig{Source: src, Base: "/models/qwen3", Python: exe, Env: []string{standinEnv + "=convert"}}

	// Neither the script nor the adapter is there yet.
	if err := finetune.ConvertLoRA(t.Context(), adapter, out, c); err == nil || !strings.Contains(err.Error(), "convert_lora_to_gguf.py") {
		t.Errorf("without the script: %v", err)
	}
	script := filepath.Join(src, "convert_lora_to_gguf.py")
	os.WriteFile(script, nil, 0o644)
	if err := finetune.ConvertLoRA(t.Context(), adapter, out, c); err == nil || !strings.Contains(err.Error(), "not a PEFT adapter") {
		t.Errorf("without adapter_config.json: %v", err)
	}
	os.WriteFile(filepath.Join(adapter, "adapter_config.json"), []byte("{}"), 0o644)

	if err := finetune.ConvertLoRA(t.Context(), adapter, out, c); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	if err := json.Unmarshal(b, &args); err != nil {
		t.Fatal(err)
	}
	want := []string{script, "--outfile", out, "--outtype", "f32", "--base", "/models/qwen3", adapter}
	if !slices.Equal(args, want) {
		t.Errorf("command line %q, want %q", args, want)
	}
}
