package filter

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/sampling"
)

// decoded returns g with every text decoded, as the fast path leaves
// them to be decoded when needed.
func decoded(g exportGroup) exportGroup {
	g.traces = slices.Clone(g.traces)
	for i := range g.traces {
		g.traces[i].Text()
	}
	return g
}

// viaJSON decodes a line the slow way.
func viaJSON(line []byte) (exportGroup, error) {
	var gj exportGroupJSON
	var g exportGroup
	if err := json.Unmarshal(line, &gj); err != nil {
		return g, err
	}
	gj.group(&g)
	return g, nil
}

// randomText draws strings with what JSON must escape or encode: quotes,
// backslashes, control characters, HTML characters, non-ASCII.
func randomText(rng *rand.Rand) string {
	parts := []string{"up", "<think>", "</think>", "a\"b", `c\d`, "\n", "\t", "\x01", "&", "é", "日本", "\u2028", "🙂", " ", "x", "\xff"}
	var b strings.Builder
	for range rng.IntN(6) {
		b.WriteString(parts[rng.IntN(len(parts))])
	}
	return b.String()
}

// randomGroup draws a group that exercises every optional part of a line.
func randomGroup(rng *rand.Rand, id string) sampling.Group {
	g := sampling.Group{Item: sampling.Item{ID: id}}
	if rng.IntN(2) == 0 {
		g.Item.Label = randomText(rng)
	}
	if rng.IntN(2) == 0 {
		g.Item.Fields = map[string]string{"gene": randomText(rng), randomText(rng) + "k": randomText(rng)}
	}
	switch rng.IntN(3) {
	case 0:
		g.Prompt = sampling.Chat(randomText(rng), randomText(rng))
	case 1:
		g.Prompt = sampling.Prompt{Text: randomText(rng)}
	}
	g.Prompt.NoThinking = rng.IntN(4) == 0
	finishes := []sampling.FinishReason{sampling.FinishEOG, sampling.FinishStop, sampling.FinishLength, sampling.FinishContext, sampling.FinishFiltered, sampling.FinishOther}
	kinds := []sampling.LogProbKind{sampling.LogProbsFull, sampling.LogProbsNone, sampling.LogProbsTop(0), sampling.LogProbsTop(5)}
	for k := range 1 + rng.IntN(4) {
		t := sampling.TraceRecord{Greedy: k == 0, Text: randomText(rng), Finish: finishes[rng.IntN(len(finishes))], LogProbKind: kinds[rng.IntN(len(kinds))]}
		if k > 0 {
			t.Seed = rng.Uint32()
		}
		if rng.IntN(3) > 0 {
			t.Answer = sampling.Answer{Text: randomText(rng), Class: randomText(rng), OK: rng.IntN(2) == 0}
		}
		if t.Finish == sampling.FinishStop {
			t.Stop = randomText(rng)
		}
		n := rng.IntN(5)
		if t.LogProbKind != sampling.LogProbsNone {
			for range n {
				lp := -rng.ExpFloat64() * math.Pow(10, float64(rng.IntN(12)-6))
				if rng.IntN(10) == 0 {
					lp = math.Inf(-1)
				}
				t.LogProbs = append(t.LogProbs, lp)
			}
			if t.LogProbs == nil {
				t.LogProbs = []float64{}
			}
		}
		if t.LogProbKind == sampling.LogProbsFull || t.LogProbKind == sampling.LogProbsTop(5) {
			t.Entropies = make([]float64, len(t.LogProbs))
			for i := range t.Entropies {
				t.Entropies[i] = rng.Float64() * 3
			}
		}
		if rng.IntN(2) == 0 && t.LogProbKind != sampling.LogProbsNone {
			for range len(t.LogProbs) {
				t.TokenIDs = append(t.TokenIDs, rng.Int32N(200000))
			}
		}
		g.Traces = append(g.Traces, t)
	}
	return g
}

// writeLines returns the group lines a sampling.Writer writes for gs.
func writeLines(t testing.TB, gs []sampling.Group) [][]byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := sampling.NewWriter(&buf, &sampling.Header{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range gs {
		if err := w.Write(&gs[i]); err != nil {
			t.Fatal(err)
		}
	}
	lines := bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), []byte{'\n'})
	return lines[1:]
}

// TestParseLineRoundTrip: every line a sampling.Writer writes takes the
// fast path, and reads back as what a sampling.Reader reads and as what
// encoding/json reads.
func TestParseLineRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var gs []sampling.Group
	for i := range 2000 {
		id := strings.ToValidUTF8(randomText(rng), "") + "id" + string(rune('a'+i%26)) + strings.Repeat("z", i/26)
		gs = append(gs, randomGroup(rng, id))
	}
	lines := writeLines(t, gs)
	var file bytes.Buffer
	if _, err := sampling.NewWriter(&file, &sampling.Header{}); err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		file.Write(l)
		file.WriteByte('\n')
	}
	name := filepath.Join(t.TempDir(), "traces.jsonl")
	if err := os.WriteFile(name, file.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	_, back, err := sampling.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range lines {
		var fast exportGroup
		if !parseLine(line, &fast) {
			t.Fatalf("fast path refused %s", line)
		}
		slow, err := viaJSON(line)
		if err != nil {
			t.Fatal(err)
		}
		if want := fromGroup(&back[i]); !reflect.DeepEqual(decoded(fast), slow) || !reflect.DeepEqual(decoded(fast), want) {
			t.Fatalf("%s\nfast %+v\njson %+v\nsampling.Reader %+v", line, fast, slow, want)
		}
	}
}

// TestDecodeLineRejects checks what decodeLine refuses, whichever path
// decodes the line.
func TestDecodeLineRejects(t *testing.T) {
	g := sampling.Group{Item: sampling.Item{ID: "q1"}, Prompt: sampling.Chat("", "question"), Traces: []sampling.TraceRecord{
		{Greedy: true, Text: "<think>x</think>up", Finish: sampling.FinishEOG, LogProbKind: sampling.LogProbsFull, LogProbs: []float64{-1}, Entropies: []float64{1}},
	}}
	line := string(writeLines(t, []sampling.Group{g})[0])
	for _, tc := range []struct{ name, line, want string }{
		{"item id", strings.Replace(line, `"item":{"id":"q1"`, `"item":{"id":"q2"`, 1), `id "q1" but item id "q2"`},
		{"no id", strings.ReplaceAll(line, `"q1"`, `""`), "no id"},
		{"finish", strings.Replace(line, `"finish":"eog"`, `"finish":"tired"`, 1), `unknown finish reason "tired"`},
		{"unclosed array", strings.Replace(line, `"logprobs":[-1]`, `"logprobs":[-1`, 1), "invalid character"},
		{"bad string escape", strings.Replace(line, `"logprobs_kind":"full"`, `"logprobs_kind":"\q"`, 1), "invalid character"},
		{"torn", line[:len(line)-3], "unexpected end"},
		{"text type", strings.Replace(line, `"text":"<think>x</think>up"`, `"text":5`, 1), "cannot unmarshal"},
	} {
		var eg exportGroup
		err := decodeLine([]byte(tc.line), &eg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	var eg exportGroup
	if err := decodeLine([]byte(line), &eg); err != nil || eg.id != "q1" || eg.traces[0].Text() != "<think>x</think>up" {
		t.Errorf("the good line: %v, %+v", err, eg)
	}
}

// FuzzParseLine checks that whenever the fast path accepts a line,
// encoding/json accepts the line with its per-token arrays emptied (their
// numbers the fast path does not read) and decodes the same group; and
// that whenever encoding/json accepts the line as it is, the fast path
// decodes the same group from it as well.
func FuzzParseLine(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 6))
	var gs []sampling.Group
	for i := range 12 {
		gs = append(gs, randomGroup(rng, "q"+string(rune('a'+i))))
	}
	for _, l := range writeLines(f, gs) {
		f.Add(l)
	}
	for _, s := range []string{
		`{"id":"a","item":{"id":"a"},"prompt":{},"traces":[]}`,
		`{"id":"a","item":{"id":"a"},"prompt":{"messages":[]},"traces":[]}`,
		`{"id":"a","item":{"id":"a","fields":{"k":"\u00e9"}},"prompt":{"text":"p"},"traces":[{"greedy":true,"seed":0,"text":"t","answer":{"ok":false},"finish":"eog","logprobs_kind":"full","logprobs":[null,-0.5,1e-7],"entropies":[0,1E+2,-0]}]}`,
		`{"id":"a","item":{"id":"a"},"prompt":{},"traces":[{"greedy":true,"seed":01,"text":"t","answer":{"ok":false},"finish":"eog","logprobs_kind":"none"}]}`,
		`{"id":"a","item":{"id":"a"},"prompt":{},"traces":[{"greedy":true,"seed":0,"text":"t","answer":{"ok":false},"finish":"eog","logprobs_kind":"\u0066ull","logprobs":[1.]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var fast exportGroup
		var arrays [][2]int
		if !parseLineArrays(line, &fast, &arrays) {
			return
		}
		var emptied []byte
		last := 0
		for _, a := range arrays {
			emptied = append(append(emptied, line[last:a[0]]...), "[]"...)
			last = a[1]
		}
		emptied = append(emptied, line[last:]...)
		slow, err := viaJSON(emptied)
		if err != nil {
			t.Fatalf("fast path accepted %q, encoding/json (arrays emptied): %v", line, err)
		}
		if !reflect.DeepEqual(decoded(fast), slow) {
			t.Fatalf("%q\nfast %+v\njson %+v", line, fast, slow)
		}
		if whole, err := viaJSON(line); err == nil && !reflect.DeepEqual(whole, slow) {
			t.Fatalf("%q\njson of the line %+v\njson, arrays emptied %+v", line, whole, slow)
		}
	})
}

// TestStructByte compares structByte, which reads 8 bytes at a time, with
// a loop over bytes, at every start and for every byte value among
// others.
func TestStructByte(t *testing.T) {
	want := func(b []byte, i int) int {
		for i < len(b) && !strings.ContainsRune(`"[]{}`, rune(b[i])) {
			i++
		}
		return i
	}
	for c := range 256 {
		for n := range 20 {
			b := append(bytes.Repeat([]byte("-0.5,1e-3"), n)[:n], byte(c), 'x', ']', '"')
			for i := range len(b) + 1 {
				if got, w := structByte(b, i), want(b, i); got != w {
					t.Fatalf("structByte(%q, %d) = %d, want %d", b, i, got, w)
				}
			}
		}
	}
}

// TestSpecialByte compares specialByte, which reads 8 bytes at a time,
// with a loop over bytes, at every start and for every byte value among
// others.
func TestSpecialByte(t *testing.T) {
	want := func(b []byte, i int) int {
		for i < len(b) && b[i] != '"' && b[i] != '\\' && b[i] >= 0x20 {
			i++
		}
		return i
	}
	for c := range 256 {
		for n := range 20 {
			b := append(bytes.Repeat([]byte("a\x80"), n)[:n], byte(c), 'x', '"', 0x1f)
			for i := range len(b) + 1 {
				if got, w := specialByte(b, i), want(b, i); got != w {
					t.Fatalf("specialByte(%q, %d) = %d, want %d", b, i, got, w)
				}
			}
		}
	}
}

// TestAppendExample checks that appendExample writes the bytes of
// encoding/json's Encoder with HTML escaping off, for strings with
// everything JSON escapes, bytes that are not UTF-8 among them.
func TestAppendExample(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	every := make([]byte, 0, 256)
	for c := range 256 {
		every = append(every, byte(c))
	}
	for i := range 3000 {
		prompt := []Message{{"user", randomText(rng)}}
		if i%2 == 0 {
			prompt = append([]Message{{"system", randomText(rng)}}, prompt...)
		}
		content := randomText(rng) + "\u2029\b\f\r\x7f"
		if i == 0 {
			content = string(every)
		}
		ex := Example{Messages: append(slices.Clip(prompt), Message{"assistant", content}), ID: randomText(rng), Trace: i}
		buf.Reset()
		if err := enc.Encode(&ex); err != nil {
			t.Fatal(err)
		}
		if got := appendExample(nil, prompt, content, ex.ID, i); string(got) != buf.String() {
			t.Fatalf("got  %q\nwant %q", got, buf.Bytes())
		}
	}
}
