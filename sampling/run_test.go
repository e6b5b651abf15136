package sampling_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/samplingtest"
)

// fakeConfig returns a run of f over items into out on the given number
// of Generators, each of them gen (f if nil).
func fakeConfig(f *samplingtest.Fake, items []sampling.Item, out string, workers int, gen sampling.Generator) *sampling.RunConfig {
	if gen == nil {
		gen = f
	}
	gens := make([]sampling.Generator, workers)
	for i := range gens {
		gens[i] = gen
	}
	return &sampling.RunConfig{
		Items: items, Task: f.Task(), Generators: gens,
		Params: &sampling.Params{Samples: 3, MaxTokens: 40, Seed: 42},
		Out:    out, Model: "fake", Backend: "samplingtest", TaskName: "fake", TokenIDs: true,
	}
}

// reference runs c uninterrupted into a file of its own and returns the
// file's bytes.
func reference(t *testing.T, c *sampling.RunConfig) []byte {
	t.Helper()
	ref := *c
	ref.Out = filepath.Join(t.TempDir(), "reference.jsonl")
	if _, err := sampling.Run(t.Context(), &ref); err != nil {
		t.Fatal(err)
	}
	return readBytes(t, ref.Out)
}

func readBytes(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ids returns the ids of the groups in the trace file name.
func ids(t *testing.T, name string) []string {
	t.Helper()
	_, gs, err := sampling.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range gs {
		out = append(out, g.Item.ID)
	}
	return out
}

func itemIDs(items []sampling.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

// slow delays the prompts that mention a slow item, and records the order
// in which calls finish and how many had started when a slow one finished.
type slow struct {
	g       sampling.Generator
	slowID  string
	started atomic.Int64

	mu             sync.Mutex
	finished       []string
	startedAtFirst int64 // calls started when the slow item finished
}

func (s *slow) Generate(ctx context.Context, p sampling.Prompt, params *sampling.Params) ([]sampling.Trace, error) {
	s.started.Add(1)
	user := p.Messages[len(p.Messages)-1].Content
	if strings.Contains(user, s.slowID+".") {
		time.Sleep(50 * time.Millisecond)
		s.mu.Lock()
		s.startedAtFirst = s.started.Load()
		s.mu.Unlock()
	}
	tr, err := s.g.Generate(ctx, p, params)
	s.mu.Lock()
	s.finished = append(s.finished, user)
	s.mu.Unlock()
	return tr, err
}

// TestRunOrder checks that groups are written in input order whatever the
// concurrency and the order in which they finish, and that no more than
// len(Generators) items are in flight or waiting.
func TestRunOrder(t *testing.T) {
	f := &samplingtest.Fake{}
	items := f.Items(12)
	dir := t.TempDir()
	one := fakeConfig(f, items, filepath.Join(dir, "one.jsonl"), 1, nil)
	want := reference(t, one)

	s := &slow{g: f, slowID: "q0000"}
	four := fakeConfig(f, items, filepath.Join(dir, "four.jsonl"), 4, s)
	st, err := sampling.Run(t.Context(), four)
	if err != nil {
		t.Fatal(err)
	}
	if st != (sampling.Stats{Total: 12, Done: 12}) {
		t.Errorf("stats %+v", st)
	}
	if got := readBytes(t, four.Out); !bytes.Equal(got, want) {
		t.Errorf("4 generators wrote another file than 1:\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(s.finished[0], "q0001") && !strings.Contains(s.finished[0], "q0002") && !strings.Contains(s.finished[0], "q0003") {
		t.Errorf("first to finish: %q; the test meant the slow q0000 to finish after others", s.finished[0])
	}
	if s.startedAtFirst > 4 {
		t.Errorf("%d items started while the first was unwritten, want ≤ 4 (the reorder bound)", s.startedAtFirst)
	}
	if got := ids(t, four.Out); strings.Join(got, " ") != strings.Join(itemIDs(items), " ") {
		t.Errorf("ids in the file %v, want input order", got)
	}
}

// TestRunResume checks resuming: a finished file is left alone, a torn
// tail is cut and redone, and the result equals an uninterrupted run.
func TestRunResume(t *testing.T) {
	f := &samplingtest.Fake{}
	items := f.Items(6)
	c := fakeConfig(f, items, filepath.Join(t.TempDir(), "out.jsonl"), 2, nil)
	want := reference(t, c)
	lastStart := bytes.LastIndexByte(want[:len(want)-1], '\n') + 1
	headerEnd := bytes.IndexByte(want, '\n') + 1

	tests := []struct {
		name     string
		file     []byte
		skipped  int
		repaired bool // the run redoes a group
	}{
		{"complete", want, 6, false},
		{"torn in the middle of the last line", want[:lastStart+(len(want)-lastStart)/2], 5, true},
		{"last line without its newline", want[:len(want)-1], 5, true},
		{"torn last line with a newline", append(bytes.Clone(want[:lastStart+10]), '\n'), 5, true},
		{"header only", want[:headerEnd], 0, false},
		{"torn header", want[:headerEnd/2], 0, false},
		{"empty", nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(c.Out, tt.file, 0o644); err != nil {
				t.Fatal(err)
			}
			before := f.Calls()
			st, err := sampling.Run(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			if got := readBytes(t, c.Out); !bytes.Equal(got, want) {
				t.Errorf("resumed file differs from an uninterrupted run's:\n%s\nwant\n%s", got, want)
			}
			if st.Skipped != tt.skipped || st.Done != 6-tt.skipped || st.Total != 6 {
				t.Errorf("stats %+v, want %d skipped and %d done", st, tt.skipped, 6-tt.skipped)
			}
			if calls := f.Calls() - before; calls != int64(6-tt.skipped) {
				t.Errorf("%d Generate calls, want %d", calls, 6-tt.skipped)
			}
		})
	}
}

// TestRunRefuses checks the files a run must not resume, and that it
// leaves them as they were.
func TestRunRefuses(t *testing.T) {
	f := &samplingtest.Fake{}
	items := f.Items(6)
	dir := t.TempDir()
	c := fakeConfig(f, items, filepath.Join(dir, "out.jsonl"), 1, nil)
	good := reference(t, c)
	lines := bytes.SplitAfter(good, []byte("\n"))
	corrupt := bytes.Join([][]byte{lines[0], lines[1], []byte("{\"id\":\"q0001\",\n"), lines[3]}, nil)

	tests := []struct {
		name string
		file []byte
		edit func(c *sampling.RunConfig)
		want string
	}{
		{"other temperature", good, func(c *sampling.RunConfig) { c.Params.Temperature = 0.7 },
			`temperature: "0.6" in the file, "0.7" in this run`},
		{"other seed", good, func(c *sampling.RunConfig) { c.Params.Seed = 43 }, `seed: "42" in the file, "43" in this run`},
		{"other model", good, func(c *sampling.RunConfig) { c.Model = "other" }, `model: "fake" in the file, "other" in this run`},
		{"other shard", good, func(c *sampling.RunConfig) { c.Shard = sampling.Shard{Index: 0, Count: 2} },
			`shard: "" in the file, "0/2" in this run`},
		{"other stop", good, func(c *sampling.RunConfig) { c.Params.Stop = []string{"x"} }, `stop: "[]" in the file, "[x]" in this run`},
		{"fewer items", good, func(c *sampling.RunConfig) { c.Items = c.Items[:3] },
			`out.jsonl:5: group "q0003" is not one of this run's items`},
		{"invalid JSON in the middle", corrupt, nil, "out.jsonl:3: invalid JSON"},
		{"not a trace file", []byte("hello, world"), nil, "out.jsonl is not a trace file"},
		{"another JSON file", []byte(`{"a":1}` + "\n"), nil, "not a trace file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(c.Out, tt.file, 0o644); err != nil {
				t.Fatal(err)
			}
			cc := *c
			p := *c.Params
			cc.Params = &p
			if tt.edit != nil {
				tt.edit(&cc)
			}
			before := f.Calls()
			_, err := sampling.Run(t.Context(), &cc)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %s", err, tt.want)
			}
			if got := readBytes(t, c.Out); !bytes.Equal(got, tt.file) {
				t.Errorf("a refused run changed the file to\n%s", got)
			}
			if f.Calls() != before {
				t.Errorf("a refused run generated")
			}
		})
	}
}

// TestRunItemErrors checks a Generator's error on one item: by default it
// fails the run after the groups before it are written; with OnError it is
// skipped, and a later run fills it in.
func TestRunItemErrors(t *testing.T) {
	injected := errors.New("injected failure")
	failing := &samplingtest.Fake{Fail: func(p sampling.Prompt) error {
		if strings.Contains(p.Messages[1].Content, "q0003.") {
			return injected
		}
		return nil
	}}
	healthy := &samplingtest.Fake{}
	items := healthy.Items(8)
	dir := t.TempDir()
	want := reference(t, fakeConfig(healthy, items, filepath.Join(dir, "ref.jsonl"), 1, nil))

	t.Run("fail", func(t *testing.T) {
		c := fakeConfig(failing, items, filepath.Join(dir, "fail.jsonl"), 3, nil)
		st, err := sampling.Run(t.Context(), c)
		if !errors.Is(err, injected) || !strings.Contains(err.Error(), `item "q0003"`) {
			t.Errorf("error %v, want the injected one naming item q0003", err)
		}
		if got := strings.Join(ids(t, c.Out), " "); got != "q0000 q0001 q0002" {
			t.Errorf("file holds %s, want the groups before q0003", got)
		}
		if st.Done != 3 {
			t.Errorf("stats %+v, want 3 done", st)
		}
	})

	t.Run("skip and retry", func(t *testing.T) {
		var skipped []string
		c := fakeConfig(failing, items, filepath.Join(dir, "skip.jsonl"), 3, nil)
		c.OnError = func(it sampling.Item, err error) error {
			if !errors.Is(err, injected) {
				return err
			}
			skipped = append(skipped, it.ID)
			return nil
		}
		st, err := sampling.Run(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		if st != (sampling.Stats{Total: 8, Done: 7, Failed: 1}) || strings.Join(skipped, " ") != "q0003" {
			t.Errorf("stats %+v, skipped %v, want q0003 alone failed", st, skipped)
		}
		c.Generators = []sampling.Generator{healthy}
		st, err = sampling.Run(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		if st != (sampling.Stats{Total: 8, Skipped: 7, Done: 1}) {
			t.Errorf("retry: stats %+v", st)
		}
		if got := ids(t, c.Out); got[7] != "q0003" {
			t.Errorf("retry: ids %v, want q0003 appended", got)
		}
		merged := filepath.Join(dir, "merged.jsonl")
		if err := sampling.Merge(t.Context(), merged, items, c.Out); err != nil {
			t.Fatal(err)
		}
		if got := readBytes(t, merged); !bytes.Equal(got, want) {
			t.Errorf("the merged retried file differs from an uninterrupted run's")
		}
	})

	t.Run("OnError ends the run", func(t *testing.T) {
		stop := errors.New("stop here")
		c := fakeConfig(failing, items, filepath.Join(dir, "stop.jsonl"), 1, nil)
		c.OnError = func(sampling.Item, error) error { return stop }
		if _, err := sampling.Run(t.Context(), c); err != stop {
			t.Errorf("error %v, want OnError's", err)
		}
	})
}

// badGenerator returns traces that the runner must refuse.
type badGenerator struct {
	mutate func([]sampling.Trace) []sampling.Trace
}

func (b badGenerator) Generate(ctx context.Context, p sampling.Prompt, params *sampling.Params) ([]sampling.Trace, error) {
	tr, err := (&samplingtest.Fake{}).Generate(ctx, p, params)
	return b.mutate(tr), err
}

func TestRunBadTraces(t *testing.T) {
	tests := []struct {
		name   string
		mutate func([]sampling.Trace) []sampling.Trace
		want   string
	}{
		{"too few", func(tr []sampling.Trace) []sampling.Trace { return tr[:2] }, "returned 2 traces, want 4"},
		{"greedy not first", func(tr []sampling.Trace) []sampling.Trace { tr[0].Greedy = false; return tr },
			"trace 0 has Greedy false, want true"},
		{"NaN", func(tr []sampling.Trace) []sampling.Trace { tr[2].Tokens[1].LogProb = math.NaN(); return tr },
			"trace 2: token 1: logprob NaN"},
		{"finish", func(tr []sampling.Trace) []sampling.Trace { tr[1].Finish = ""; return tr }, `unknown finish reason ""`},
	}
	f := &samplingtest.Fake{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeConfig(f, f.Items(2), filepath.Join(t.TempDir(), "out.jsonl"), 1, badGenerator{tt.mutate})
			_, err := sampling.Run(t.Context(), c)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `"q0000"`) {
				t.Errorf("error %v, want one naming q0000 and containing %q", err, tt.want)
			}
		})
	}
}

// cancelAt cancels the run's context when it is asked for an item.
type cancelAt struct {
	g      sampling.Generator
	id     string
	cancel context.CancelFunc
}

func (c cancelAt) Generate(ctx context.Context, p sampling.Prompt, params *sampling.Params) ([]sampling.Trace, error) {
	if strings.Contains(p.Messages[1].Content, c.id+".") {
		c.cancel()
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return c.g.Generate(ctx, p, params)
}

func TestRunCancel(t *testing.T) {
	f := &samplingtest.Fake{}
	items := f.Items(10)
	c := fakeConfig(f, items, filepath.Join(t.TempDir(), "out.jsonl"), 1, nil)
	want := reference(t, c)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cc := *c
	cc.Generators = []sampling.Generator{cancelAt{g: f, id: "q0005", cancel: cancel}}
	st, err := sampling.Run(ctx, &cc)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if st.Done != 5 {
		t.Errorf("stats %+v, want the 5 groups before the cancelled one done", st)
	}
	if got := strings.Join(ids(t, c.Out), " "); got != "q0000 q0001 q0002 q0003 q0004" {
		t.Errorf("file holds %s", got)
	}
	if _, err := sampling.Run(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if got := readBytes(t, c.Out); !bytes.Equal(got, want) {
		t.Errorf("cancelled and resumed file differs from an uninterrupted run's")
	}
}

func TestRunProgress(t *testing.T) {
	f := &samplingtest.Fake{}
	items := f.Items(5)
	out := filepath.Join(t.TempDir(), "out.jsonl")
	for _, tt := range []struct {
		interval time.Duration
		calls    int
	}{
		{time.Hour, 2},       // the first and the last only
		{time.Nanosecond, 7}, // and one per group
	} {
		if err := os.Remove(out); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		var got []sampling.Progress
		c := fakeConfig(f, items, out, 2, nil)
		c.ProgressInterval = tt.interval
		c.Progress = func(p sampling.Progress) { got = append(got, p) }
		if _, err := sampling.Run(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.calls {
			t.Errorf("interval %v: %d Progress calls, want %d", tt.interval, len(got), tt.calls)
			continue
		}
		first, last := got[0], got[len(got)-1]
		if first.Done != 0 || first.Total != 5 || last.Done != 5 || last.Rate <= 0 || last.ETA != 0 {
			t.Errorf("first %+v, last %+v", first, last)
		}
		for i := 1; i < len(got); i++ {
			if got[i].Done < got[i-1].Done || got[i].Elapsed < got[i-1].Elapsed {
				t.Errorf("progress went back: %+v after %+v", got[i], got[i-1])
			}
		}
	}
}

func TestRunConfigErrors(t *testing.T) {
	f := &samplingtest.Fake{}
	items := f.Items(3)
	out := filepath.Join(t.TempDir(), "out.jsonl")
	tests := []struct {
		name string
		edit func(c *sampling.RunConfig)
		want string
	}{
		{"no task", func(c *sampling.RunConfig) { c.Task = nil }, "no Task"},
		{"no generators", func(c *sampling.RunConfig) { c.Generators = nil }, "no Generators"},
		{"nil generator", func(c *sampling.RunConfig) { c.Generators = []sampling.Generator{f, nil} }, "Generators[1] is nil"},
		{"no output", func(c *sampling.RunConfig) { c.Out = "" }, "no output path"},
		{"bad params", func(c *sampling.RunConfig) { c.Params.TopP = 2 }, "TopP"},
		{"bad shard", func(c *sampling.RunConfig) { c.Shard = sampling.Shard{Index: 3, Count: 2} }, "shard 3/2"},
		{"bad kind", func(c *sampling.RunConfig) { c.LogProbs = "some" }, `unknown logprobs_kind "some"`},
		{"duplicate ids", func(c *sampling.RunConfig) { c.Items = append(c.Items, sampling.Item{ID: "q0001"}) },
			`items 1 and 3: duplicate id "q0001"`},
		{"empty id", func(c *sampling.RunConfig) { c.Items = append(c.Items, sampling.Item{}) }, "item 3: sampling: empty id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeConfig(f, items, out, 1, nil)
			tt.edit(c)
			_, err := sampling.Run(t.Context(), c)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "sampling: ") {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
			if tt.name == "duplicate ids" && !errors.Is(err, sampling.ErrDuplicateID) {
				t.Errorf("error %v does not wrap ErrDuplicateID", err)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused run created its output file")
			}
		})
	}
	if _, err := sampling.Run(t.Context(), nil); err == nil {
		t.Errorf("Run(nil) succeeded")
	}
}

// TestRunLogProbKinds checks that a run records the kind of numbers its
// backend gives, and leaves out what it does not have.
func TestRunLogProbKinds(t *testing.T) {
	f := &samplingtest.Fake{Words: 3}
	for _, kind := range []sampling.LogProbKind{sampling.LogProbsNone, sampling.LogProbsTop(0), sampling.LogProbsTop(20)} {
		c := fakeConfig(f, f.Items(1), filepath.Join(t.TempDir(), "out.jsonl"), 1, nil)
		c.LogProbs, c.TokenIDs = kind, false
		if _, err := sampling.Run(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		line := string(readBytes(t, c.Out))
		n, _ := kind.TopN()
		for field, want := range map[string]bool{
			`"logprobs_kind":"` + string(kind) + `"`: true,
			`"logprobs":[`:                           kind != sampling.LogProbsNone,
			`"entropies":[`:                          n > 0,
			`"token_ids"`:                            false,
		} {
			if strings.Contains(line, field) != want {
				t.Errorf("kind %s: line has %s: %v, want %v", kind, field, !want, want)
			}
		}
	}
}

func ExampleRun() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	fake := &samplingtest.Fake{} // a real run uses llama or HTTP Generators
	st, err := sampling.Run(context.Background(), &sampling.RunConfig{
		Items:      fake.Items(10),
		Task:       fake.Task(),
		Generators: []sampling.Generator{fake, fake}, // two prompts in flight
		Params:     &sampling.Params{Samples: 8, Seed: 1},
		Out:        filepath.Join(dir, "traces.jsonl"),
		Model:      "fake",
		Shard:      sampling.Shard{Index: 0, Count: 2},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d groups of shard 0/2 written\n", st.Done)

	_, groups, err := sampling.ReadFile(filepath.Join(dir, "traces.jsonl"))
	if err != nil {
		fmt.Println(err)
		return
	}
	g := groups[0]
	fmt.Printf("%s: %d traces, greedy answer %q\n", g.Item.ID, len(g.Traces), g.Traces[0].Answer.Class)
	// Output:
	// 5 groups of shard 0/2 written
	// q0000: 9 traces, greedy answer "up"
}

// TestRunTraceLogProbKind checks that a trace's own LogProbKind overrides
// the run's, and that the finish reasons of remote APIs are accepted.
func TestRunTraceLogProbKind(t *testing.T) {
	f := &samplingtest.Fake{Words: 3}
	gen := badGenerator{func(tr []sampling.Trace) []sampling.Trace {
		tr[1].LogProbKind, tr[1].Finish = sampling.LogProbsNone, sampling.FinishFiltered
		tr[2].Finish = sampling.FinishOther
		return tr
	}}
	c := fakeConfig(f, f.Items(1), filepath.Join(t.TempDir(), "out.jsonl"), 1, gen)
	if _, err := sampling.Run(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	_, groups, err := sampling.ReadFile(c.Out)
	if err != nil {
		t.Fatal(err)
	}
	tr := groups[0].Traces
	if tr[0].LogProbKind != sampling.LogProbsFull || tr[0].LogProbs == nil {
		t.Errorf("trace 0: kind %q with %d logprobs, want the run's full kind", tr[0].LogProbKind, len(tr[0].LogProbs))
	}
	if tr[1].LogProbKind != sampling.LogProbsNone || tr[1].LogProbs != nil || tr[1].Finish != sampling.FinishFiltered {
		t.Errorf("trace 1: kind %q, %d logprobs, finish %q; want none, 0, filtered", tr[1].LogProbKind, len(tr[1].LogProbs), tr[1].Finish)
	}
	if tr[2].Finish != sampling.FinishOther {
		t.Errorf("trace 2: finish %q, want other", tr[2].Finish)
	}
}
