package report_test

import (
	"bytes"
	"encoding/csv"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/eval"
	"github.com/labelfree/labelfree/eval/report"
	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/internal/figure/figuretest"
	"github.com/labelfree/labelfree/score"
)

// analysis runs the pipeline on the fixture trace file testdata/traces.jsonl
// (written by testdata/gen_traces.go): score it with the score package's
// default estimators, load scores and answer counts, analyse.
func analysis(t *testing.T) (*eval.Analysis, *filter.Selection) {
	t.Helper()
	dir := t.TempDir()
	traces := filepath.Join("testdata", "traces.jsonl")
	scores := filepath.Join(dir, "scores.jsonl")
	if _, err := score.File(t.Context(), traces, scores, &score.Config{Workers: 1}); err != nil {
		t.Fatal(err)
	}
	in, err := eval.Load(t.Context(), scores, traces)
	if err != nil {
		t.Fatal(err)
	}
	// Three of the five estimators keep the test fast; each is drawn the
	// same way.
	a, err := eval.Analyze(t.Context(), in, &eval.Config{
		Estimators: []string{"cocoa-ppl", "self-consistency", "msp"},
		Fractions:  []float64{0.25, 0.5, 0.75, 1}, Bins: 5, SummaryFraction: 0.5,
	})
	if err != nil {
		t.Fatal(err)
	}
	sel, err := filter.File(t.Context(), scores, filepath.Join(dir, "selection.jsonl"), filter.PerClass{Estimator: "msp", Fraction: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	return a, sel
}

func TestWrite(t *testing.T) {
	a, sel := analysis(t)
	if a.AUC == nil || !a.AUCFromVotes {
		t.Fatalf("the fixture should give auc_per_gene from votes (skip: %s)", a.AUCSkip)
	}
	dir := t.TempDir()
	opts := &report.Options{Title: "fixture", Note: "From testdata/traces.jsonl.", Selections: []*filter.Selection{sel}}
	if err := report.Write(t.Context(), dir, a, opts); err != nil {
		t.Fatal(err)
	}

	// Every link of index.md points to a file, and every file written is
	// linked.
	index, err := os.ReadFile(filepath.Join(dir, "index.md"))
	if err != nil {
		t.Fatal(err)
	}
	var linked []string
	for _, m := range regexp.MustCompile(`\]\(([^)]+)\)`).FindAllStringSubmatch(string(index), -1) {
		if !slices.Contains(linked, m[1]) {
			linked = append(linked, m[1])
		}
	}
	var written []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if rel != "index.md" {
			written = append(written, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(linked)
	slices.Sort(written)
	if !slices.Equal(linked, written) {
		t.Errorf("index.md links\n%v\nfiles written\n%v", linked, written)
	}
	for _, want := range []string{
		"tables/classification.csv", "tables/confusion.md", "tables/auc_per_gene.csv", "tables/estimators.csv",
		"tables/retention.csv", "tables/filter_summary.csv", "tables/reliability.md",
		"plots/reliability.png", "plots/reliability.svg", "plots/uncertainty-msp.png",
		"plots/retention-accuracy-msp.svg", "plots/retention-f1-cocoa-ppl.png", "plots/retention-kept-self-consistency.png",
	} {
		if !slices.Contains(written, want) {
			t.Errorf("%s not written", want)
		}
	}

	for _, name := range written {
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(name) {
		case ".csv":
			checkCSV(t, name, b)
		case ".png":
			figuretest.CheckPNG(t, name, b)
		case ".svg":
			figuretest.CheckSVG(t, name, b)
		case ".md":
			if !bytes.HasPrefix(b, []byte("# ")) || !bytes.Contains(b, []byte("\n| ")) {
				t.Errorf("%s: not a titled Markdown table", name)
			}
		}
	}

	// The retention table has a row per estimator, strategy and fraction.
	rows := readCSV(t, filepath.Join(dir, "tables", "retention.csv"))
	if want := 1 + len(a.Estimators)*3*len(a.Fractions); len(rows) != want {
		t.Errorf("retention.csv has %d lines, want %d", len(rows), want)
	}
	// The filter summary lists the selection file too.
	if b, _ := os.ReadFile(filepath.Join(dir, "tables", "filter_summary.csv")); !bytes.Contains(b, []byte("selection file of ")) {
		t.Error("filter_summary.csv does not list the selection file")
	}

	// Same input, same bytes.
	again := t.TempDir()
	if err := report.Write(t.Context(), again, a, opts); err != nil {
		t.Fatal(err)
	}
	for _, name := range append(written, "index.md") {
		b1, _ := os.ReadFile(filepath.Join(dir, name))
		b2, err := os.ReadFile(filepath.Join(again, name))
		if err != nil || !bytes.Equal(b1, b2) {
			t.Errorf("%s differs between two writes (%v)", name, err)
		}
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// checkCSV parses b as CSV: a header and at least one row, all of the
// header's width (csv.Reader checks the widths).
func checkCSV(t *testing.T, name string, b []byte) {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	if len(rows) < 2 {
		t.Errorf("%s: %d lines, want a header and rows", name, len(rows))
	}
}

// TestWriteDistinctNames checks that estimators whose file names would
// collide are refused instead of overwriting each other's plots.
func TestWriteDistinctNames(t *testing.T) {
	a := &eval.Analysis{PerEstimator: []*eval.EstimatorAnalysis{{Name: "a.b"}, {Name: "a/b"}}}
	if err := report.Write(t.Context(), t.TempDir(), a, nil); err == nil || !strings.Contains(err.Error(), "file name") {
		t.Errorf("error %v, want a file name collision", err)
	}
}
