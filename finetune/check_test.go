package finetune_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/finetune"
	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/score"
)

// python3 returns a Config that runs the real (embedded) qlora.py with
// python3, or skips the test.
func python3(t *testing.T) *finetune.Config {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found: install Python 3 (the standard library is enough) to run qlora.py --check")
	}
	return &finetune.Config{Python: p}
}

// exported writes a trace file of three groups, selects them all and
// exports them with filter.Export; it returns the train.jsonl.
func exported(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	tr := func(greedy bool, text, class string) sampling.TraceRecord {
		r := sampling.TraceRecord{Greedy: greedy, Text: text, Finish: sampling.FinishEOG, LogProbKind: sampling.LogProbsNone}
		if !greedy {
			r.Seed = 1
		}
		r.Answer = sampling.Answer{Text: class, Class: class, OK: true}
		return r
	}
	gs := []sampling.Group{
		{Item: sampling.Item{ID: "q1"}, Prompt: sampling.Chat("Reason inside <think></think>.", "Is IRF1 up or down?"), Traces: []sampling.TraceRecord{
			tr(true, "<think>\nSTAT1 drives IRF1.\n</think>\n\n<answer>down</answer>", "down"),
			tr(false, "<think>other reasoning</think><answer>down</answer>", "down"),
		}},
		{Item: sampling.Item{ID: "q2"}, Prompt: sampling.Chat("Reason inside <think></think>.", "Is MYC up or down?"), Traces: []sampling.TraceRecord{
			tr(true, "<think>\nreasoning\n</think>\n\n<answer>up</answer>", "up"),
		}},
		{Item: sampling.Item{ID: "q3"}, Prompt: sampling.Prompt{Text: "raw prompt"}, Traces: []sampling.TraceRecord{
			tr(true, "reasoning without open\n</think>\n<answer>up</answer>", "up"),
		}},
	}
	var buf bytes.Buffer
	w, err := sampling.NewWriter(&buf, &sampling.Header{Params: sampling.Params{Samples: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range gs {
		if err := w.Write(&gs[i]); err != nil {
			t.Fatal(err)
		}
	}
	traces := filepath.Join(dir, "traces.jsonl")
	if err := os.WriteFile(traces, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := score.FileSHA256(traces)
	if err != nil {
		t.Fatal(err)
	}
	sel := &filter.Selection{Header: filter.Header{Strategy: "global", Estimator: "msp", TracesSHA256: sum}}
	for i, g := range gs {
		sel.Records = append(sel.Records, filter.Record{ID: g.Item.ID, Class: g.Traces[0].Answer.Class, Estimator: "msp", Rank: i + 1})
	}
	out := filepath.Join(dir, "sft")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := filter.Export(t.Context(), sel, traces, out, &filter.ExportConfig{Samples: true}); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(out, filter.TrainFile)
}

// TestCheckExported runs the real qlora.py --check on what filter.Export
// writes: the two must agree on the format.
func TestCheckExported(t *testing.T) {
	c := python3(t)
	train := exported(t)
	reps, warns, err := finetune.Check(t.Context(), train, "", c)
	if err != nil {
		t.Fatal(err)
	}
	r := reps[train]
	// q1's r0 and its agreeing sample, q2 and q3.
	if r.Examples != 4 || r.Classes["down"] != 2 || r.Classes["up"] != 2 || r.NoAnswer != 0 || r.OverMaxLength != 0 {
		t.Errorf("report %+v", r)
	}
	if len(warns) != 0 {
		t.Errorf("warnings %q", warns)
	}
	// The Go defaults are a configuration the script accepts, and a
	// configuration it rejects fails the check.
	c.Rank, c.Dropout = 8, 0.05
	if _, _, err := finetune.Check(t.Context(), train, "", c); err != nil {
		t.Errorf("rank 8, dropout 0.05: %v", err)
	}
	c.Dropout = 1.5
	_, _, err = finetune.Check(t.Context(), train, "", c)
	var se *finetune.ScriptError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "dropout = 1.5") {
		t.Errorf("dropout 1.5: error %v, want a *ScriptError about dropout", err)
	}
}

// TestCheckBroken runs the real qlora.py --check on broken files, which
// must fail with the file, the line and the problem.
func TestCheckBroken(t *testing.T) {
	c := python3(t)
	for _, tc := range []struct{ file, want string }{
		{"no_assistant.jsonl", "no_assistant.jsonl:2: no assistant turn"},
		{"wrong_role.jsonl", "wrong_role.jsonl:2: message 0: role 'human' is not one of system, user, assistant"},
		{"empty.jsonl", "empty.jsonl: no examples (empty file)"},
		{"empty_content.jsonl", "empty_content.jsonl:3: message 1 (assistant): empty content"},
		{"bad_json.jsonl", "bad_json.jsonl:2: invalid JSON"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, _, err := finetune.Check(t.Context(), filepath.Join("testdata", tc.file), "", c)
			var se *finetune.ScriptError
			if !errors.As(err, &se) {
				t.Fatalf("error %v, want a *ScriptError", err)
			}
			if len(se.Stderr) == 0 || !strings.Contains(se.Stderr[len(se.Stderr)-1], tc.want) {
				t.Errorf("stderr %q, want it to end with %q", se.Stderr, tc.want)
			}
		})
	}
	// A good file with a broken validation file fails on the latter.
	_, _, err := finetune.Check(t.Context(), filepath.Join("testdata", "good.jsonl"), filepath.Join("testdata", "wrong_role.jsonl"), c)
	if err == nil || !strings.Contains(err.Error(), "wrong_role.jsonl:2:") {
		t.Errorf("validation file: error %v", err)
	}
}
