package sampling_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/samplingtest"
)

// runShards runs each of n shards of items into its own file in dir and
// returns the files, in shard order.
func runShards(t *testing.T, f *samplingtest.Fake, items []sampling.Item, dir string, n int) []string {
	t.Helper()
	files := make([]string, n)
	total := 0
	for k := range n {
		files[k] = filepath.Join(dir, fmt.Sprintf("shard-%d.jsonl", k))
		c := fakeConfig(f, items, files[k], 2, nil)
		c.Shard = sampling.Shard{Index: k, Count: n}
		st, err := sampling.Run(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		if st.Total == 0 || st.Total == len(items) {
			t.Errorf("shard %d/%d holds %d of %d items", k, n, st.Total, len(items))
		}
		total += st.Done
	}
	if total != len(items) {
		t.Errorf("the shards generated %d groups for %d items", total, len(items))
	}
	return files
}

// TestShardsMerge is the shard test: n = 3 shards merged equal one
// unsharded run, byte for byte.
func TestShardsMerge(t *testing.T) {
	f := &samplingtest.Fake{}
	items := f.Items(30)
	dir := t.TempDir()
	want := reference(t, fakeConfig(f, items, "", 1, nil))
	files := runShards(t, f, items, dir, 3)
	out := filepath.Join(dir, "merged.jsonl")
	// Shards in any order.
	if err := sampling.Merge(t.Context(), out, items, files[2], files[0], files[1]); err != nil {
		t.Fatal(err)
	}
	if got := readBytes(t, out); !bytes.Equal(got, want) {
		t.Errorf("merged shards differ from an unsharded run:\n%s\nwant\n%s", got, want)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 4 {
		t.Errorf("directory holds %d files (%v), want the 3 shards and the merge, no temporary file", len(ents), err)
	}
}

func TestMergeErrors(t *testing.T) {
	f := &samplingtest.Fake{}
	items := f.Items(30)
	dir := t.TempDir()
	files := runShards(t, f, items, dir, 3)
	// A shard of another run.
	otherDir := t.TempDir()
	other := &samplingtest.Fake{}
	otherFiles := make([]string, 3)
	for k := range 3 {
		otherFiles[k] = filepath.Join(otherDir, fmt.Sprintf("shard-%d.jsonl", k))
		c := fakeConfig(other, items, otherFiles[k], 1, nil)
		c.Shard = sampling.Shard{Index: k, Count: 3}
		c.Params.Temperature = 1
		if _, err := sampling.Run(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	torn := filepath.Join(dir, "torn.jsonl")
	b := readBytes(t, files[1])
	if err := os.WriteFile(torn, b[:len(b)-5], 0o644); err != nil {
		t.Fatal(err)
	}
	whole := filepath.Join(dir, "whole.jsonl")
	if _, err := sampling.Run(t.Context(), fakeConfig(f, items, whole, 1, nil)); err != nil {
		t.Fatal(err)
	}
	more := append(items[:len(items):len(items)], f.Items(45)[30:]...)

	tests := []struct {
		name  string
		items []sampling.Item
		files []string
		want  string
		dup   bool
	}{
		{"no files", items, nil, "no input files", false},
		{"a shard missing", items, []string{files[0], files[2]}, "no file for shard 1/3", false},
		{"a shard twice", items, []string{files[0], files[1], files[1], files[2]}, "are both shard 1/3", false},
		{"another run", items, []string{files[0], otherFiles[1], files[2]}, `temperature: "0.6" in ` + files[0] + `, "1" in ` + otherFiles[1], false},
		{"torn shard", items, []string{files[0], torn, files[2]}, "torn last line", false},
		{"unknown item", items[:20], files, "is not one of the items being merged", false},
		{"missing items", more, files, "15 of 45 items have no group: q0030, q0031, q0032, q0033, q0034, q0035, q0036, q0037, q0038, q0039, … (5 more)", false},
		{"sharded and unsharded", items, []string{files[0], whole}, "of another count", false},
		{"a group twice", items, []string{whole, whole}, `duplicate id "q0000" (also in ` + whole + `:2)`, true},
		{"duplicate items", append(items[:len(items):len(items)], items[0]), files, `items 0 and 30: duplicate id "q0000"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "merged.jsonl")
			err := sampling.Merge(t.Context(), out, tt.items, tt.files...)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "sampling: ") {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
			if tt.dup && !errors.Is(err, sampling.ErrDuplicateID) {
				t.Errorf("error %v does not wrap ErrDuplicateID", err)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a failed merge wrote its output")
			}
		})
	}
}
