//go:build cgo

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/internal/testmodel"
	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/score"
)

var (
	perts = []string{"STAT1", "GATA1", "MYC", "TP53"}
	genes = []string{"IRF1", "HBG1", "CD38", "NPM1", "CDKN1A", "TAL1", "SOCS3", "MDM2", "KLF1", "GBP1", "LMO2", "RPL3", "BAX"}
)

// writeData writes a PerturbQA-shaped k562 data set of n train pairs
// (every third one differentially expressed, alternately up and down) into
// dir.
func writeData(t *testing.T, dir string, n int) {
	t.Helper()
	var de, dirCSV bytes.Buffer
	de.WriteString("pert,gene,label,split\n")
	dirCSV.WriteString("pert,gene,label,split\n")
	for i := range n {
		pert, gene := perts[i%len(perts)], genes[i%len(genes)]
		if i%3 == 0 {
			fmt.Fprintf(&de, "%s,%s,1,train\n", pert, gene)
			fmt.Fprintf(&dirCSV, "%s,%s,%d,train\n", pert, gene, i%2)
		} else {
			fmt.Fprintf(&de, "%s,%s,0,train\n", pert, gene)
		}
	}
	for name, b := range map[string][]byte{"k562-de.csv": de.Bytes(), "k562-dir.csv": dirCSV.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRun runs the example on labelfree's toy reasoner (a tiny model with
// hand-set weights whose answers mean nothing) and six questions, and
// checks every file it writes.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "toy.gguf")
	if err := testmodel.WriteToy(model, 7); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	writeData(t, data, 12)
	out := filepath.Join(dir, "out")
	args := []string{"-model", model, "-data", data, "-n", "6", "-k", "4", "-max-tokens", "48", "-threads", "1", "-out", out, "-mark", "TOY MODEL"}

	var stdout bytes.Buffer
	start := time.Now()
	if err := run(t.Context(), args, &stdout); err != nil {
		t.Fatal(err)
	}
	t.Logf("ran in %v:\n%s", time.Since(start), stdout.String())
	lines := strings.Split(stdout.String(), "\n")
	for i, prefix := range []string{"sample: 6 questions (0 already done), r0 + 4 samples each", "score:  6 groups", "filter: kept", "export:", "report:"} {
		if i >= len(lines) || !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d of the output does not start with %q", i+1, prefix)
		}
	}

	_, groups, err := sampling.ReadFile(filepath.Join(out, "traces.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 6 {
		t.Errorf("trace file: %d groups, want 6", len(groups))
	}
	for _, g := range groups {
		if len(g.Traces) != 5 || !g.Traces[0].Greedy || g.Item.Label == "" {
			t.Errorf("group %s: %d traces, label %q; want r0 first, 4 samples and a label", g.Item.ID, len(g.Traces), g.Item.Label)
		}
	}
	_, recs, err := score.ReadFile(filepath.Join(out, "scores.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 {
		t.Errorf("score file: %d records, want 6", len(recs))
	}
	sel, err := filter.ReadFile(filepath.Join(out, "selection.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sel.Header.Summary; sum.Strategy != filter.NamePerClass || sum.Kept == 0 || sum.Kept != len(sel.Records) {
		t.Errorf("selection: strategy %s, summary says %d kept, file has %d records", sum.Strategy, sum.Kept, len(sel.Records))
	}
	for _, c := range sel.Header.Summary.Classes {
		if want := filter.Size(0.5, c.Eligible); c.Kept != want {
			t.Errorf("selection: class %s keeps %d of %d, want ⌈0.5·%d⌉ = %d", c.Class, c.Kept, c.Eligible, c.Eligible, want)
		}
	}
	train, err := os.ReadFile(filepath.Join(out, "sft", filter.TrainFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(train, []byte(`"role":"assistant"`)) {
		t.Errorf("%s has no assistant message:\n%s", filter.TrainFile, train)
	}
	index, err := os.ReadFile(filepath.Join(out, "report", "index.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(index, []byte("TOY MODEL")) {
		t.Error("the report's index.md does not carry the mark TOY MODEL")
	}

}

// TestFlags checks that a missing model and bad counts are errors.
func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-model", "m.gguf", "-n", "0"},
		{"-model", "m.gguf", "-k", "-1"},
	} {
		if err := run(t.Context(), args, new(bytes.Buffer)); err == nil {
			t.Errorf("run(%q) succeeded, want an error", args)
		}
	}
}
