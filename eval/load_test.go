package eval_test

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/labelfree/labelfree/eval"
	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/score"
	"github.com/labelfree/labelfree/uncertainty"
)

// writeFiles writes a trace file of groups with the given answers (r0
// first, "" for unparsed) and a score file of one estimator for them.
func writeFiles(t *testing.T, answers map[string][]string, scoreIDs []string) (scores, traces string) {
	t.Helper()
	dir := t.TempDir()
	traces = filepath.Join(dir, "traces.jsonl")
	f, err := os.Create(traces)
	if err != nil {
		t.Fatal(err)
	}
	tw, err := sampling.NewWriter(f, &sampling.Header{Model: "test", Backend: "test", Task: "test", Params: sampling.Params{Samples: 2}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"k562/A/G1", "k562/A/G2"} {
		g := &sampling.Group{Item: sampling.Item{ID: id, Label: "up"}, Prompt: sampling.Chat("", "q")}
		for i, a := range answers[id] {
			tr := sampling.TraceRecord{Greedy: i == 0, Seed: uint32(i), Text: a, Finish: sampling.FinishEOG, LogProbKind: sampling.LogProbsNone}
			if a != "" {
				tr.Answer = sampling.Answer{Text: a, Class: a, OK: true}
			}
			g.Traces = append(g.Traces, tr)
		}
		if err := tw.Write(g); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	scores = filepath.Join(dir, "scores.jsonl")
	f, err = os.Create(scores)
	if err != nil {
		t.Fatal(err)
	}
	sw, err := score.NewWriter(f, &score.Header{Traces: traces, Estimators: []string{"e"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range scoreIDs {
		r := &score.Record{ID: id, Class: "up", OK: true, Label: "up", Scores: map[string]uncertainty.Score{"e": {Value: float64(i)}}}
		if err := sw.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return scores, traces
}

func TestLoad(t *testing.T) {
	answers := map[string][]string{
		"k562/A/G1": {"up", "up", "down"},
		"k562/A/G2": {"none", "", "none"},
	}
	scores, traces := writeFiles(t, answers, []string{"k562/A/G1", "k562/A/G2"})
	in, err := eval.Load(t.Context(), scores, traces)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Records) != 2 || in.Records[1].ID != "k562/A/G2" || in.Records[1].Scores["e"].Value != 1 {
		t.Errorf("records %+v", in.Records)
	}
	if in.Header.Estimators[0] != "e" {
		t.Errorf("header %+v", in.Header)
	}
	want := map[string]eval.Votes{
		"k562/A/G1": {"up": 2, "down": 1},
		"k562/A/G2": {"none": 2, "": 1},
	}
	for id, v := range want {
		if !maps.Equal(in.Votes[id], v) {
			t.Errorf("votes of %s = %v, want %v", id, in.Votes[id], v)
		}
	}

	// Without a trace file: no votes.
	in, err = eval.Load(t.Context(), scores, "")
	if err != nil || in.Votes != nil || len(in.Records) != 2 {
		t.Errorf("scores only: %+v, %v", in, err)
	}

	// A scored group missing from the trace file.
	scores, traces = writeFiles(t, answers, []string{"k562/A/G1", "k562/A/G3"})
	if _, err := eval.Load(t.Context(), scores, traces); !errors.Is(err, eval.ErrInvalid) {
		t.Errorf("missing group: error %v, want ErrInvalid", err)
	}

	// A file that is not a score file names itself.
	if _, err := eval.Load(t.Context(), traces, ""); err == nil {
		t.Error("a trace file read as a score file: no error")
	}
}
