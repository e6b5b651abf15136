package score_test

import (
	"bytes"
	"context"
	"errors"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/samplingtest"
	"github.com/labelfree/labelfree/score"
	"github.com/labelfree/labelfree/uncertainty"
)

// tr builds a trace record; kind "" is full.
func tr(greedy bool, class string, kind sampling.LogProbKind, lp, ent []float64) sampling.TraceRecord {
	if kind == "" {
		kind = sampling.LogProbsFull
	}
	r := sampling.TraceRecord{Greedy: greedy, Text: "<think>x</think>\n<answer>" + class + "</answer>",
		Finish: sampling.FinishEOG, LogProbKind: kind, LogProbs: lp, Entropies: ent}
	if !greedy {
		r.Seed = 1
	}
	if class != "" {
		r.Answer = sampling.Answer{Text: class, Class: class, OK: true}
	}
	return r
}

func f(x ...float64) []float64 { return x }

// handGroups are groups whose scores are worked out by hand in
// TestFileHandComputed. Every number is exact in float32, as the trace
// file stores float32s.
func handGroups() []sampling.Group {
	none := sampling.LogProbsNone
	top5 := sampling.LogProbsTop(5)
	g := func(id, label string, ts ...sampling.TraceRecord) sampling.Group {
		return sampling.Group{Item: sampling.Item{ID: id, Label: label}, Prompt: sampling.Chat("sys", "question "+id), Traces: ts}
	}
	return []sampling.Group{
		g("q1", "down",
			tr(true, "up", "", f(-1, -2, -3), f(0.5, 1, 1.5)),
			tr(false, "up", "", f(-1), f(1)),
			tr(false, "up", "", f(-1), f(1)),
			tr(false, "down", "", f(-1), f(1))),
		g("q2", "",
			tr(true, "up", none, nil, nil),
			tr(false, "up", none, nil, nil),
			tr(false, "down", none, nil, nil)),
		g("q3", "",
			tr(true, "up", top5, f(-0.5, -1.5), f(0.25, 0.75)),
			tr(false, "up", top5, f(-1), f(0.5))),
		g("q4", "",
			tr(true, "", "", f(-1, -1), f(2, 2)),
			tr(false, "up", "", f(-1), f(1)),
			tr(false, "up", "", f(-1), f(1))),
		g("q5", "", tr(true, "down", "", f(-2), f(0))),
	}
}

// writeTraces writes groups to a trace file in dir and returns its path.
func writeTraces(t testing.TB, dir string, groups []sampling.Group) string {
	t.Helper()
	name := filepath.Join(dir, "traces.jsonl")
	var buf bytes.Buffer
	w, err := sampling.NewWriter(&buf, &sampling.Header{Model: "hand", Params: sampling.Params{Samples: 3}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range groups {
		if err := w.Write(&groups[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// fakeTraces samples n items from a samplingtest.Fake into dir and
// returns the trace file's path.
func fakeTraces(t testing.TB, ctx context.Context, dir string, fk *samplingtest.Fake, n int, tokenIDs bool) string {
	t.Helper()
	name := filepath.Join(dir, "traces.jsonl")
	_, err := sampling.Run(ctx, &sampling.RunConfig{
		Items: fk.Items(n), Task: fk.Task(), Generators: []sampling.Generator{fk},
		Params: &sampling.Params{Samples: 4, Seed: 7}, Out: name, TokenIDs: tokenIDs, NoSync: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// TestFileHandComputed scores hand-made groups and compares every number
// with its value worked out by hand (in the comments), and every error
// with its reason.
func TestFileHandComputed(t *testing.T) {
	dir := t.TempDir()
	traces := writeTraces(t, dir, handGroups())
	out := filepath.Join(dir, "scores.jsonl")
	st, err := score.File(t.Context(), traces, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, recs, err := score.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := score.DefaultEstimators(); !reflect.DeepEqual(h.Estimators, want) {
		t.Errorf("estimators %v, want %v", h.Estimators, want)
	}
	if sum, _ := score.FileSHA256(traces); h.TracesSHA256 != sum || h.Traces != traces {
		t.Errorf("header names %s with %s, want %s with %s", h.Traces, h.TracesSHA256, traces, sum)
	}
	type s = uncertainty.Score
	want := []struct {
		id, class, label string
		ok               bool
		scores           map[string]s
		errs             map[string]string // estimator → a substring of its error
	}{
		// q1: r0 log-probs -1, -2, -3: MSP 6, log-PPL 6/3 = 2; entropies
		// 0.5, 1, 1.5: MTE 1; two of three samples agree: self-consistency
		// 1 - 2/3 = 1/3; CoCoA-PPL 2 · mean(1-1, 1-1, 1-0) = 2/3, tie 2.
		{"q1", "up", "down", true, map[string]s{
			"msp": {Value: 6}, "log-perplexity": {Value: 2}, "mte": {Value: 1},
			"self-consistency": {Value: 1.0 / 3}, "cocoa-ppl": {Value: 2.0 / 3, Tiebreak: 2},
		}, nil},
		// q2: no log-probabilities; one of two samples agrees: 0.5.
		{"q2", "up", "", true, map[string]s{"self-consistency": {Value: 0.5}}, map[string]string{
			"msp": `logprobs_kind "none"`, "log-perplexity": `logprobs_kind "none"`,
			"mte": `logprobs_kind "none"`, "cocoa-ppl": `logprobs_kind "none"`,
		}},
		// q3: top-5 log-probabilities -0.5, -1.5: MSP 2, log-PPL 1; the one
		// sample agrees: 0 and CoCoA 1 · 0 = 0, tie 1; top-5 entropies are
		// refused.
		{"q3", "up", "", true, map[string]s{
			"msp": {Value: 2}, "log-perplexity": {Value: 1}, "self-consistency": {Value: 0}, "cocoa-ppl": {Value: 0, Tiebreak: 1},
		}, map[string]string{"mte": `logprobs_kind "top-5"`}},
		// q4: r0 unparsable: class "", no self-consistency; under answer
		// match it agrees with nothing, so CoCoA = log-PPL · 1 = 1, tie 1;
		// MSP 2, MTE 2.
		{"q4", "", "", false, map[string]s{
			"msp": {Value: 2}, "log-perplexity": {Value: 1}, "mte": {Value: 2}, "cocoa-ppl": {Value: 1, Tiebreak: 1},
		}, map[string]string{"self-consistency": "no parsable answer"}},
		// q5: K = 0: MSP 2, log-PPL 2, MTE 0; nothing to compare with.
		{"q5", "down", "", true, map[string]s{"msp": {Value: 2}, "log-perplexity": {Value: 2}, "mte": {Value: 0}},
			map[string]string{"self-consistency": "not enough samples", "cocoa-ppl": "not enough samples"}},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i, w := range want {
		r := recs[i]
		if r.ID != w.id || r.Class != w.class || r.OK != w.ok || r.Label != w.label {
			t.Errorf("record %d: %s class %q ok %v label %q, want %s %q %v %q", i, r.ID, r.Class, r.OK, r.Label, w.id, w.class, w.ok, w.label)
		}
		if len(r.Scores) != len(w.scores) || len(r.Errors) != len(w.errs) {
			t.Errorf("%s: scores %v errors %v", r.ID, r.Scores, r.Errors)
		}
		for name, ws := range w.scores {
			g := r.Scores[name]
			if math.Abs(g.Value-ws.Value) > 1e-12 || math.Abs(g.Tiebreak-ws.Tiebreak) > 1e-12 {
				t.Errorf("%s %s: got %+v, want %+v", r.ID, name, g, ws)
			}
		}
		for name, sub := range w.errs {
			if !strings.Contains(r.Errors[name], sub) {
				t.Errorf("%s %s: error %q, want it to say %q", r.ID, name, r.Errors[name], sub)
			}
		}
	}
	wantStats := score.Stats{Groups: 5, Unparsable: 1, Errors: map[string]int{
		"cocoa-ppl": 2, "self-consistency": 2, "log-perplexity": 1, "msp": 1, "mte": 2,
	}}
	if !reflect.DeepEqual(st, wantStats) {
		t.Errorf("stats %+v, want %+v", st, wantStats)
	}

	// With top-n entropies accepted, q3's MTE is (0.25 + 0.75)/2 = 0.5.
	out2 := filepath.Join(dir, "scores2.jsonl")
	if _, err := score.File(t.Context(), traces, out2, &score.Config{TopNEntropies: true, Estimators: []string{"mte"}}); err != nil {
		t.Fatal(err)
	}
	_, recs, err = score.ReadFile(out2)
	if err != nil {
		t.Fatal(err)
	}
	if got := recs[2].Scores["mte"]; got.Value != 0.5 {
		t.Errorf("q3 mte with top-n entropies: %+v, want 0.5", got)
	}
}

// TestFileLocations checks that every record of a score file locates its
// group's line in the trace file: the bytes there have the record's
// length and CRC-32C, make a whole line, and are the line of that group.
func TestFileLocations(t *testing.T) {
	defer score.SetBatchBytes(16 << 10)()
	dir := t.TempDir()
	traces := fakeTraces(t, t.Context(), dir, &samplingtest.Fake{Unparsable: 0.2}, 300, true)
	out := filepath.Join(dir, "scores.jsonl")
	if _, err := score.File(t.Context(), traces, out, nil); err != nil {
		t.Fatal(err)
	}
	_, recs, err := score.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(traces)
	if err != nil {
		t.Fatal(err)
	}
	prev := int64(0)
	for _, r := range recs {
		l := r.Location
		if l.Offset <= prev || l.Offset+int64(l.Len) >= int64(len(b)) {
			t.Fatalf("group %s: location %+v out of order or out of the file", r.ID, l)
		}
		prev = l.Offset
		line := b[l.Offset : l.Offset+int64(l.Len)]
		if !l.Matches(line) || b[l.Offset-1] != '\n' || b[l.Offset+int64(l.Len)] != '\n' {
			t.Fatalf("group %s: %+v is not a whole line with that checksum", r.ID, l)
		}
		if want := `{"id":` + strconv.Quote(r.ID) + `,`; !bytes.HasPrefix(line, []byte(want)) {
			t.Fatalf("group %s: the line at %+v starts %.40s", r.ID, l, line)
		}
	}
	if len(recs) != 300 {
		t.Errorf("%d records", len(recs))
	}
}

// TestFileDeterministic checks that the bytes depend on the input alone,
// not on the number of workers, and that a rerun rewrites the same file.
func TestFileDeterministic(t *testing.T) {
	dir := t.TempDir()
	traces := fakeTraces(t, t.Context(), dir, &samplingtest.Fake{Unparsable: 0.2}, 1200, false)
	var files [][]byte
	for i, w := range []int{1, 3, 3} {
		out := filepath.Join(dir, "scores.jsonl")
		if i < 2 {
			out = filepath.Join(dir, "scores"+string(rune('a'+i))+".jsonl")
		}
		all := uncertainty.Names()
		if _, err := score.File(t.Context(), traces, out, &score.Config{Workers: w, Estimators: all, Similarity: score.SimilarityRougeL}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	if !bytes.Equal(files[0], files[1]) || !bytes.Equal(files[1], files[2]) {
		t.Errorf("1 and 3 workers, or a rerun, wrote different files")
	}
	if n := bytes.Count(files[0], []byte{'\n'}); n != 1201 {
		t.Errorf("%d lines, want 1201", n)
	}
}

func TestUpToDate(t *testing.T) {
	dir := t.TempDir()
	traces := writeTraces(t, dir, handGroups())
	out := filepath.Join(dir, "scores.jsonl")
	c := &score.Config{Estimators: []string{"msp", "self-consistency"}}
	check := func(what string, c *score.Config, want bool) {
		t.Helper()
		got, err := score.UpToDate(out, traces, c)
		if err != nil || got != want {
			t.Errorf("%s: UpToDate = %v, %v; want %v", what, got, err, want)
		}
	}
	check("missing", c, false)
	if _, err := score.File(t.Context(), traces, out, c); err != nil {
		t.Fatal(err)
	}
	check("fresh", c, true)
	check("other estimator order", &score.Config{Estimators: []string{"self-consistency", "msp"}}, false)
	check("other part", &score.Config{Estimators: c.Estimators, Part: uncertainty.Reasoning}, false)
	check("default think ids given", &score.Config{Estimators: c.Estimators, ThinkIDs: [2]int32{score.Qwen3ThinkOpen, score.Qwen3ThinkClose}}, true)
	// The same bytes under another name are up to date: the hash decides.
	b, _ := os.ReadFile(traces)
	copyName := filepath.Join(dir, "copy.jsonl")
	if err := os.WriteFile(copyName, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if ok, err := score.UpToDate(out, copyName, c); !ok || err != nil {
		t.Errorf("a copy of the trace file: %v, %v", ok, err)
	}
	// One more group changes the hash.
	gs := handGroups()
	gs = append(gs, gs[0])
	gs[len(gs)-1].Item.ID = "q6"
	writeTraces(t, dir, gs)
	check("traces changed", c, false)
	if _, err := score.UpToDate(out, traces, &score.Config{Similarity: "cosine"}); err == nil {
		t.Errorf("a bad config gave no error")
	}
	if err := os.WriteFile(out, []byte("garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check("not a score file", c, false)
}

// TestFileInterrupted checks the resume story: a run that stops (here,
// its context is done) leaves the previous output as it was and no
// temporary file; a leftover temporary file does not stop the next run,
// which writes the complete file.
func TestFileInterrupted(t *testing.T) {
	dir := t.TempDir()
	traces := fakeTraces(t, t.Context(), dir, &samplingtest.Fake{}, 600, false)
	out := filepath.Join(dir, "scores.jsonl")
	old := []byte(`{"labelfree":"scores","version":1,"previous run":true}` + "\n")
	if err := os.WriteFile(out, old, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := score.File(ctx, traces, out, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	if b, _ := os.ReadFile(out); !bytes.Equal(b, old) {
		t.Errorf("a cancelled run changed the output")
	}
	if _, err := os.Stat(out + ".partial"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left: %v", err)
	}
	// A crash would leave a temporary file behind.
	if err := os.WriteFile(out+".partial", []byte("torn"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := score.File(t.Context(), traces, out, nil)
	if err != nil || st.Groups != 600 {
		t.Fatalf("rerun: %+v, %v", st, err)
	}
	if _, recs, err := score.ReadFile(out); err != nil || len(recs) != 600 {
		t.Errorf("rerun's file: %d records, %v", len(recs), err)
	}
	if _, err := os.Stat(out + ".partial"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left after a complete run: %v", err)
	}
}

func TestFileRefuses(t *testing.T) {
	dir := t.TempDir()
	traces := writeTraces(t, dir, handGroups())
	other := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(other, []byte("my notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := score.File(t.Context(), traces, other, nil); err == nil || !strings.Contains(err.Error(), "not a score file") {
		t.Errorf("overwrote a file that is not a score file: %v", err)
	}
	if b, _ := os.ReadFile(other); string(b) != "my notes\n" {
		t.Errorf("notes changed")
	}
	out := filepath.Join(dir, "s.jsonl")
	for _, tc := range []struct {
		name string
		c    *score.Config
		want string
	}{
		{"unknown similarity", &score.Config{Similarity: "cosine"}, `unknown similarity "cosine"`},
		{"embedding without embedder", &score.Config{Similarity: score.SimilarityEmbedding}, "needs an Embedder"},
		{"estimator twice", &score.Config{Estimators: []string{"msp", "msp"}}, "listed twice"},
		{"unknown estimator", &score.Config{Estimators: []string{"nope"}}, `unknown estimator "nope"`},
		{"part", &score.Config{Part: uncertainty.Part(7)}, "Part 7"},
	} {
		if _, err := score.File(t.Context(), traces, out, tc.c); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "score: ") {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	// A trace file without greedy traces.
	noGreedy := filepath.Join(dir, "ng.jsonl")
	var buf bytes.Buffer
	w, _ := sampling.NewWriter(&buf, &sampling.Header{Params: sampling.Params{Samples: 1, NoGreedy: true}})
	if err := w.Write(&sampling.Group{Item: sampling.Item{ID: "a"}, Traces: []sampling.TraceRecord{tr(false, "up", "", f(-1), f(1))}}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(noGreedy, buf.Bytes(), 0o644)
	if _, err := score.File(t.Context(), noGreedy, out, nil); !errors.Is(err, score.ErrNoGreedy) {
		t.Errorf("no_greedy file: %v", err)
	}
	// A malformed trace file: the error names its line.
	bad := filepath.Join(dir, "bad.jsonl")
	b, _ := os.ReadFile(traces)
	os.WriteFile(bad, append(b, "{\"id\":\n"...), 0o644)
	var le *sampling.LineError
	if _, err := score.File(t.Context(), bad, out, nil); !errors.As(err, &le) || le.Line != 7 {
		t.Errorf("malformed trace file: %v, want line 7", err)
	}
}

func TestConvert(t *testing.T) {
	top := sampling.LogProbsTop(3)
	src := sampling.Group{Item: sampling.Item{ID: "g"}, Traces: []sampling.TraceRecord{
		tr(false, "down", top, f(-1), f(0.5)),
		tr(true, "up", "", f(-2, -3), f(1, 2)),
		tr(false, "", sampling.LogProbsNone, nil, nil),
	}}
	src.Traces[1].TokenIDs = []int32{5, 6}
	var g uncertainty.Group
	if err := score.Convert(&g, &src, false); err != nil {
		t.Fatal(err)
	}
	want := uncertainty.Group{ID: "g",
		Greedy: uncertainty.Trace{LogProbs: f(-2, -3), Entropies: f(1, 2), IDs: []int32{5, 6}, Text: src.Traces[1].Text, Answer: "up", OK: true},
		Samples: []uncertainty.Trace{
			{LogProbs: f(-1), Text: src.Traces[0].Text, Answer: "down", OK: true}, // top-3 entropies dropped
			{Text: src.Traces[2].Text}, // no log-probabilities, no answer
		},
	}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("got  %+v\nwant %+v", g, want)
	}
	if err := score.Convert(&g, &src, true); err != nil || !reflect.DeepEqual(g.Samples[0].Entropies, f(0.5)) {
		t.Errorf("top-n entropies accepted: %v, %v", g.Samples[0].Entropies, err)
	}
	src.Traces[0].Greedy = true
	if err := score.Convert(&g, &src, false); !errors.Is(err, score.ErrNoGreedy) {
		t.Errorf("two greedy traces: %v", err)
	}
	src.Traces[0].Greedy, src.Traces[1].Greedy = false, false
	if err := score.Convert(&g, &src, false); !errors.Is(err, score.ErrNoGreedy) {
		t.Errorf("no greedy trace: %v", err)
	}
}

// fnvID is the samplingtest.Fake's token id of a token text (3 + FNV-1a 64
// of the text mod 151000, see samplingtest's tokens.go).
func fnvID(text string) int32 {
	h := fnv.New64a()
	h.Write([]byte(text))
	return int32(3 + h.Sum64()%151000)
}

// TestFileParts checks the reasoning and answer parts, found by the
// marker token ids, against log-perplexities computed here from the trace
// file's own arrays, and the error when the file has no token ids.
func TestFileParts(t *testing.T) {
	dir := t.TempDir()
	traces := fakeTraces(t, t.Context(), dir, &samplingtest.Fake{}, 10, true)
	_, groups, err := sampling.ReadFile(traces)
	if err != nil {
		t.Fatal(err)
	}
	open, close := fnvID("<think>"), fnvID("</think>")
	for _, part := range []uncertainty.Part{uncertainty.Reasoning, uncertainty.Answer} {
		out := filepath.Join(dir, part.String()+".jsonl")
		c := &score.Config{Part: part, ThinkIDs: [2]int32{open, close}, Estimators: []string{"log-perplexity"}}
		if _, err := score.File(t.Context(), traces, out, c); err != nil {
			t.Fatal(err)
		}
		_, recs, err := score.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range groups {
			r0 := g.Traces[0]
			// The Fake's traces read "<think> w … w</think>\n<answer>c</answer>"
			// then the end token: the reasoning is the tokens strictly
			// between the two markers, the answer those after "</think>".
			a := indexOf(r0.TokenIDs, open)
			b := indexOf(r0.TokenIDs, close)
			span := r0.LogProbs[a+1 : b]
			if part == uncertainty.Answer {
				span = r0.LogProbs[b+1:]
			}
			var sum float64
			for _, lp := range span {
				sum += lp
			}
			want := -sum / float64(len(span))
			if got := recs[i].Scores["log-perplexity"].Value; math.Abs(got-want) > 1e-12 {
				t.Errorf("%s %s: log-perplexity %v, want %v", part, g.Item.ID, got, want)
			}
		}
	}
	// Without token ids the parts cannot be found.
	noIDs := fakeTraces(t, t.Context(), t.TempDir(), &samplingtest.Fake{}, 3, false)
	out := filepath.Join(dir, "noids.jsonl")
	if _, err := score.File(t.Context(), noIDs, out, &score.Config{Part: uncertainty.Reasoning, Estimators: []string{"msp"}}); err != nil {
		t.Fatal(err)
	}
	_, recs, _ := score.ReadFile(out)
	if e := recs[0].Errors["msp"]; !strings.Contains(e, "token ids") {
		t.Errorf("reasoning part without token ids: error %q", e)
	}
}

func indexOf(ids []int32, id int32) int {
	for i, x := range ids {
		if x == id {
			return i
		}
	}
	return -1
}

// constEmbedder embeds every sequence as the same vector.
type constEmbedder struct{ calls int }

func (e *constEmbedder) Embed(_ context.Context, seqs [][]int32) ([][]float32, error) {
	e.calls++
	out := make([][]float32, len(seqs))
	for i := range seqs {
		out[i] = []float32{1, 0}
	}
	return out, nil
}

// TestFileEmbedding checks the embedding similarity: identical embeddings
// make every sample similar to r0, so CoCoA is 0 for every group; the
// Embedder is called once per group.
func TestFileEmbedding(t *testing.T) {
	dir := t.TempDir()
	traces := fakeTraces(t, t.Context(), dir, &samplingtest.Fake{}, 20, true)
	e := &constEmbedder{}
	out := filepath.Join(dir, "s.jsonl")
	if _, err := score.File(t.Context(), traces, out, &score.Config{Similarity: score.SimilarityEmbedding, Embedder: e, Estimators: []string{"cocoa-ppl"}}); err != nil {
		t.Fatal(err)
	}
	if e.calls != 20 {
		t.Errorf("%d Embed calls, want 20", e.calls)
	}
	h, recs, err := score.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if h.Settings.Similarity != "embedding" {
		t.Errorf("settings %+v", h.Settings)
	}
	for _, r := range recs {
		if s := r.Scores["cocoa-ppl"]; s.Value != 0 || s.Tiebreak <= 0 {
			t.Errorf("%s: %+v, want 0 with a positive tie-break", r.ID, s)
		}
	}
}
