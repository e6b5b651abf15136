package sampling_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/sampling"
)

// testHeader is a header with every field set.
func testHeader() sampling.Header {
	return sampling.Header{
		Model:       "models/qwen3-0.6b.gguf",
		ModelSHA256: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		Backend:     "llama",
		Task:        "perturbqa/k562",
		Params:      (&sampling.Params{Samples: 2, Seed: 7, MinP: 0.05, Stop: []string{"</answer>"}}).WithDefaults(),
		Shard:       sampling.Shard{Index: 1, Count: 3},
	}
}

// testGroups returns groups that use every feature of the format: all
// LogProbKinds, −Inf log-probabilities, token ids present and absent, texts
// with markup, quotes and non-ASCII.
func testGroups() []sampling.Group {
	return []sampling.Group{
		{
			Item:   sampling.Item{ID: "k562/STAT1/IRF1", Label: "down", Fields: map[string]string{"pert": "STAT1", "gene": "IRF1"}},
			Prompt: sampling.Chat("Reason in <think>.", `Is "IRF1" changed? α→β`),
			Traces: []sampling.TraceRecord{
				{Greedy: true, Text: "<think>x</think><answer>down</answer>", Answer: sampling.Answer{Text: "down", Class: "down", OK: true},
					Finish: sampling.FinishEOG, LogProbKind: sampling.LogProbsFull,
					LogProbs: []float64{-0.5, math.Inf(-1), -1e-30, 0}, Entropies: []float64{1.25, 0, 3e-8, 11.9}, TokenIDs: []int32{5, 151643, 0, 2}},
				{Seed: 8, Text: "no answer", Finish: sampling.FinishLength, LogProbKind: sampling.LogProbsTop(5),
					LogProbs: []float64{-2.25}, Entropies: []float64{0.5}},
			},
		},
		{
			Item:   sampling.Item{ID: "second"},
			Prompt: sampling.Prompt{Text: "raw\nprompt", NoThinking: true},
			Traces: []sampling.TraceRecord{
				{Seed: 9, Text: "up</answer>", Stop: "</answer>", Finish: sampling.FinishStop, Answer: sampling.Answer{Text: "up", Class: "up", OK: true},
					LogProbKind: sampling.LogProbsTop(0), LogProbs: []float64{-0.125, -3}},
				{Seed: 10, Text: "", Finish: sampling.FinishContext, LogProbKind: sampling.LogProbsNone},
			},
		},
	}
}

// f32 rounds x to float32, as a file does.
func f32(xs []float64) []float64 {
	if xs == nil {
		return nil
	}
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(float32(x))
	}
	return out
}

func floatsEqual(a, b []float64) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func TestWriteReadRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	h := testHeader()
	w, err := sampling.NewWriter(&buf, &h)
	if err != nil {
		t.Fatal(err)
	}
	want := testGroups()
	for i := range want {
		if err := w.Write(&want[i]); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(buf.String(), "\n"); n != 1+len(want) {
		t.Fatalf("%d lines, want %d:\n%s", n, 1+len(want), buf.String())
	}
	if strings.Contains(buf.String(), `\u003c`) {
		t.Errorf("file escapes < as \\u003c:\n%s", buf.String())
	}
	r, err := sampling.NewReader(bytes.NewReader(buf.Bytes()), "mem")
	if err != nil {
		t.Fatal(err)
	}
	gotH := r.Header()
	if gotH.Model != h.Model || gotH.ModelSHA256 != h.ModelSHA256 || gotH.Backend != h.Backend || gotH.Task != h.Task ||
		gotH.Shard != h.Shard || gotH.Params.Temperature != h.Params.Temperature || gotH.Params.Seed != h.Params.Seed ||
		gotH.Params.MinP != h.Params.MinP || gotH.Params.Samples != h.Params.Samples || strings.Join(gotH.Params.Stop, "|") != "</answer>" {
		t.Errorf("header %+v, want %+v", gotH, h)
	}
	for i := range want {
		g, err := r.Next()
		if err != nil {
			t.Fatalf("group %d: %v", i, err)
		}
		wg := &want[i]
		if g.Item.ID != wg.Item.ID || g.Item.Label != wg.Item.Label || len(g.Item.Fields) != len(wg.Item.Fields) ||
			g.Prompt.Text != wg.Prompt.Text || g.Prompt.NoThinking != wg.Prompt.NoThinking || len(g.Prompt.Messages) != len(wg.Prompt.Messages) {
			t.Errorf("group %d: item/prompt %+v %+v, want %+v %+v", i, g.Item, g.Prompt, wg.Item, wg.Prompt)
		}
		if len(g.Traces) != len(wg.Traces) {
			t.Fatalf("group %d: %d traces, want %d", i, len(g.Traces), len(wg.Traces))
		}
		for k := range g.Traces {
			gt, wt := &g.Traces[k], &wg.Traces[k]
			if gt.Greedy != wt.Greedy || gt.Seed != wt.Seed || gt.Text != wt.Text || gt.Answer != wt.Answer ||
				gt.Finish != wt.Finish || gt.Stop != wt.Stop || gt.LogProbKind != wt.LogProbKind {
				t.Errorf("group %d trace %d: %+v, want %+v", i, k, gt, wt)
			}
			if wantLP := f32(wt.LogProbs); !floatsEqual(gt.LogProbs, wantLP) && !(len(gt.LogProbs) == 0 && len(wantLP) == 0 && wt.LogProbKind == sampling.LogProbsNone) {
				t.Errorf("group %d trace %d: logprobs %v, want %v", i, k, gt.LogProbs, wantLP)
			}
			if wantH := f32(wt.Entropies); !floatsEqual(gt.Entropies, wantH) {
				t.Errorf("group %d trace %d: entropies %v, want %v", i, k, gt.Entropies, wantH)
			}
			if !slicesEqual(gt.TokenIDs, wt.TokenIDs) {
				t.Errorf("group %d trace %d: token ids %v, want %v", i, k, gt.TokenIDs, wt.TokenIDs)
			}
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("after the last group: %v, want io.EOF", err)
	}
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFloatFormat checks the documented number format: float32's shortest
// round-trip form, −Inf as null.
func TestFloatFormat(t *testing.T) {
	tests := []struct {
		lp   float64
		want string
	}{
		{-0.5, "-0.5"},
		{0, "0"},
		{-0.1, "-0.1"},                     // float32(−0.1) prints as −0.1, not −0.10000000149011612
		{-2.0 / 3, "-0.6666667"},           // 7 significant digits
		{-1e-30, "-1e-30"},                 // exponent form, valid JSON
		{-123456789, "-1.2345679e+08"},     // beyond float32's 24-bit mantissa
		{math.Inf(-1), "null"},             // probability zero
		{-1e300, "null"},                   // below float32's range: −Inf as a float32
		{math.SmallestNonzeroFloat64, "0"}, // underflows to float32 zero
	}
	for _, tt := range tests {
		g := sampling.Group{Item: sampling.Item{ID: "a"}, Traces: []sampling.TraceRecord{{
			Greedy: true, Finish: sampling.FinishEOG, LogProbKind: sampling.LogProbsFull,
			LogProbs: []float64{tt.lp}, Entropies: []float64{1},
		}}}
		line := writeOne(t, &g)
		if want := `"logprobs":[` + tt.want + `]`; !strings.Contains(line, want) {
			t.Errorf("logprob %g: line %s, want it to contain %s", tt.lp, line, want)
		}
	}

	// Every float32 read back is the float32 written (a property of
	// strconv's shortest formatting, checked here on the values a file
	// holds).
	rng := rand.New(rand.NewPCG(1, 2))
	var xs []float64
	for len(xs) < 2000 {
		// Random bits: every exponent and mantissa, subnormals included.
		x := float64(math.Float32frombits(rng.Uint32()))
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			xs = append(xs, -math.Abs(x))
		}
	}
	g := sampling.Group{Item: sampling.Item{ID: "a"}, Traces: []sampling.TraceRecord{{
		Greedy: true, Finish: sampling.FinishEOG, LogProbKind: sampling.LogProbsFull,
		LogProbs: xs, Entropies: make([]float64, len(xs)),
	}}}
	got := readOne(t, writeOne(t, &g))
	if !floatsEqual(got.Traces[0].LogProbs, f32(xs)) {
		t.Errorf("float32 values did not survive a write and read")
	}
}

// writeOne returns g's line in a file with testHeader.
func writeOne(t *testing.T, g *sampling.Group) string {
	t.Helper()
	var buf bytes.Buffer
	h := testHeader()
	w, err := sampling.NewWriter(&buf, &h)
	if err != nil {
		t.Fatal(err)
	}
	head := buf.Len()
	if err := w.Write(g); err != nil {
		t.Fatal(err)
	}
	return buf.String()[head:]
}

// readOne reads the group of line, in a file with testHeader.
func readOne(t *testing.T, line string) *sampling.Group {
	t.Helper()
	r, err := sampling.NewReader(strings.NewReader(headerLine(t)+line), "mem")
	if err != nil {
		t.Fatal(err)
	}
	g, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func headerLine(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	h := testHeader()
	if _, err := sampling.NewWriter(&buf, &h); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestWriterRejects(t *testing.T) {
	full := func(lp, h []float64) sampling.TraceRecord {
		return sampling.TraceRecord{Greedy: true, Finish: sampling.FinishEOG, LogProbKind: sampling.LogProbsFull, LogProbs: lp, Entropies: h}
	}
	tests := []struct {
		name string
		tr   sampling.TraceRecord
		id   string
		want string
	}{
		{"NaN logprob", full([]float64{math.NaN()}, []float64{1}), "a", "logprob NaN"},
		{"+Inf logprob", full([]float64{math.Inf(1)}, []float64{1}), "a", "logprob +Inf"},
		{"NaN entropy", full([]float64{-1}, []float64{math.NaN()}), "a", "entropy NaN"},
		{"-Inf entropy", full([]float64{-1}, []float64{math.Inf(-1)}), "a", "entropy -Inf"},
		{"entropy beyond float32", full([]float64{-1}, []float64{1e39}), "a", "entropy 1e+39"},
		{"lengths differ", full([]float64{-1, -2}, []float64{1}), "a", "1 entropies for 2 logprobs"},
		{"arrays with kind none", sampling.TraceRecord{Greedy: true, Finish: sampling.FinishEOG, LogProbKind: sampling.LogProbsNone, LogProbs: []float64{-1}}, "a", "logprobs with kind none"},
		{"entropies with top-0", sampling.TraceRecord{Greedy: true, Finish: sampling.FinishEOG, LogProbKind: sampling.LogProbsTop(0), LogProbs: []float64{-1}, Entropies: []float64{1}}, "a", "entropies with kind top-0"},
		{"token ids", sampling.TraceRecord{Greedy: true, Finish: sampling.FinishEOG, LogProbKind: sampling.LogProbsFull, LogProbs: []float64{-1}, Entropies: []float64{1}, TokenIDs: []int32{1, 2}}, "a", "2 token ids for 1 logprobs"},
		{"unknown kind", sampling.TraceRecord{Greedy: true, Finish: sampling.FinishEOG, LogProbKind: "top-n"}, "a", `unknown logprobs_kind "top-n"`},
		{"no kind", sampling.TraceRecord{Greedy: true, Finish: sampling.FinishEOG}, "a", `unknown logprobs_kind ""`},
		{"unknown finish", sampling.TraceRecord{Greedy: true, Finish: "done", LogProbKind: sampling.LogProbsNone}, "a", `unknown finish reason "done"`},
		{"greedy seed", sampling.TraceRecord{Greedy: true, Seed: 3, Finish: sampling.FinishEOG, LogProbKind: sampling.LogProbsNone}, "a", "greedy trace with seed 3"},
		{"empty id", full(nil, nil), "", "empty id"},
		{"bad UTF-8 id", full(nil, nil), "a\xff", "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := testHeader()
			w, err := sampling.NewWriter(&buf, &h)
			if err != nil {
				t.Fatal(err)
			}
			n := buf.Len()
			g := sampling.Group{Item: sampling.Item{ID: tt.id}, Traces: []sampling.TraceRecord{tt.tr}}
			err = w.Write(&g)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "sampling: ") {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
			if buf.Len() != n {
				t.Errorf("a rejected group wrote %q", buf.String()[n:])
			}
		})
	}

	t.Run("duplicate id", func(t *testing.T) {
		var buf bytes.Buffer
		h := testHeader()
		w, err := sampling.NewWriter(&buf, &h)
		if err != nil {
			t.Fatal(err)
		}
		g := sampling.Group{Item: sampling.Item{ID: "x"}}
		if err := w.Write(&g); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(&g); !errors.Is(err, sampling.ErrDuplicateID) {
			t.Errorf("second write of id x: %v, want ErrDuplicateID", err)
		}
	})
}

func TestReaderErrors(t *testing.T) {
	head := headerLine(t)
	group := func(id string) string {
		g := sampling.Group{Item: sampling.Item{ID: id}, Traces: []sampling.TraceRecord{{
			Greedy: true, Finish: sampling.FinishEOG, LogProbKind: sampling.LogProbsFull,
			LogProbs: []float64{-1}, Entropies: []float64{1},
		}}}
		return writeOne(t, &g)
	}
	a, b := group("a"), group("b")
	tests := []struct {
		name string
		file string
		line int
		torn bool
		want string
	}{
		{"empty", "", 1, false, "empty file"},
		{"not a trace file", `{"labelfree":"scores","version":1}` + "\n", 1, false, "not a trace file"},
		{"newer version", `{"labelfree":"traces","version":2}` + "\n", 1, false, "version 2"},
		{"torn header", head[:20], 1, true, "no newline"},
		{"bad shard", strings.Replace(head, `"shard":"1/3"`, `"shard":"3/3"`, 1), 1, false, "shard 3/3"},
		{"torn last line", head + a + b[:len(b)/2], 3, true, "no newline"},
		{"torn last line, newline kept", head + a + b[:len(b)/2] + "\n", 3, true, "unexpected end"},
		{"no newline but complete", head + a + b[:len(b)-1], 3, true, "no newline"},
		{"invalid JSON in the middle", head + b[:len(b)/2] + "\n" + a, 2, false, "invalid JSON"},
		{"blank line in the middle", head + "\n" + a, 2, false, "invalid JSON"},
		{"duplicate id", head + a + b + a, 4, false, "duplicate id \"a\" (first on line 2)"},
		{"no id", head + strings.Replace(a, `{"id":"a",`, `{`, 1), 2, false, "no id"},
		{"id differs from item id", head + strings.Replace(a, `"item":{"id":"a"`, `"item":{"id":"z"`, 1), 2, false, `id "a" but item id "z"`},
		{"null entropy", head + strings.Replace(a, `"entropies":[1]`, `"entropies":[null]`, 1), 2, false, "not a number"},
		{"string logprob", head + strings.Replace(a, `"logprobs":[-1]`, `"logprobs":["-1"]`, 1), 2, false, "not a number"},
		{"nested array", head + strings.Replace(a, `"logprobs":[-1]`, `"logprobs":[[-1]]`, 1), 2, false, "not a number"},
		{"lengths differ", head + strings.Replace(a, `"logprobs":[-1]`, `"logprobs":[-1,-2]`, 1), 2, false, "1 entropies for 2 logprobs"},
		{"unknown kind", head + strings.Replace(a, `"full"`, `"partial"`, 1), 2, false, `unknown logprobs_kind "partial"`},
		{"wrong type", head + strings.Replace(a, `"greedy":true`, `"greedy":"yes"`, 1), 2, false, "greedy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := sampling.NewReader(strings.NewReader(tt.file), "traces.jsonl")
			for err == nil {
				_, err = r.Next()
			}
			var le *sampling.LineError
			if !errors.As(err, &le) {
				t.Fatalf("error %v (%T), want a *LineError", err, err)
			}
			if le.File != "traces.jsonl" || le.Line != tt.line {
				t.Errorf("error at %s:%d, want traces.jsonl:%d", le.File, le.Line, tt.line)
			}
			if errors.Is(err, sampling.ErrTornLine) != tt.torn {
				t.Errorf("errors.Is(%v, ErrTornLine) = %v, want %v", err, !tt.torn, tt.torn)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "sampling: traces.jsonl:"+strconv.Itoa(tt.line)+": ") {
				t.Errorf("error %q, want it to start with the file and line and contain %q", err, tt.want)
			}
		})
	}
	if _, err := sampling.NewReader(strings.NewReader(head+a+b), "x"); err != nil {
		t.Errorf("the valid file of the cases above: %v", err)
	}
}

func TestLogProbKind(t *testing.T) {
	tests := []struct {
		k  sampling.LogProbKind
		n  int
		ok bool
	}{
		{sampling.LogProbsTop(20), 20, true},
		{"top-0", 0, true},
		{"top-", 0, false},
		{"top-05", 0, false},
		{"top--1", 0, false},
		{sampling.LogProbsFull, 0, false},
		{sampling.LogProbsNone, 0, false},
	}
	for _, tt := range tests {
		if n, ok := tt.k.TopN(); n != tt.n || ok != tt.ok {
			t.Errorf("%q.TopN() = %d, %v, want %d, %v", tt.k, n, ok, tt.n, tt.ok)
		}
	}
}

func TestNewTraceRecord(t *testing.T) {
	tr := sampling.Trace{Seed: 4, Text: "ab", Finish: sampling.FinishEOG, Tokens: []sampling.Token{
		{ID: 1, Text: "a", LogProb: 0}, {ID: 2, Text: "b", LogProb: -1, Entropy: 2}, {ID: 3, LogProb: -0.5, Entropy: 0.5},
	}}
	ans := sampling.Answer{Text: "b", Class: "b", OK: true}
	tests := []struct {
		kind       sampling.LogProbKind
		wantKind   sampling.LogProbKind
		lp, h      []float64
		wantTokens []int32
	}{
		{"", sampling.LogProbsFull, []float64{0, -1, -0.5}, []float64{0, 2, 0.5}, []int32{1, 2, 3}},
		{sampling.LogProbsTop(3), "top-3", []float64{0, -1, -0.5}, []float64{0, 2, 0.5}, []int32{1, 2, 3}},
		{sampling.LogProbsTop(0), "top-0", []float64{0, -1, -0.5}, nil, []int32{1, 2, 3}},
		{sampling.LogProbsNone, "none", nil, nil, []int32{1, 2, 3}},
	}
	for _, tt := range tests {
		r := sampling.NewTraceRecord(&tr, ans, tt.kind)
		if r.LogProbKind != tt.wantKind || r.Seed != 4 || r.Text != "ab" || r.Answer != ans || r.Finish != sampling.FinishEOG ||
			!floatsEqual(r.LogProbs, tt.lp) || !floatsEqual(r.Entropies, tt.h) || !slicesEqual(r.TokenIDs, tt.wantTokens) {
			t.Errorf("kind %q: %+v", tt.kind, r)
		}
	}
}
