package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/sampling"
)

// TestShardedSample is the sharding test of the command: two shards of
// sample (the second with its index from SLURM_ARRAY_TASK_ID), joined by
// merge, equal an unsharded sample byte for byte, and run continues from
// the merged file without generating anything.
func TestShardedSample(t *testing.T) {
	const n = 12
	dir := t.TempDir()
	cfg := writeFixture(t, dir, n)
	whole, sharded := filepath.Join(dir, "whole"), filepath.Join(dir, "sharded")
	if code, stdout, stderr := runArgs(t, "sample", "--config", cfg, "--out", whole); code != 0 {
		t.Fatalf("unsharded sample: exit %d\n%s%s", code, stdout, stderr)
	}
	want := readFile(t, filepath.Join(whole, tracesFile))

	code, stdout, stderr := runArgs(t, "sample", "--config", cfg, "--out", sharded, "--shard", "0/2")
	if code != 0 || !strings.Contains(stdout, "questions of shard 0/2") || !strings.Contains(stdout, filepath.Join(sharded, "traces.shard-0-of-2.jsonl")) {
		t.Fatalf("sample --shard 0/2: exit %d\n%s%s", code, stdout, stderr)
	}
	unsetenv(t, "JOB_COMPLETION_INDEX")
	t.Setenv("SLURM_ARRAY_TASK_ID", "1")
	if code, stdout, stderr := runArgs(t, "sample", "--config", cfg, "--out", sharded, "--shard", "auto/2"); code != 0 {
		t.Fatalf("sample --shard auto/2: exit %d\n%s%s", code, stdout, stderr)
	}
	total := 0
	for i := range 2 {
		h, gs, err := sampling.ReadFile(filepath.Join(sharded, shardFile(sampling.Shard{Index: i, Count: 2})))
		if err != nil {
			t.Fatal(err)
		}
		if h.Shard != (sampling.Shard{Index: i, Count: 2}) || len(gs) == 0 || len(gs) == n {
			t.Errorf("shard file %d: header shard %v, %d of %d groups", i, h.Shard, len(gs), n)
		}
		total += len(gs)
	}
	if total != n {
		t.Errorf("the shards hold %d groups for %d questions", total, n)
	}
	if _, err := os.Stat(filepath.Join(sharded, tracesFile)); !os.IsNotExist(err) {
		t.Errorf("a sharded sample wrote %s: %v", tracesFile, err)
	}

	for range 2 { // merging twice replaces the merged file with the same bytes
		code, stdout, stderr = runArgs(t, "merge", "--config", cfg, "--out", sharded)
		if code != 0 || !strings.Contains(stdout, "12 questions from 2 shard files") {
			t.Fatalf("merge: exit %d\n%s%s", code, stdout, stderr)
		}
		if got := readFile(t, filepath.Join(sharded, tracesFile)); !bytes.Equal(got, want) {
			t.Fatalf("merged shards differ from an unsharded sample:\n%.800s\nwant\n%.800s", got, want)
		}
	}

	code, stdout, stderr = runArgs(t, "run", "--config", cfg, "--out", sharded, "--json")
	var rs []result
	if err := json.Unmarshal([]byte(stdout), &rs); code != 0 || err != nil {
		t.Fatalf("run after merge: exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	if rs[0].Stage != "sample" || !rs[0].Skipped {
		t.Errorf("run after merge sampled again: %+v", rs[0])
	}
	checkOutputs(t, sharded, n)
}

// TestShardErrors checks the messages and exit codes of bad --shard values
// and of merges that cannot be done, and merging named files into another
// directory.
func TestShardErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFixture(t, dir, 6)
	out := filepath.Join(dir, "out")
	unsetenv(t, "SLURM_ARRAY_TASK_ID")
	unsetenv(t, "JOB_COMPLETION_INDEX")
	for _, tt := range []struct {
		shard, env, want string
	}{
		{"2/2", "", `--shard "2/2": shard 2/2: want 0 ≤ index < count`},
		{"1", "", `--shard "1": shard "1": want i/n`},
		{"auto/x", "", `--shard "auto/x": want auto/n with an integer n ≥ 1`},
		{"auto/0", "", `want auto/n with an integer n ≥ 1`},
		{"auto/2", "", "neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set"},
		{"auto/2", "5", "SLURM_ARRAY_TASK_ID=5: shard 5/2"},
	} {
		if tt.env != "" {
			t.Setenv("SLURM_ARRAY_TASK_ID", tt.env)
		}
		code, _, stderr := runArgs(t, "sample", "--config", cfg, "--shard", tt.shard)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("--shard %s (SLURM_ARRAY_TASK_ID %q): exit %d, stderr %q; want exit 2 and %q", tt.shard, tt.env, code, stderr, tt.want)
		}
	}

	merge := func(args ...string) (int, string) {
		t.Helper()
		code, _, stderr := runArgs(t, append([]string{"merge", "--config", cfg}, args...)...)
		return code, stderr
	}
	if code, stderr := merge(); code != 1 || !strings.Contains(stderr, "no shard files") {
		t.Errorf("merge without shard files: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runArgs(t, "sample", "--config", cfg, "--shard", "0/2"); code != 0 {
		t.Fatalf("sample --shard 0/2: exit %d: %s", code, stderr)
	}
	if code, stderr := merge(); code != 1 || !strings.Contains(stderr, "no file for shard 1/2") {
		t.Errorf("merge of one shard of two: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runArgs(t, "sample", "--config", cfg, "--shard", "1/2"); code != 0 {
		t.Fatalf("sample --shard 1/2: exit %d: %s", code, stderr)
	}
	// A stray file of another shard count: merge wants to be told which.
	if err := os.WriteFile(filepath.Join(out, "traces.shard-0-of-3.jsonl"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stderr := merge(); code != 2 || !strings.Contains(stderr, "shard files of 2 and 3 shards: choose with --shards") {
		t.Errorf("merge with two shard counts: exit %d, %q", code, stderr)
	}
	if code, stderr := merge("--shards", "4"); code != 1 || !strings.Contains(stderr, "no files of 4 shards") {
		t.Errorf("merge --shards 4: exit %d, %q", code, stderr)
	}
	// An existing trace file of another run is not replaced.
	other := []byte(`{"labelfree":"traces","version":1,"run":{"model":{"name":"other.gguf"},"backend":"llama","task":"t","params":{"samples":1,"max_tokens":1,"temperature":1,"top_k":1,"top_p":1,"min_p":0},"seed":0}}` + "\n")
	if err := os.WriteFile(filepath.Join(out, tracesFile), other, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stderr := merge("--shards", "2"); code != 1 || !strings.Contains(stderr, "comes from another run") {
		t.Errorf("merge over another run's traces: exit %d, %q", code, stderr)
	}
	if got := readFile(t, filepath.Join(out, tracesFile)); !bytes.Equal(got, other) {
		t.Error("a refused merge changed traces.jsonl")
	}

	// Named files, into a directory that does not exist yet.
	s0, s1 := filepath.Join(out, "traces.shard-0-of-2.jsonl"), filepath.Join(out, "traces.shard-1-of-2.jsonl")
	elsewhere := filepath.Join(dir, "elsewhere")
	if code, stderr := merge("--out", elsewhere, s1, s0); code != 0 {
		t.Fatalf("merge of named files: exit %d, %q", code, stderr)
	}
	if _, gs, err := sampling.ReadFile(filepath.Join(elsewhere, tracesFile)); err != nil || len(gs) != 6 {
		t.Errorf("merged file: %d groups, %v", len(gs), err)
	}
	if code, stderr := merge("--shards", "2", s0, s1); code != 2 || !strings.Contains(stderr, "not both") {
		t.Errorf("merge with files and --shards: exit %d, %q", code, stderr)
	}
	// An unfinished shard: its last line torn by a crash.
	b := readFile(t, s1)
	if err := os.WriteFile(s1, b[:len(b)-10], 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stderr := merge("--out", elsewhere, s0, s1); code != 1 || !strings.Contains(stderr, "torn last line") {
		t.Errorf("merge with a torn shard: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runArgs(t, "merge", "--help"); code != 0 || !strings.Contains(stderr, "Example:") {
		t.Errorf("merge --help: exit %d, want 0 and an example", code)
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// unsetenv unsets name for the test, restoring it afterwards.
func unsetenv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "") // registers the restore
	os.Unsetenv(name)
}
