package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/labelfree/labelfree/eval"
	"github.com/labelfree/labelfree/eval/report"
	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/score"
)

// A stage after sampling reads files and writes files. Its stamp, written
// into OUT/.stamps/ after the stage succeeded, records the SHA-256 of each
// input and the settings the stage used; a stage whose stamp matches and
// whose outputs exist is skipped. Sampling has no stamp: the runner itself
// resumes and skips what the trace file already holds.
type stamp struct {
	Inputs   map[string]string `json:"inputs"`
	Settings json.RawMessage   `json:"settings"`
}

func (c *Config) stampPath(stage string) string {
	return filepath.Join(c.Out, ".stamps", stage+".json")
}

// newStamp hashes the inputs and encodes the settings.
func newStamp(settings any, inputs ...string) (*stamp, error) {
	s := &stamp{Inputs: map[string]string{}}
	for _, in := range inputs {
		sum, err := fileSHA256(in)
		if err != nil {
			return nil, err
		}
		s.Inputs[filepath.Base(in)] = sum
	}
	b, err := json.Marshal(settings)
	if err != nil {
		return nil, err
	}
	s.Settings = b
	return s, nil
}

// upToDate reports whether stage last ran with st and its outputs exist.
func (c *Config) upToDate(stage string, st *stamp, outputs ...string) bool {
	b, err := os.ReadFile(c.stampPath(stage))
	if err != nil {
		return false
	}
	want, _ := json.Marshal(st)
	if string(b) != string(want) {
		return false
	}
	for _, o := range outputs {
		if _, err := os.Stat(o); err != nil {
			return false
		}
	}
	return true
}

// done records st as stage's stamp.
func (c *Config) done(stage string, st *stamp) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.stampPath(stage)), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(c.stampPath(stage), b)
}

// fileSHA256 is score.FileSHA256, remembered for the process by path,
// size and modification time: the stages of one run stamp the same trace
// file (GBs for real traces) and would otherwise read it once each.
func fileSHA256(name string) (string, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return "", err
	}
	key := fmt.Sprintf("%s\x00%d\x00%d", name, fi.Size(), fi.ModTime().UnixNano())
	if sum, ok := hashes[key]; ok {
		return sum, nil
	}
	sum, err := score.FileSHA256(name)
	if err != nil {
		return "", err
	}
	hashes[key] = sum
	return sum, nil
}

// hashes memoises fileSHA256; the pipeline's stages run one at a time.
var hashes = map[string]string{}

func writeFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// result is what a stage reports: a line for people, an object for --json.
type result struct {
	Stage   string `json:"stage"`
	Skipped bool   `json:"skipped,omitempty"`
	Output  string `json:"output"`
	Detail  any    `json:"detail,omitempty"`
	line    string
}

// scoreStage computes the uncertainty estimators of every group.
func scoreStage(ctx context.Context, c *Config) (*result, error) {
	traces, out := c.path(tracesFile), c.path(scoresFile)
	cfg := &score.Config{Estimators: c.Scoring.Estimators, Similarity: c.Scoring.Similarity}
	if ok, err := score.UpToDate(out, traces, cfg); err == nil && ok {
		return &result{Stage: "score", Skipped: true, Output: out, line: "up to date"}, nil
	}
	// An interrupted or outdated score file is rewritten: scoring is fast
	// next to sampling.
	if err := os.Remove(out); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	st, err := score.File(ctx, traces, out, cfg)
	if err != nil {
		return nil, err
	}
	return &result{Stage: "score", Output: out, Detail: st,
		line: fmt.Sprintf("%d groups scored, %d with an unparsable greedy answer", st.Groups, st.Unparsable)}, nil
}

// strategy is the filter.Strategy of c.
func (c *Config) strategy() filter.Strategy {
	f := c.Filter
	switch f.Strategy {
	case "global":
		return filter.Global{Estimator: f.Estimator, Fraction: f.Fraction}
	case "random":
		return filter.Random{Seed: f.Seed, Fraction: f.Fraction, Estimator: f.Estimator}
	}
	return filter.PerClass{Estimator: f.Estimator, Fraction: f.Fraction}
}

// filterStage keeps the low-uncertainty groups.
func filterStage(ctx context.Context, c *Config) (*result, error) {
	scores, out := c.path(scoresFile), c.path(selectionFile)
	st, err := newStamp(c.Filter, scores)
	if err != nil {
		return nil, err
	}
	if c.upToDate("filter", st, out) {
		return &result{Stage: "filter", Skipped: true, Output: out, line: "up to date"}, nil
	}
	sel, err := filter.File(ctx, scores, out, c.strategy())
	if err != nil {
		return nil, err
	}
	sum := sel.Header.Summary
	b, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(c.path(summaryFile), append(b, '\n')); err != nil {
		return nil, err
	}
	line := fmt.Sprintf("%s on %s kept %d of %d groups (", sum.Strategy, sum.Estimator, sum.Kept, sum.Groups)
	for i, cl := range sum.Classes {
		if i > 0 {
			line += ", "
		}
		line += fmt.Sprintf("%s %d/%d", cl.Class, cl.Kept, cl.Total)
	}
	line += ")"
	if n := sum.Groups - sum.Eligible; n > 0 {
		line += fmt.Sprintf("; %d excluded %v", n, sum.Excluded)
	}
	return &result{Stage: "filter", Output: out, Detail: sum, line: line}, c.done("filter", st)
}

// exportStage writes the kept traces as SFT data.
func exportStage(ctx context.Context, c *Config) (*result, error) {
	traces, sel, dir := c.path(tracesFile), c.path(selectionFile), c.path(sftDir)
	st, err := newStamp(c.Export, traces, sel)
	if err != nil {
		return nil, err
	}
	if c.upToDate("export", st, filepath.Join(dir, "train.jsonl")) {
		return &result{Stage: "export", Skipped: true, Output: dir, line: "up to date"}, nil
	}
	s, err := filter.ReadFile(sel)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	es, err := filter.Export(ctx, s, traces, dir, &filter.ExportConfig{
		Validation: c.Export.Validation, Seed: c.Filter.Seed, Replace: true})
	if err != nil {
		return nil, err
	}
	return &result{Stage: "export", Output: dir, Detail: es,
		line: fmt.Sprintf("%d train and %d validation examples (%d cut-off traces left out)", es.Train, es.Validation, es.Truncated)}, c.done("export", st)
}

// reportStage writes the tables and plots.
func reportStage(ctx context.Context, c *Config) (*result, error) {
	traces, scores, sel, dir := c.path(tracesFile), c.path(scoresFile), c.path(selectionFile), c.path(reportDir)
	st, err := newStamp(c.Filter.Seed, traces, scores, sel)
	if err != nil {
		return nil, err
	}
	if c.upToDate("report", st, filepath.Join(dir, "index.md")) {
		return &result{Stage: "report", Skipped: true, Output: dir, line: "up to date"}, nil
	}
	in, err := eval.Load(ctx, scores, traces)
	if err != nil {
		return nil, err
	}
	a, err := eval.Analyze(ctx, in, &eval.Config{Seed: c.Filter.Seed})
	if err != nil {
		return nil, err
	}
	s, err := filter.ReadFile(sel)
	if err != nil {
		return nil, err
	}
	opts := &report.Options{Title: "labelfree report: " + c.taskName(), Selections: []*filter.Selection{s}}
	if c.toyModel() {
		opts.Mark = "TOY MODEL"
		opts.Note = "These traces come from labelfree's toy reasoner, a tiny model with hand-set weights: " +
			"its answers mean nothing. The report shows the pipeline's machinery, not biology."
	}
	if err := report.Write(ctx, dir, a, opts); err != nil {
		return nil, err
	}
	acc := a.Classification.Accuracy
	return &result{Stage: "report", Output: dir,
		line: fmt.Sprintf("%d groups, greedy-answer accuracy %.3f, macro-F1 %.3f", a.Groups, acc, a.Classification.MacroF1)}, c.done("report", st)
}
