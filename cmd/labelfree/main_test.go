package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func runArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(t.Context(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	notGGUF := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notGGUF, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"no command", nil, 2, ""},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"gen without out", []string{"model", "gen"}, 2, "--out is required"},
		{"gen unknown shape", []string{"model", "gen", "--shape", "huge", "--out", filepath.Join(dir, "x.gguf")}, 2, `unknown shape "huge"`},
		{"gen bad quant", []string{"model", "gen", "--out", filepath.Join(dir, "x.gguf"), "--quantize", "Q3"}, 2, `unknown quantization "Q3"`},
		{"model without gen", []string{"model"}, 2, "model gen"},
		{"unknown flag", []string{"logprobs", "--nope"}, 2, "flag provided but not defined"},
		{"logprobs without model", []string{"logprobs", "--prompt", "x"}, 2, "--model is required"},
		{"logprobs bad config", []string{"logprobs", "--model", notGGUF, "--prompt", "x", "--config", "fast"}, 2, `--config "fast"`},
		{"missing model file", []string{"logprobs", "--model", filepath.Join(dir, "none.gguf"), "--prompt", "x"}, 1, "no such file"},
		{"not a GGUF", []string{"logprobs", "--model", notGGUF, "--prompt", "x"}, 1, notGGUF + ": invalid GGUF at byte 0: bad magic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runArgs(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
	for _, args := range [][]string{{"--help"}, {"logprobs", "--help"}, {"model", "gen", "--help"}, {"version"}} {
		if code, _, _ := runArgs(t, args...); code != 0 {
			t.Errorf("%v: exit %d, want 0", args, code)
		}
	}
}

// TestDemo runs what make demo runs and checks that the printed agreement
// with the reference forward pass is within the 1e-4 of the exactness claim.
func TestDemo(t *testing.T) {
	model := filepath.Join(t.TempDir(), "tiny.gguf")
	if code, _, stderr := runArgs(t, "model", "gen", "--shape", "tiny", "--seed", "1", "--out", model); code != 0 {
		t.Fatalf("model gen: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := runArgs(t, "logprobs", "--model", model, "--reference", "--top", "5",
		"--prompt", "<|im_start|>user\nIs IRF1 up?<|im_end|>\n<|im_start|>assistant\n<think>")
	if code != 0 {
		t.Fatalf("logprobs: exit %d: %s", code, stderr)
	}
	m := regexp.MustCompile(`max \|llama.cpp − reference\| over all 261 tokens at all \d+ positions: (\S+) nats`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no agreement line in output:\n%s", stdout)
	}
	d, err := strconv.ParseFloat(m[1], 64)
	if err != nil || d > 1e-4 {
		t.Errorf("reported difference %s, want ≤ 1e-4", m[1])
	}
	if rows := regexp.MustCompile(`(?m)^\s+[1-5]\s+"`).FindAllString(stdout, -1); len(rows) != 5 {
		t.Errorf("expected 5 token rows, output:\n%s", stdout)
	}
}
