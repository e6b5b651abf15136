package annotate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 24, 5, 0, 0, 0, time.UTC)

func rating(annotator, id string, soundness int) Rating {
	return Rating{Annotator: annotator, ID: id, Correct: soundness >= 3, Soundness: soundness, Comment: "c " + id, Time: t0}
}

func TestValidate(t *testing.T) {
	ok := rating("ann", "q1", 3)
	tests := []struct {
		name   string
		change func(r *Rating)
		valid  bool
	}{
		{"valid", func(r *Rating) {}, true},
		{"soundness 1", func(r *Rating) { r.Soundness = 1 }, true},
		{"soundness 5", func(r *Rating) { r.Soundness = 5 }, true},
		{"soundness 0", func(r *Rating) { r.Soundness = 0 }, false},
		{"soundness 6", func(r *Rating) { r.Soundness = 6 }, false},
		{"empty id", func(r *Rating) { r.ID = "" }, false},
		{"empty annotator", func(r *Rating) { r.Annotator = "" }, false},
		{"comment at cap", func(r *Rating) { r.Comment = strings.Repeat("x", MaxComment) }, true},
		{"comment over cap", func(r *Rating) { r.Comment = strings.Repeat("x", MaxComment+1) }, false},
		{"comment bad UTF-8", func(r *Rating) { r.Comment = "\xff" }, false},
		{"long id", func(r *Rating) { r.ID = strings.Repeat("i", maxField+1) }, false},
		{"no time", func(r *Rating) { r.Time = time.Time{} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ok
			tt.change(&r)
			err := r.Validate()
			if tt.valid && err != nil {
				t.Errorf("Validate = %v, want nil", err)
			}
			if !tt.valid && !errors.Is(err, ErrInvalid) {
				t.Errorf("Validate = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestFileName(t *testing.T) {
	for _, name := range []string{"alice", "bob_2", "a.b-c"} {
		got, err := FileName("/d", name)
		if err != nil || got != filepath.Join("/d", name+".jsonl") {
			t.Errorf("FileName(%q) = %q, %v", name, got, err)
		}
	}
	for _, name := range []string{"", ".hidden", "../x", "a/b", "é", strings.Repeat("a", 65)} {
		if _, err := FileName("/d", name); !errors.Is(err, ErrInvalid) {
			t.Errorf("FileName(%q): err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestWriteRead(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, "ann")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	in := []Rating{rating("ann", "q1", 2), rating("ann", "q2", 4), rating("ann", "q1", 5)}
	in[1].Comment = `<script>alert("x")</script>` + "\n" + `"quoted"`
	for _, r := range in {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Write(rating("bob", "q3", 3)); !errors.Is(err, ErrInvalid) {
		t.Errorf("rating by another annotator: err = %v, want ErrInvalid", err)
	}
	if err := w.Write(rating("ann", "q3", 9)); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid rating: err = %v, want ErrInvalid", err)
	}
	got, torn, err := ReadFile(w.Name())
	if err != nil || torn != nil {
		t.Fatalf("ReadFile: %v, torn %v", err, torn)
	}
	// The changed mind on q1 overrides, in the place of q1's first rating.
	want := []Rating{in[2], in[1]}
	if !slices.Equal(got, want) {
		t.Errorf("ReadFile = %+v\nwant %+v", got, want)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if err := w.Write(in[0]); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close: err = %v, want os.ErrClosed", err)
	}
}

func TestTornLastLine(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, "ann")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"q1", "q2"} {
		if err := w.Write(rating("ann", id, 3)); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	// A crash in the middle of the third write.
	partial := `{"annotator":"ann","id":"q3","corr`
	f, err := os.OpenFile(w.Name(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(partial)
	f.Close()

	got, torn, err := ReadFile(w.Name())
	if err != nil {
		t.Fatal(err)
	}
	var le *LineError
	if !errors.As(torn, &le) || le.Line != 3 || le.File != w.Name() || !errors.Is(torn, ErrTorn) {
		t.Errorf("torn = %v, want a LineError for %s line 3 wrapping ErrTorn", torn, w.Name())
	}
	if len(got) != 2 || got[0].ID != "q1" || got[1].ID != "q2" {
		t.Errorf("ratings = %+v, want q1 and q2", got)
	}

	// Reopening cuts the torn line off and appends cleanly after it.
	w, err = Create(dir, "ann")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.Dropped() != len(partial) {
		t.Errorf("Dropped = %d, want %d", w.Dropped(), len(partial))
	}
	if err := w.Write(rating("ann", "q3", 4)); err != nil {
		t.Fatal(err)
	}
	got, torn, err = ReadFile(w.Name())
	if err != nil || torn != nil {
		t.Fatalf("after repair: %v, torn %v", err, torn)
	}
	if len(got) != 3 || got[2].ID != "q3" || got[2].Soundness != 4 {
		t.Errorf("after repair: %+v", got)
	}
}

// TestLongLine reads back a rating whose line is longer than bufio's
// default 4096-byte buffer, with a comment that differs along its length.
func TestLongLine(t *testing.T) {
	w, err := Create(t.TempDir(), "ann")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r := rating("ann", strings.Repeat("long-id.", maxField/8), 4)
	var sb strings.Builder
	for i := 0; sb.Len() < MaxComment; i++ {
		fmt.Fprintf(&sb, "%d,", i)
	}
	r.Comment = sb.String()[:MaxComment]
	if err := w.Write(r); err != nil {
		t.Fatal(err)
	}
	got, torn, err := ReadFile(w.Name())
	if err != nil || torn != nil {
		t.Fatalf("ReadFile: %v, torn %v", err, torn)
	}
	if len(got) != 1 || got[0] != r {
		t.Errorf("read back a different rating")
	}
	if fi, err := os.Stat(w.Name()); err != nil || fi.Size() <= 4096+100 {
		t.Errorf("file of %v bytes (%v), want a line well over 4096", fi.Size(), err)
	}
}

func TestCreateCleanFile(t *testing.T) {
	dir := t.TempDir()
	for range 2 {
		w, err := Create(dir, "ann")
		if err != nil {
			t.Fatal(err)
		}
		if w.Dropped() != 0 {
			t.Errorf("Dropped = %d on a clean file", w.Dropped())
		}
		if err := w.Write(rating("ann", "q", 1)); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	b, err := os.ReadFile(filepath.Join(dir, "ann.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 2 {
		t.Errorf("%d lines after two sessions, want 2:\n%s", n, b)
	}
}

func TestReadErrors(t *testing.T) {
	good := `{"annotator":"a","id":"q1","correct":true,"soundness":3,"comment":"","time":"2026-11-24T05:00:00Z"}`
	tests := []struct {
		name string
		text string
		line int
	}{
		{"not JSON", good + "\nnope\n", 2},
		{"soundness", good + "\n" + strings.Replace(good, `"soundness":3`, `"soundness":7`, 1) + "\n", 2},
		{"empty id", strings.Replace(good, `"id":"q1"`, `"id":""`, 1) + "\n", 1},
		{"unknown field", strings.Replace(good, `"comment"`, `"extra":1,"comment"`, 1) + "\n", 1},
		{"two values", good + " {}\n", 1},
		{"blank line", good + "\n\n" + good + "\n", 2},
		{"too long", good + "\n" + strings.Repeat(" ", maxLine+10) + "\n", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Read(strings.NewReader(tt.text), "f.jsonl")
			var le *LineError
			if !errors.As(err, &le) || le.File != "f.jsonl" || le.Line != tt.line {
				t.Fatalf("err = %v, want a LineError at f.jsonl:%d", err, tt.line)
			}
			if prefix := fmt.Sprintf("annotate: f.jsonl:%d: ", tt.line); !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("message %q does not start with %q", err, prefix)
			}
		})
	}
	got, torn, err := Read(strings.NewReader(""), "empty")
	if len(got) != 0 || torn != nil || err != nil {
		t.Errorf("empty file: %v, %v, %v", got, torn, err)
	}
}

// TestConcurrentWriters runs two annotators, each with their own file as
// the design has it, and two goroutines sharing one annotator's Writer.
func TestConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	writers := make(map[string]*Writer)
	for _, ann := range []string{"alice", "bob"} {
		w, err := Create(dir, ann)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		writers[ann] = w
	}
	for g, ann := range []string{"alice", "bob", "bob"} {
		wg.Go(func() {
			for i := range n {
				r := rating(ann, fmt.Sprintf("g%d-q%02d", g, i), 1+i%5)
				r.Comment = strings.Repeat("z", i*50) // lines of different lengths
				if err := writers[ann].Write(r); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for ann, want := range map[string]int{"alice": n, "bob": 2 * n} {
		got, torn, err := ReadFile(writers[ann].Name())
		if err != nil || torn != nil {
			t.Fatalf("%s: %v, torn %v", ann, err, torn)
		}
		if len(got) != want {
			t.Errorf("%s: %d ratings, want %d", ann, len(got), want)
		}
		for _, r := range got {
			if r.Annotator != ann {
				t.Errorf("%s's file holds a rating by %s", ann, r.Annotator)
			}
		}
	}
}

func TestLatest(t *testing.T) {
	in := []Rating{rating("a", "1", 1), rating("b", "1", 2), rating("a", "2", 3), rating("a", "1", 4)}
	got := Latest(in)
	want := []Rating{in[3], in[1], in[2]}
	if !slices.Equal(got, want) {
		t.Errorf("Latest = %+v, want %+v", got, want)
	}
	if in[0].Soundness != 1 {
		t.Error("Latest modified its input")
	}
}

func TestResume(t *testing.T) {
	drawn := []Candidate{{ID: "q5"}, {ID: "q2"}, {ID: "q9"}, {ID: "q1"}}
	tests := []struct {
		name    string
		ratings []Rating
		want    int
	}{
		{"none", nil, 0},
		{"first three", []Rating{rating("a", "q5", 1), rating("a", "q2", 1), rating("a", "q9", 1)}, 3},
		{"out of order", []Rating{rating("a", "q9", 1), rating("a", "q5", 1)}, 1},
		{"other annotator", []Rating{rating("b", "q5", 1), rating("a", "q5", 1), rating("b", "q2", 1)}, 1},
		{"all", []Rating{rating("a", "q1", 1), rating("a", "q2", 1), rating("a", "q5", 1), rating("a", "q9", 1)}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Resume(tt.ratings, drawn, "a"); got != tt.want {
				t.Errorf("Resume = %d, want %d", got, tt.want)
			}
		})
	}
}
