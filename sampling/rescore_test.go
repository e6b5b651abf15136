package sampling_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/samplingtest"
)

// eogText is the Fake's end-of-generation token.
const eogText = "<|im_end|>"

// scorerFunc wraps a Scorer's Score with checks of its own.
type scorerFunc func(ctx context.Context, p sampling.Prompt, texts []string) ([][]sampling.Token, error)

func (f scorerFunc) Score(ctx context.Context, p sampling.Prompt, texts []string) ([][]sampling.Token, error) {
	return f(ctx, p, texts)
}

// strictScorer is f as a Scorer that fails the test on an empty text (a
// llama Scorer refuses them) and counts its calls.
func strictScorer(t *testing.T, f *samplingtest.Fake, calls *atomic.Int64) sampling.Scorer {
	return scorerFunc(func(ctx context.Context, p sampling.Prompt, texts []string) ([][]sampling.Token, error) {
		if calls != nil {
			calls.Add(1)
		}
		for i, s := range texts {
			if s == "" {
				t.Errorf("Score was given an empty text (%d of %d)", i, len(texts))
			}
		}
		return f.Score(ctx, p, texts)
	})
}

func rescore(t *testing.T, in, out string, s sampling.Scorer, c *sampling.RescoreConfig) sampling.RescoreStats {
	t.Helper()
	st, err := sampling.Rescore(t.Context(), in, out, s, c)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func readAll(t *testing.T, name string) (sampling.Header, []sampling.Group) {
	t.Helper()
	h, gs, err := sampling.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return h, gs
}

// TestRescoreRecoversRun is the issue's rescoring test: a run whose backend
// gave no log-probabilities (kind "none", no token ids), rescored by the
// model that generated it (the Fake, whose Score gives Generate's numbers
// back), equals the run that recorded them, but for the header's backend
// and the end-of-generation token's id (the Fake's Score gives "<|im_end|>"
// an ordinary id, Generate the special id 2). Without EndText the arrays
// lack that last token.
func TestRescoreRecoversRun(t *testing.T) {
	f := &samplingtest.Fake{}
	dir := t.TempDir()
	items := f.Items(12)
	full := fakeConfig(f, items, filepath.Join(dir, "full.jsonl"), 2, nil)
	none := fakeConfig(f, items, filepath.Join(dir, "none.jsonl"), 2, nil)
	none.LogProbs, none.TokenIDs = sampling.LogProbsNone, false
	for _, c := range []*sampling.RunConfig{full, none} {
		if _, err := sampling.Run(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	if b := readBytes(t, none.Out); strings.Contains(string(b), `"logprobs":`) || !strings.Contains(string(b), `"logprobs_kind":"none"`) {
		t.Fatal("the run without log-probabilities wrote some")
	}
	wantH, want := readAll(t, full.Out)
	wantH.Backend = "samplingtest+rescored:fake"

	out := filepath.Join(dir, "rescored.jsonl")
	st := rescore(t, none.Out, out, strictScorer(t, f, nil), &sampling.RescoreConfig{Name: "fake", EndText: eogText})
	if wantSt := (sampling.RescoreStats{Groups: 12, Rescored: 12 * 4}); st != wantSt {
		t.Errorf("stats %+v, want %+v", st, wantSt)
	}
	h, got := readAll(t, out)
	if !reflect.DeepEqual(h, wantH) {
		t.Errorf("header %+v, want %+v", h, wantH)
	}
	eog, length := 0, 0
	for i := range want {
		for k := range want[i].Traces {
			w, g := &want[i].Traces[k], &got[i].Traces[k]
			if n := len(w.TokenIDs); w.Finish == sampling.FinishEOG && n > 0 && len(g.TokenIDs) == n {
				if w.TokenIDs[n-1] != 2 || g.TokenIDs[n-1] == 2 {
					t.Errorf("group %d trace %d: end token id %d generated, %d scored", i, k, w.TokenIDs[n-1], g.TokenIDs[n-1])
				}
				w.TokenIDs[n-1] = g.TokenIDs[n-1]
				eog++
			} else {
				length++
			}
		}
	}
	if eog == 0 || length == 0 {
		t.Errorf("%d traces ended with the end token and %d otherwise; the test wants both", eog, length)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rescored groups differ from the run that recorded log-probabilities:\n%+v\nwant\n%+v", got[0].Traces[0], want[0].Traces[0])
	}

	// Without EndText, the arrays lack the end-of-generation token.
	st = rescore(t, none.Out, out, f, &sampling.RescoreConfig{Name: "fake"})
	if st.Rescored != 12*4 {
		t.Errorf("without EndText: %d traces rescored", st.Rescored)
	}
	_, got = readAll(t, out)
	for i := range want {
		for k := range want[i].Traces {
			w, g := &want[i].Traces[k], &got[i].Traces[k]
			n := len(w.LogProbs)
			if w.Finish == sampling.FinishEOG {
				n--
			}
			if !floatsEqual(g.LogProbs, w.LogProbs[:n]) || !floatsEqual(g.Entropies, w.Entropies[:n]) || !reflect.DeepEqual(g.TokenIDs, w.TokenIDs[:n]) {
				t.Fatalf("without EndText, group %d trace %d (%s): %d tokens %v, want the first %d of %v",
					i, k, w.Finish, len(g.LogProbs), g.LogProbs, n, w.LogProbs)
			}
		}
	}
}

// handMade writes a trace file of two groups from another backend: the
// first with traces of kinds none, top-5, full (with numbers of its own)
// and none with an empty text; the second all full.
func handMade(t *testing.T, path string) (sampling.Header, []sampling.Group) {
	t.Helper()
	h := sampling.Header{Model: "gpt-x", Backend: "openai", Task: "perturbqa/k562/test",
		Params: (&sampling.Params{Samples: 3, Seed: 11}).WithDefaults(), Shard: sampling.Shard{Index: 1, Count: 2}}
	up := sampling.Answer{Text: "up", Class: "up", OK: true}
	gs := []sampling.Group{
		{
			Item:   sampling.Item{ID: "a", Label: "up", Fields: map[string]string{"gene": "IRF1"}},
			Prompt: sampling.Chat("Reason.", "Is IRF1 up?"),
			Traces: []sampling.TraceRecord{
				{Greedy: true, Text: "<think> gene kinase</think>\n<answer>up</answer>", Answer: up, Finish: sampling.FinishEOG, LogProbKind: sampling.LogProbsNone},
				{Seed: 1, Text: "<think> stress</think>\n<answer>up</answer>", Answer: up, Finish: sampling.FinishStop, Stop: "</answer>",
					LogProbKind: sampling.LogProbsTop(5), LogProbs: []float64{-0.5, -0.25}, Entropies: []float64{1, 2}},
				{Seed: 2, Text: "<think> ok</think>", Finish: sampling.FinishFiltered, LogProbKind: sampling.LogProbsFull,
					LogProbs: []float64{-0.5, -1}, Entropies: []float64{0.25, 3}, TokenIDs: []int32{7, 8}},
				{Seed: 3, Text: "", Finish: sampling.FinishLength, LogProbKind: sampling.LogProbsNone},
			},
		},
		{
			Item:   sampling.Item{ID: "b"},
			Prompt: sampling.Prompt{Text: "raw prompt"},
			Traces: []sampling.TraceRecord{
				{Greedy: true, Text: "x", Finish: sampling.FinishLength, LogProbKind: sampling.LogProbsFull, LogProbs: []float64{-2}, Entropies: []float64{4}},
			},
		},
	}
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	w, err := sampling.NewWriter(fh, &h)
	if err != nil {
		t.Fatal(err)
	}
	for i := range gs {
		if err := w.Write(&gs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	return readAll(t, path) // as read back: float32 numbers
}

// TestRescoreKinds checks which traces Rescore touches: without Force,
// those not of kind full, with Force all; an empty text is not sent to the
// Scorer and gets empty arrays; a group with nothing to rescore costs no
// Score call; everything but the numbers is kept; the header is marked
// once however often the file is rescored.
func TestRescoreKinds(t *testing.T) {
	f := &samplingtest.Fake{}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	inH, inG := handMade(t, in)
	scoreOf := func(p sampling.Prompt, text string) []sampling.Token {
		toks, err := f.Score(t.Context(), p, []string{text})
		if err != nil {
			t.Fatal(err)
		}
		return toks[0]
	}
	check := func(what string, tr *sampling.TraceRecord, p sampling.Prompt, text string) {
		t.Helper()
		toks := scoreOf(p, text)
		if tr.LogProbKind != sampling.LogProbsFull || len(tr.LogProbs) != len(toks) || len(tr.Entropies) != len(toks) || len(tr.TokenIDs) != len(toks) {
			t.Fatalf("%s: kind %s with %d/%d/%d numbers, want full with %d", what, tr.LogProbKind, len(tr.LogProbs), len(tr.Entropies), len(tr.TokenIDs), len(toks))
		}
		for i, tok := range toks {
			if tr.LogProbs[i] != float64(float32(tok.LogProb)) || tr.Entropies[i] != float64(float32(tok.Entropy)) || tr.TokenIDs[i] != tok.ID {
				t.Errorf("%s: token %d: %g %g %d, want %+v", what, i, tr.LogProbs[i], tr.Entropies[i], tr.TokenIDs[i], tok)
			}
		}
	}
	var calls atomic.Int64
	out := filepath.Join(dir, "out.jsonl")
	st := rescore(t, in, out, strictScorer(t, f, &calls), &sampling.RescoreConfig{Name: "llama:q.gguf", EndText: eogText})
	if want := (sampling.RescoreStats{Groups: 2, Rescored: 3, Kept: 2}); st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	if calls.Load() != 1 {
		t.Errorf("%d Score calls, want 1 (group b has nothing to rescore)", calls.Load())
	}
	h, gs := readAll(t, out)
	wantH := inH
	wantH.Backend = "openai+rescored:llama:q.gguf"
	if !reflect.DeepEqual(h, wantH) {
		t.Errorf("header %+v, want %+v", h, wantH)
	}
	a, p := gs[0].Traces, inG[0].Prompt
	check("trace 0 (none, eog)", &a[0], p, inG[0].Traces[0].Text+eogText)
	check("trace 1 (top-5, stop)", &a[1], p, inG[0].Traces[1].Text)
	if !reflect.DeepEqual(a[2], inG[0].Traces[2]) {
		t.Errorf("trace 2 (full) changed without Force: %+v", a[2])
	}
	if e := a[3]; e.LogProbKind != sampling.LogProbsFull || len(e.LogProbs) != 0 || len(e.Entropies) != 0 || e.TokenIDs != nil {
		t.Errorf("empty trace: %+v, want kind full with empty arrays", e)
	}
	for k := range a {
		w := inG[0].Traces[k]
		if g := a[k]; g.Text != w.Text || g.Answer != w.Answer || g.Finish != w.Finish || g.Stop != w.Stop || g.Seed != w.Seed || g.Greedy != w.Greedy {
			t.Errorf("trace %d: %+v lost fields of %+v", k, g, w)
		}
	}
	if !reflect.DeepEqual(gs[0].Item, inG[0].Item) || !reflect.DeepEqual(gs[0].Prompt, inG[0].Prompt) || !reflect.DeepEqual(gs[1], inG[1]) {
		t.Errorf("items, prompts or the all-full group changed")
	}

	// Rescoring the rescored file with the same name changes nothing, the
	// header's mark included.
	again := filepath.Join(dir, "again.jsonl")
	if st := rescore(t, out, again, f, &sampling.RescoreConfig{Name: "llama:q.gguf"}); st.Rescored != 0 || st.Kept != 5 {
		t.Errorf("second rescoring: %+v, want nothing rescored", st)
	}
	if a, b := readBytes(t, out), readBytes(t, again); string(a) != string(b) {
		t.Errorf("rescoring a rescored file changed it:\n%s\nwant\n%s", b, a)
	}

	// Force rescores the full traces too, in place (in = out).
	calls.Store(0)
	st = rescore(t, again, again, strictScorer(t, f, &calls), &sampling.RescoreConfig{Name: "llama:q.gguf", Force: true, EndText: eogText})
	if st.Rescored != 5 || st.Kept != 0 || calls.Load() != 2 {
		t.Errorf("Force: %+v in %d calls, want 5 rescored in 2", st, calls.Load())
	}
	_, gs = readAll(t, again)
	check("forced trace 2", &gs[0].Traces[2], p, inG[0].Traces[2].Text)
	check("forced group b", &gs[1].Traces[0], inG[1].Prompt, "x")
	if ents, _ := os.ReadDir(dir); len(ents) != 3 {
		t.Errorf("%d files left in the directory, want in, out and again (no partial file)", len(ents))
	}
}

// TestRescoreResume interrupts a rescoring while it scores the fifth
// group, tears the partial file's last line as a crash would, and resumes:
// the output must equal an uninterrupted rescoring's, and the 4 groups
// written before are not rescored again.
func TestRescoreResume(t *testing.T) {
	f := &samplingtest.Fake{}
	dir := t.TempDir()
	c := fakeConfig(f, f.Items(12), filepath.Join(dir, "in.jsonl"), 1, nil)
	c.LogProbs, c.TokenIDs = sampling.LogProbsNone, false
	if _, err := sampling.Run(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	cfg := &sampling.RescoreConfig{Name: "fake", EndText: eogText}
	ref := filepath.Join(t.TempDir(), "ref.jsonl")
	rescore(t, c.Out, ref, f, cfg)

	out := filepath.Join(dir, "out.jsonl")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var calls atomic.Int64
	stopAt5 := scorerFunc(func(ctx context.Context, p sampling.Prompt, texts []string) ([][]sampling.Token, error) {
		if calls.Add(1) == 5 {
			cancel()
		}
		return f.Score(ctx, p, texts)
	})
	st, err := sampling.Rescore(ctx, c.Out, out, stopAt5, cfg)
	if !errors.Is(err, context.Canceled) || st.Groups != 5 {
		t.Fatalf("cancelled rescoring: %+v, %v; want 5 groups and context.Canceled", st, err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an interrupted rescoring left %s: %v", out, err)
	}
	partial := out + sampling.RescorePartialSuffix
	if got := ids(t, partial); len(got) != 4 {
		t.Fatalf("partial file holds %v, want 4 groups", got)
	}
	// A crash in the middle of writing group 5.
	pf, err := os.OpenFile(partial, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	pf.WriteString(`{"id":"q0004","item":{"id":"q00`)
	pf.Close()

	calls.Store(0)
	st = rescore(t, c.Out, out, strictScorer(t, f, &calls), cfg)
	if want := (sampling.RescoreStats{Groups: 12, Resumed: 4, Rescored: 8 * 4}); st != want || calls.Load() != 8 {
		t.Errorf("resumed: %+v in %d Score calls, want %+v in 8", st, calls.Load(), want)
	}
	if got, want := readBytes(t, out), readBytes(t, ref); string(got) != string(want) {
		t.Errorf("resumed rescoring differs from an uninterrupted one")
	}
	if _, err := os.Stat(partial); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the partial file is still there after the rename: %v", err)
	}
}

func TestRescoreErrors(t *testing.T) {
	f := &samplingtest.Fake{}
	dir := t.TempDir()
	c := fakeConfig(f, f.Items(10), filepath.Join(dir, "in.jsonl"), 1, nil)
	c.LogProbs, c.TokenIDs = sampling.LogProbsNone, false
	if _, err := sampling.Run(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	in := c.Out
	cfg := &sampling.RescoreConfig{Name: "fake"}
	done := filepath.Join(dir, "done.jsonl")
	rescore(t, in, done, f, cfg)
	lines := strings.SplitAfter(string(readBytes(t, done)), "\n") // header, q0000 … q0009, ""

	// in2 holds the first 5 items only.
	c2 := *c
	c2.Items, c2.Out = c.Items[:5], filepath.Join(dir, "in2.jsonl")
	if _, err := sampling.Run(t.Context(), &c2); err != nil {
		t.Fatal(err)
	}
	torn := filepath.Join(dir, "torn.jsonl")
	if err := os.WriteFile(torn, readBytes(t, in)[:len(readBytes(t, in))-9], 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		in      string
		partial string // the partial file's contents, if any
		s       sampling.Scorer
		cfg     *sampling.RescoreConfig
		want    string
	}{
		{"nil scorer", in, "", nil, cfg, "nil Scorer"},
		{"missing input", filepath.Join(dir, "none.jsonl"), "", f, cfg, "no such file"},
		{"torn input", torn, "", f, cfg, "torn last line"},
		{"partial of another scorer", in, lines[0] + lines[1], f, &sampling.RescoreConfig{Name: "other"},
			`backend: "samplingtest+rescored:fake" in the file, "samplingtest+rescored:other" in this run`},
		{"partial not a prefix", in, lines[0] + lines[3], f, cfg, `holds group "q0002" but not the ones before it`},
		{"partial with other groups", c2.Out, strings.Join(lines[:8], ""), f, cfg, "holds 2 groups that are not in"},
		{"scorer fails", in, "", scorerFunc(func(context.Context, sampling.Prompt, []string) ([][]sampling.Token, error) {
			return nil, errors.New("context full")
		}), cfg, `group "q0000": context full`},
		{"scorer short", in, "", scorerFunc(func(ctx context.Context, p sampling.Prompt, texts []string) ([][]sampling.Token, error) {
			toks, err := f.Score(ctx, p, texts)
			return toks[1:], err
		}), cfg, "returned 3 token lists for 4 texts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.jsonl")
			if tt.partial != "" {
				if err := os.WriteFile(out+sampling.RescorePartialSuffix, []byte(tt.partial), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := sampling.Rescore(t.Context(), tt.in, out, tt.s, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a failed rescoring wrote %s", out)
			}
		})
	}
}

func ExampleRescore() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	// Traces from a backend without log-probabilities (an HTTP API, say).
	fake := &samplingtest.Fake{}
	in, out := filepath.Join(dir, "api.jsonl"), filepath.Join(dir, "rescored.jsonl")
	_, err = sampling.Run(context.Background(), &sampling.RunConfig{
		Items: fake.Items(4), Task: fake.Task(), Generators: []sampling.Generator{fake},
		Params: &sampling.Params{Samples: 2}, Out: in, Backend: "api", LogProbs: sampling.LogProbsNone,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// A local model scores them (llama.NewGenerator(session) in real use).
	st, err := sampling.Rescore(context.Background(), in, out, fake, &sampling.RescoreConfig{Name: "fake", EndText: "<|im_end|>"})
	if err != nil {
		fmt.Println(err)
		return
	}
	h, groups, err := sampling.ReadFile(out)
	if err != nil {
		fmt.Println(err)
		return
	}
	tr := groups[0].Traces[0]
	fmt.Printf("%d traces rescored; backend %q; trace 0: %s, %d tokens\n", st.Rescored, h.Backend, tr.LogProbKind, len(tr.LogProbs))
	// Output:
	// 12 traces rescored; backend "api+rescored:fake"; trace 0: full, 22 tokens
}
