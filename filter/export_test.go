package filter_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/score"
)

// checkSFT checks that every line of the file name is what TRL's
// SFTTrainer and Hugging Face datasets take as a conversational example: a
// JSON object whose "messages" is a list of {"role","content"} objects
// with an optional system message first, then a user message, the
// assistant's last, every content a non-empty string; plus a non-empty
// string "id" and an integer "trace" (the same keys on every line, so
// datasets infers one schema). It returns the examples.
func checkSFT(t *testing.T, name string) []filter.Example {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []filter.Example
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for line := 1; sc.Scan(); line++ {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s:%d: not a JSON object: %v", name, line, err)
		}
		if len(m) != 3 || m["messages"] == nil || m["id"] == nil || m["trace"] == nil {
			t.Fatalf("%s:%d: keys of %s, want messages, id, trace", name, line, sc.Bytes())
		}
		var msgs []map[string]any
		if err := json.Unmarshal(m["messages"], &msgs); err != nil {
			t.Fatalf("%s:%d: messages: %v", name, line, err)
		}
		var roles []string
		for i, msg := range msgs {
			role, _ := msg["role"].(string)
			content, ok := msg["content"].(string)
			if len(msg) != 2 || !ok || strings.TrimSpace(content) == "" {
				t.Fatalf("%s:%d: message %d is %v, want a role and a non-empty content", name, line, i, msg)
			}
			roles = append(roles, role)
		}
		r := strings.Join(roles, ",")
		if r != "user,assistant" && r != "system,user,assistant" {
			t.Fatalf("%s:%d: roles %s", name, line, r)
		}
		var ex filter.Example
		if err := json.Unmarshal(sc.Bytes(), &ex); err != nil || ex.ID == "" || ex.Trace < 0 {
			t.Fatalf("%s:%d: %v, id %q trace %d", name, line, err, ex.ID, ex.Trace)
		}
		if bytes.Contains(sc.Bytes(), []byte(`\u003c`)) {
			t.Fatalf("%s:%d: HTML-escaped markup", name, line)
		}
		out = append(out, ex)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

const qwenText = "<think>\nreason one\n</think>\n\n<answer>up</answer>"

// exportGroups are hand-made groups for the export tests.
func exportGroups() []sampling.Group {
	t := func(greedy bool, text, class string, finish sampling.FinishReason) sampling.TraceRecord {
		r := sampling.TraceRecord{Greedy: greedy, Text: text, Finish: finish, LogProbKind: sampling.LogProbsNone}
		if !greedy {
			r.Seed = 1
		}
		if class != "" {
			r.Answer = sampling.Answer{Text: class, Class: class, OK: true}
		}
		return r
	}
	eog, length := sampling.FinishEOG, sampling.FinishLength
	return []sampling.Group{
		{Item: sampling.Item{ID: "g1"}, Prompt: sampling.Chat("sys", "question g1"), Traces: []sampling.TraceRecord{
			t(true, qwenText, "up", eog),
			t(false, qwenText, "up", eog), // the same text as r0
			t(false, "<think> other</think><answer>up</answer>", "up", eog),
			t(false, "<think>no</think><answer>down</answer>", "down", eog),
			t(false, "<think>cut off", "up", length),
		}},
		{Item: sampling.Item{ID: "g2"}, Prompt: sampling.Prompt{Text: "raw prompt"}, Traces: []sampling.TraceRecord{
			t(true, "reasoning without open\n</think>\n<answer>down</answer>", "down", eog),
		}},
		{Item: sampling.Item{ID: "g3"}, Prompt: sampling.Chat("", "question g3"), Traces: []sampling.TraceRecord{
			t(true, "<think>\nlong", "", length),
		}},
		{Item: sampling.Item{ID: "g4"}, Prompt: sampling.Chat("", "question g4"), Traces: []sampling.TraceRecord{
			t(true, qwenText, "up", eog),
		}},
	}
}

func writeTraceFile(t *testing.T, dir string, gs []sampling.Group) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := sampling.NewWriter(&buf, &sampling.Header{Params: sampling.Params{Samples: 4}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range gs {
		if err := w.Write(&gs[i]); err != nil {
			t.Fatal(err)
		}
	}
	name := filepath.Join(dir, "traces.jsonl")
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func selectionOf(t *testing.T, traces string, ids ...string) *filter.Selection {
	t.Helper()
	sum, err := score.FileSHA256(traces)
	if err != nil {
		t.Fatal(err)
	}
	s := &filter.Selection{Header: filter.Header{Strategy: "global", Estimator: "msp", TracesSHA256: sum}}
	for i, id := range ids {
		s.Records = append(s.Records, filter.Record{ID: id, Class: "up", Estimator: "msp", Rank: i + 1})
	}
	return s
}

// TestExportHand exports hand-made groups and checks every line and count
// against what the rules of Export give (in the comments).
func TestExportHand(t *testing.T) {
	dir := t.TempDir()
	traces := writeTraceFile(t, dir, exportGroups())
	sel := selectionOf(t, traces, "g1", "g2", "g3")
	out := filepath.Join(dir, "r0")
	os.Mkdir(out, 0o755)
	st, err := filter.Export(t.Context(), sel, traces, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	// r0 only: g1's and g2's are written; g3's was cut off.
	want := filter.ExportStats{Selected: 3, Groups: 2, Empty: 1, Train: 2, Truncated: 1}
	if st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	exs := checkSFT(t, filepath.Join(out, filter.TrainFile))
	wantEx := []filter.Example{
		{ID: "g1", Trace: 0, Messages: []filter.Message{{"system", "sys"}, {"user", "question g1"}, {"assistant", qwenText}}},
		// A raw prompt is one user message; the missing "<think>" is put
		// back and the answer set off by a blank line, as Qwen3 renders.
		{ID: "g2", Trace: 0, Messages: []filter.Message{{"user", "raw prompt"}, {"assistant", "<think>\nreasoning without open\n</think>\n\n<answer>down</answer>"}}},
	}
	if !equalExamples(exs, wantEx) {
		t.Errorf("examples\n%+v\nwant\n%+v", exs, wantEx)
	}
	if _, err := os.Stat(filepath.Join(out, filter.ValidationFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("validation file with Validation 0: %v", err)
	}

	// With samples: g1's sample 1 repeats r0, sample 3 disagrees, sample 4
	// was cut off; sample 2 is written in the canonical form. With
	// truncated traces kept, g3's r0 and g1's sample 4 go out as they are.
	out2 := filepath.Join(dir, "samples")
	os.Mkdir(out2, 0o755)
	st, err = filter.Export(t.Context(), sel, traces, out2, &filter.ExportConfig{Samples: true})
	if err != nil {
		t.Fatal(err)
	}
	want = filter.ExportStats{Selected: 3, Groups: 2, Empty: 1, Train: 3, Truncated: 2, Disagreeing: 1, Duplicates: 1}
	if st != want {
		t.Errorf("samples: stats %+v, want %+v", st, want)
	}
	exs = checkSFT(t, filepath.Join(out2, filter.TrainFile))
	if len(exs) != 3 || exs[1].Trace != 2 || exs[1].Messages[2].Content != "<think>\nother\n</think>\n\n<answer>up</answer>" {
		t.Errorf("samples: %+v", exs)
	}
	out3 := filepath.Join(dir, "truncated")
	os.Mkdir(out3, 0o755)
	st, err = filter.Export(t.Context(), sel, traces, out3, &filter.ExportConfig{Samples: true, KeepTruncated: true, Raw: true})
	if err != nil {
		t.Fatal(err)
	}
	want = filter.ExportStats{Selected: 3, Groups: 3, Train: 5, Disagreeing: 1, Duplicates: 1, Unclosed: 2}
	if st != want {
		t.Errorf("truncated kept: stats %+v, want %+v", st, want)
	}
	exs = checkSFT(t, filepath.Join(out3, filter.TrainFile))
	if got := exs[len(exs)-1].Messages[1].Content; got != "<think>\nlong" {
		t.Errorf("raw: last assistant message %q, want the text as generated", got)
	}
}

func equalExamples(a, b []filter.Example) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestExportRefuses(t *testing.T) {
	dir := t.TempDir()
	traces := writeTraceFile(t, dir, exportGroups())
	sel := selectionOf(t, traces, "g1", "g2", "g4")
	cfg := &filter.ExportConfig{Validation: 0.5, Seed: 1}
	if _, err := filter.Export(t.Context(), sel, traces, dir, cfg); err != nil {
		t.Fatal(err)
	}
	train, _ := os.ReadFile(filepath.Join(dir, filter.TrainFile))
	if _, err := filter.Export(t.Context(), sel, traces, dir, cfg); !errors.Is(err, filter.ErrExist) {
		t.Errorf("second export: %v, want ErrExist", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, filter.TrainFile)); !bytes.Equal(b, train) {
		t.Errorf("a refused export changed train.jsonl")
	}
	// Replacing with no validation split removes the old validation file.
	if _, err := filter.Export(t.Context(), sel, traces, dir, &filter.ExportConfig{Replace: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, filter.ValidationFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale validation file: %v", err)
	}
	if n := len(checkSFT(t, filepath.Join(dir, filter.TrainFile))); n != 3 {
		t.Errorf("train has %d lines, want 3", n)
	}

	for _, tc := range []struct {
		name string
		sel  *filter.Selection
		c    *filter.ExportConfig
		want string
	}{
		{"other trace file", &filter.Selection{Header: filter.Header{TracesSHA256: "beef"}, Records: sel.Records}, nil, "selection was made from scores of a trace file with beef"},
		{"missing group", selectionOf(t, traces, "g1", "zz"), nil, `1 selected groups are not in`},
		{"validation 1", sel, &filter.ExportConfig{Validation: 1}, "outside [0, 1)"},
	} {
		out := t.TempDir()
		_, err := filter.Export(t.Context(), tc.sel, traces, out, tc.c)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "filter: ") {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
		if ents, _ := os.ReadDir(out); len(ents) != 0 {
			t.Errorf("%s: a failed export left %d files", tc.name, len(ents))
		}
	}
}

// TestExportNoEmptyValidation checks that a split that sends no group to
// validation writes no validation file (trainers refuse an empty split)
// and removes a stale one.
func TestExportNoEmptyValidation(t *testing.T) {
	dir := t.TempDir()
	traces := writeTraceFile(t, dir, exportGroups())
	sel := selectionOf(t, traces, "g1")
	stale := filepath.Join(dir, filter.ValidationFile)
	if err := os.WriteFile(stale, []byte(`{"messages":[]}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := filter.Export(t.Context(), sel, traces, dir, &filter.ExportConfig{Validation: 0.01, Seed: 1, Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	if st.Validation != 0 || st.Train == 0 {
		t.Fatalf("stats %+v: the fixture should send g1 to train at fraction 0.01", st)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("validation file after a split with no validation group: %v", err)
	}
	if _, err := os.Stat(stale + ".partial"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("partial validation file left behind: %v", err)
	}
}
