package score_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/samplingtest"
	"github.com/labelfree/labelfree/score"
)

// testBatch is the TraceReader batch size in these tests: a few groups.
const testBatch = 16 << 10

// readAll reads name with a TraceReader.
func readAll(t *testing.T, name string, workers int, want func(string) bool) ([]sampling.Group, string, error) {
	t.Helper()
	r, err := score.OpenTraces(name, workers, want)
	if err != nil {
		return nil, "", err
	}
	defer r.Close()
	var gs []sampling.Group
	for g, err := range r.All(t.Context()) {
		if err != nil {
			return gs, "", err
		}
		gs = append(gs, *g)
	}
	return gs, r.SHA256(), nil
}

// TestTraceReader checks that the parallel reader gives what
// sampling.ReadFile gives, in order, on a file of several batches, and
// the file's hash; and that Want skips groups.
func TestTraceReader(t *testing.T) {
	defer score.SetBatchBytes(testBatch)()
	dir := t.TempDir()
	name := fakeTraces(t, t.Context(), dir, &samplingtest.Fake{}, 300, true)
	if fi, _ := os.Stat(name); fi.Size() < 5*testBatch {
		t.Fatalf("file of %d bytes: too small for several batches", fi.Size())
	}
	_, want, err := sampling.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := score.FileSHA256(name)
	for _, w := range []int{1, 3} {
		got, gotSum, err := readAll(t, name, w, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) || gotSum != sum {
			t.Errorf("%d workers: %d groups (want %d), hash %s (want %s)", w, len(got), len(want), gotSum, sum)
		}
	}
	odd := func(id string) bool { return id[len(id)-1]%2 == 1 }
	got, _, err := readAll(t, name, 2, odd)
	if err != nil {
		t.Fatal(err)
	}
	var wantOdd []sampling.Group
	for _, g := range want {
		if odd(g.Item.ID) {
			wantOdd = append(wantOdd, g)
		}
	}
	if !reflect.DeepEqual(got, wantOdd) {
		t.Errorf("Want: %d groups, want %d", len(got), len(wantOdd))
	}
	checkLines(t, name, 3, nil, len(want))
	checkLines(t, name, 2, odd, len(wantOdd))
}

// checkLines checks that the Locations of Lines are those of the lines of
// the file name that hold the groups, found here by splitting the file.
func checkLines(t *testing.T, name string, workers int, want func(string) bool, n int) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	// Each group line by id, with its offset.
	at := map[string]score.Location{}
	off := bytes.IndexByte(b, '\n') + 1
	for off < len(b) {
		end := off + bytes.IndexByte(b[off:], '\n')
		var g struct{ ID string }
		if err := json.Unmarshal(b[off:end], &g); err != nil {
			t.Fatal(err)
		}
		at[g.ID] = score.LocationOf(int64(off), b[off:end])
		off = end + 1
	}
	r, err := score.OpenTraces(name, workers, want)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := 0
	for l, err := range r.Lines(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		got++
		id := l.Group.Item.ID
		if l.Location != at[id] {
			t.Errorf("group %s: location %+v, want %+v", id, l.Location, at[id])
		}
		line := b[l.Location.Offset : l.Location.Offset+int64(l.Location.Len)]
		if !l.Location.Matches(line) || b[l.Location.Offset-1] != '\n' || b[l.Location.Offset+int64(l.Location.Len)] != '\n' {
			t.Errorf("group %s: %+v is not a whole line of the file", id, l.Location)
		}
	}
	if got != n {
		t.Errorf("%d lines, want %d", got, n)
	}
}

// TestTraceReaderErrors checks that errors name the file's own line, and
// that invalid JSON inside the file is not taken for a torn last line.
func TestTraceReaderErrors(t *testing.T) {
	defer score.SetBatchBytes(testBatch)()
	dir := t.TempDir()
	name := fakeTraces(t, t.Context(), dir, &samplingtest.Fake{}, 300, true)
	b, _ := os.ReadFile(name)
	lines := bytes.SplitAfter(b, []byte{'\n'})
	lines = lines[:len(lines)-1] // the empty piece after the last newline
	write := func(ls [][]byte) string {
		p := filepath.Join(t.TempDir(), "t.jsonl")
		os.WriteFile(p, bytes.Join(ls, nil), 0o644)
		return p
	}
	with := func(i int, line string) [][]byte {
		ls := append([][]byte(nil), lines...)
		ls[i] = []byte(line)
		return ls
	}
	// The line that ends the first batch ...
	end, size := 1, 0
	for ; size+len(lines[end]) < testBatch; end++ {
		size += len(lines[end])
	}
	// ... made invalid JSON of the same length, so that it still ends it.
	batchEnd := "{" + strings.Repeat(" ", len(lines[end])-2) + "\n"
	for _, tc := range []struct {
		name  string
		file  [][]byte
		line  int
		want  string
		torn  bool
		which error
	}{
		{"bad json in the middle", with(200, "{\"id\":\n"), 201, "invalid JSON", false, nil},
		{"bad json ending a batch", with(end, batchEnd), end + 1, "invalid JSON", false, nil},
		{"bad json last", with(300, "{\"id\":\n"), 301, "torn", true, nil},
		{"no newline", append(append([][]byte(nil), lines[:300]...), bytes.TrimSuffix(lines[300], []byte{'\n'})), 301, "no newline", true, nil},
		// Line 4's group again, far apart in another batch.
		{"duplicate across batches", append(append([][]byte(nil), lines...), lines[3]), 302, `(first on line 4)`, false, sampling.ErrDuplicateID},
		{"bad trace", with(150, strings.Replace(string(lines[150]), `"finish":"eog"`, `"finish":"tired"`, 1)), 151, `unknown finish reason "tired"`, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := write(tc.file)
			_, _, err := readAll(t, p, 2, nil)
			var le *sampling.LineError
			if !errors.As(err, &le) || le.File != p || le.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %s:%d: …%s…", err, p, tc.line, tc.want)
			}
			if errors.Is(err, sampling.ErrTornLine) != tc.torn {
				t.Errorf("torn: %v, want %v", errors.Is(err, sampling.ErrTornLine), tc.torn)
			}
			if tc.which != nil && !errors.Is(err, tc.which) {
				t.Errorf("error %v does not wrap %v", err, tc.which)
			}
			// sampling.ReadFile says the same.
			if _, _, serr := sampling.ReadFile(p); serr == nil || serr.Error() != err.Error() {
				t.Errorf("sampling.ReadFile: %v", serr)
			}
		})
	}
	if _, err := score.OpenTraces(write(nil), 1, nil); err == nil || !strings.Contains(err.Error(), "empty file") {
		t.Errorf("empty file: %v", err)
	}
	// Stopping early is fine.
	r, err := score.OpenTraces(name, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, err := range r.All(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	if r.SHA256() != "" {
		t.Errorf("hash of a file not read to its end")
	}
}

// TestTraceReaderAt reads groups by their Location, without the rest of
// the file, and refuses a Location the file no longer matches.
func TestTraceReaderAt(t *testing.T) {
	dir := t.TempDir()
	name := fakeTraces(t, t.Context(), dir, &samplingtest.Fake{}, 20, true)
	_, want, err := sampling.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := score.OpenTraces(name, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	var locs []score.Location
	for l, err := range r.Lines(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		locs = append(locs, l.Location)
	}
	// Last first, then the first: At does not depend on reading order,
	// and the last line (followed by nothing) reads like the others.
	for _, i := range []int{len(locs) - 1, 0, 7} {
		g, err := r.At(locs[i])
		if err != nil {
			t.Fatalf("At(group %d): %v", i, err)
		}
		if !reflect.DeepEqual(*g, want[i]) {
			t.Errorf("At(group %d) = %s, want %s", i, g.Item.ID, want[i].Item.ID)
		}
	}
	for _, c := range []struct {
		name string
		loc  score.Location
		says string
	}{
		{"another length", score.Location{Offset: locs[3].Offset, Len: locs[3].Len - 1, CRC32C: locs[3].CRC32C}, "not the one scored"},
		{"another checksum", score.Location{Offset: locs[3].Offset, Len: locs[3].Len, CRC32C: locs[3].CRC32C + 1}, "not the one scored"},
		{"past the end", score.Location{Offset: locs[19].Offset + 1<<20, Len: 10, CRC32C: 1}, "not the one scored"},
		{"zero", score.Location{}, "must be positive"},
	} {
		if _, err := r.At(c.loc); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.says)
		}
	}
	r.Close()
}
