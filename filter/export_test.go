package filter_test

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/samplingtest"
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

// locatedFixture scores and filters the traces of a fake model and
// returns the trace file and the selection, whose records have
// locations.
func locatedFixture(t *testing.T, n int) (traces string, sel *filter.Selection) {
	t.Helper()
	dir := t.TempDir()
	traces = fakeTraces(t, t.Context(), dir, &samplingtest.Fake{Unparsable: 0.1}, n, 4)
	scores := filepath.Join(dir, "scores.jsonl")
	if _, err := score.File(t.Context(), traces, scores, nil); err != nil {
		t.Fatal(err)
	}
	sel, err := filter.File(t.Context(), scores, filepath.Join(dir, "sel.jsonl"), filter.PerClass{Estimator: "cocoa-ppl", Fraction: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sel.Records {
		if r.Location == (score.Location{}) {
			t.Fatalf("group %s has no location", r.ID)
		}
	}
	return traces, sel
}

// withoutLocations returns a copy of sel whose records have none.
func withoutLocations(sel *filter.Selection) *filter.Selection {
	c := &filter.Selection{Header: sel.Header, Records: slices.Clone(sel.Records)}
	for i := range c.Records {
		c.Records[i].Location = score.Location{}
	}
	return c
}

// exportFiles exports sel and returns the stats and the bytes of train
// and validation.
func exportFiles(t *testing.T, sel *filter.Selection, traces string, c *filter.ExportConfig) (filter.ExportStats, string, error) {
	t.Helper()
	out := t.TempDir()
	st, err := filter.Export(t.Context(), sel, traces, out, c)
	if err != nil {
		if ents, _ := os.ReadDir(out); len(ents) != 0 {
			t.Errorf("a failed export left %d files", len(ents))
		}
		return st, "", err
	}
	train, _ := os.ReadFile(filepath.Join(out, filter.TrainFile))
	val, _ := os.ReadFile(filepath.Join(out, filter.ValidationFile))
	checkSFT(t, filepath.Join(out, filter.TrainFile))
	return st, string(train) + "\x00" + string(val), nil
}

// TestExportLocated checks that reading the selected lines by their
// locations writes the same bytes and counts as reading the whole file,
// with one read per line, reads spanning several lines, and batches of
// one line or many.
func TestExportLocated(t *testing.T) {
	traces, sel := locatedFixture(t, 300)
	c := &filter.ExportConfig{Samples: true, Validation: 0.2, Seed: 3}
	wantSt, want, err := exportFiles(t, withoutLocations(sel), traces, c)
	if err != nil {
		t.Fatal(err)
	}
	if wantSt.Groups == 0 || wantSt.Validation == 0 {
		t.Fatalf("fixture exports too little: %+v", wantSt)
	}
	for _, sz := range []struct{ batch, gap int }{{1 << 20, 16 << 10}, {1, 0}, {5000, 1 << 20}, {1 << 30, 1 << 30}} {
		restore := filter.SetReadSizes(sz.batch, sz.gap)
		st, got, err := exportFiles(t, sel, traces, c)
		restore()
		if err != nil {
			t.Fatalf("batch %d, gap %d: %v", sz.batch, sz.gap, err)
		}
		if st != wantSt || got != want {
			t.Errorf("batch %d, gap %d: stats %+v, want %+v; same bytes: %v", sz.batch, sz.gap, st, wantSt, got == want)
		}
	}
	// The selection's own order (by class and rank) is not the file's:
	// the output follows the file either way.
	rev := &filter.Selection{Header: sel.Header, Records: slices.Clone(sel.Records)}
	slices.Reverse(rev.Records)
	if _, got, err := exportFiles(t, rev, traces, c); err != nil || got != want {
		t.Errorf("reversed records: %v; same bytes: %v", err, got == want)
	}
	// A group selected twice (a hand-made selection) would be exported
	// twice.
	dup := &filter.Selection{Header: sel.Header, Records: append(slices.Clone(sel.Records), sel.Records[3])}
	if _, _, err := exportFiles(t, dup, traces, c); !errors.Is(err, filter.ErrDuplicateID) {
		t.Errorf("a group selected twice: %v, want ErrDuplicateID", err)
	}
}

// TestExportLocatedChanged checks that a trace file that is not the one
// scored is refused, naming the file, the offset and the group, whatever
// changed: a byte of a selected line, a line moved, the file cut short.
// It also checks that without locations the whole file is read and its
// hash checked, so that a change to a line that was not selected is
// refused there while the located path, which does not read it, exports.
func TestExportLocatedChanged(t *testing.T) {
	traces, sel := locatedFixture(t, 100)
	b, err := os.ReadFile(traces)
	if err != nil {
		t.Fatal(err)
	}
	r0 := sel.Records[0]
	l := r0.Location
	line := b[l.Offset : l.Offset+int64(l.Len)]
	write := func(data []byte) string {
		name := filepath.Join(t.TempDir(), "traces.jsonl")
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return name
	}
	// A letter of r0's text in the other case ("<think>" becomes
	// "<tHink>"): the line is as valid as before, only the checksum tells.
	flipped := slices.Clone(b)
	j := bytes.Index(line, []byte(`"text":"<think>`))
	if j < 0 {
		t.Fatalf("r0's line has no text starting <think>: %.200s", line)
	}
	flipped[l.Offset+int64(j)+10] ^= 0x20
	// One more line before it: every later line moves.
	firstEnd := bytes.IndexByte(b, '\n') + 1
	secondEnd := firstEnd + bytes.IndexByte(b[firstEnd:], '\n') + 1
	extra := strings.Replace(string(b[firstEnd:secondEnd]), `"id":"`, `"id":"new-`, 1)
	extra = strings.Replace(extra, `"item":{"id":"`, `"item":{"id":"new-`, 1)
	moved := slices.Concat(b[:firstEnd], []byte(extra), b[firstEnd:])
	// Another record pointing at r0's line.
	other := &filter.Selection{Header: sel.Header, Records: slices.Clone(sel.Records)}
	other.Records[1].Location = l
	beyond := &filter.Selection{Header: sel.Header, Records: slices.Clone(sel.Records)}
	beyond.Records[0].Location.Offset = int64(len(b)) + 10
	for _, tc := range []struct {
		name   string
		sel    *filter.Selection
		traces string
		want   string
		at     int64
		id     string
	}{
		{"bad crc", sel, write(flipped), "another CRC-32C", l.Offset, r0.ID},
		{"moved", sel, write(moved), "", 0, ""},
		{"cut short", sel, write(b[:l.Offset+int64(l.Len)-5]), "the file ends at byte", l.Offset, r0.ID},
		{"no newline after", sel, write(b[:l.Offset+int64(l.Len)]), "the file ends at byte", l.Offset, r0.ID},
		{"other id there", other, traces, fmt.Sprintf("the line there is group %q", r0.ID), l.Offset, other.Records[1].ID},
		{"beyond the end", beyond, traces, fmt.Sprintf("the file ends at byte %d", len(b)), int64(len(b)) + 10, r0.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := exportFiles(t, tc.sel, tc.traces, nil)
			if !errors.Is(err, filter.ErrTracesChanged) || !strings.Contains(err.Error(), tc.want) ||
				!strings.HasPrefix(err.Error(), "filter: "+tc.traces+": group ") || !strings.Contains(err.Error(), "re-run score") {
				t.Fatalf("got %v, want an error with %q wrapping ErrTracesChanged", err, tc.want)
			}
			if tc.id != "" && !strings.Contains(err.Error(), fmt.Sprintf("group %q at byte %d:", tc.id, tc.at)) {
				t.Errorf("error %q does not name group %s at byte %d", err, tc.id, tc.at)
			}
		})
	}

	// A line that was not selected, changed: the located path does not
	// read it; the full read hashes it.
	kept := sel.IDs()
	var free int64 = -1
	for off := int64(firstEnd); off < int64(len(b)); {
		end := off + int64(bytes.IndexByte(b[off:], '\n'))
		var g struct{ ID string }
		json.Unmarshal(b[off:end], &g)
		if j := bytes.Index(b[off:end], []byte(`"text":"<think>`)); !kept[g.ID] && j >= 0 {
			free = off + int64(j) + 10
			break
		}
		off = end + 1
	}
	if free < 0 {
		t.Fatal("every group was selected")
	}
	unselected := slices.Clone(b)
	unselected[free] ^= 0x20
	name := write(unselected)
	if _, _, err := exportFiles(t, sel, name, nil); err != nil {
		t.Errorf("located, a change to a line not selected: %v", err)
	}
	_, _, err = exportFiles(t, withoutLocations(sel), name, nil)
	if err == nil || !strings.Contains(err.Error(), "has SHA-256") || errors.Is(err, filter.ErrTracesChanged) {
		t.Errorf("without locations: %v, want the hash check's error", err)
	}
}

// TestExportLocatedEarlyError checks that an error in the file's first
// selected line ends Export, with many batches still to read (batches of
// one line each), rather than leaving it waiting on its goroutines.
func TestExportLocatedEarlyError(t *testing.T) {
	traces, sel := locatedFixture(t, 200)
	first := slices.MinFunc(sel.Records, func(a, b filter.Record) int { return cmp.Compare(a.Location.Offset, b.Location.Offset) })
	b, err := os.ReadFile(traces)
	if err != nil {
		t.Fatal(err)
	}
	b[first.Location.Offset+5] ^= 1 // in the id: a checksum mismatch
	bad := filepath.Join(t.TempDir(), "traces.jsonl")
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	defer filter.SetReadSizes(1, 0)()
	if _, _, err := exportFiles(t, sel, bad, nil); !errors.Is(err, filter.ErrTracesChanged) || !strings.Contains(err.Error(), fmt.Sprintf("group %q at byte %d", first.ID, first.Location.Offset)) {
		t.Errorf("got %v, want the first line's checksum error", err)
	}
}
