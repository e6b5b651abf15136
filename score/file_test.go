package score_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/score"
	"github.com/labelfree/labelfree/uncertainty"
)

var testHeader = score.Header{
	Traces:       "traces.jsonl",
	TracesSHA256: strings.Repeat("ab", 32),
	Estimators:   []string{"cocoa-ppl", "self-consistency"},
	Settings: score.Settings{Part: "whole", Similarity: "answer", EccentricityThreshold: 0.9,
		ThinkIDs: [2]int32{score.Qwen3ThinkOpen, score.Qwen3ThinkClose}},
}

// testRecords exercise what the format must carry exactly: shortest-form
// floats that are not exact in decimal (0.1, 1/3), the extremes of
// float64, an id that HTML escaping would mangle, errors, no label, no
// scores at all, a location with the largest CRC and none.
var testRecords = []score.Record{
	{ID: "q1", Class: "up", OK: true, Label: "down", Scores: map[string]uncertainty.Score{
		"cocoa-ppl":        {Value: 0.1, Tiebreak: 1.0 / 3},
		"self-consistency": {Value: 0.25},
	}, Location: score.Location{Offset: 1 << 40, Len: 2345, CRC32C: math.MaxUint32}},
	{ID: "q<2>&", Class: "", OK: false, Scores: map[string]uncertainty.Score{
		"cocoa-ppl": {Value: math.MaxFloat64, Tiebreak: math.SmallestNonzeroFloat64},
	}, Errors: map[string]string{"self-consistency": "uncertainty: no parsable answer: the greedy trace r0"}},
	{ID: "q3", Class: "not de", OK: true, Errors: map[string]string{
		"cocoa-ppl":        `uncertainty: missing data (logprobs_kind "none")`,
		"self-consistency": "uncertainty: not enough samples",
	}},
}

func writeFile(t *testing.T, h *score.Header, recs []score.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := score.NewWriter(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	b := writeFile(t, &testHeader, testRecords)
	name := filepath.Join(t.TempDir(), "scores.jsonl")
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
	h, recs, err := score.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(h, testHeader) {
		t.Errorf("header: got %+v, want %+v", h, testHeader)
	}
	if !reflect.DeepEqual(recs, testRecords) {
		t.Errorf("records:\ngot  %+v\nwant %+v", recs, testRecords)
	}
}

// TestLineFormat pins the bytes of a header and a record line: the format
// that the package comment documents and other tools read.
func TestLineFormat(t *testing.T) {
	b := writeFile(t, &testHeader, testRecords[:2])
	want := `{"labelfree":"scores","version":1,"traces":"traces.jsonl","traces_sha256":"` + strings.Repeat("ab", 32) +
		`","estimators":["cocoa-ppl","self-consistency"],"config":{"part":"whole","similarity":"answer","normalize":false,"with_greedy":false,"eccentricity_threshold":0.9,"think_ids":[151667,151668],"top_n_entropies":false}}
{"id":"q1","class":"up","ok":true,"label":"down","scores":{"cocoa-ppl":{"u":0.1,"tie":0.3333333333333333},"self-consistency":{"u":0.25,"tie":0}},"location":{"offset":1099511627776,"len":2345,"crc32c":4294967295}}
{"id":"q<2>&","class":"","ok":false,"scores":{"cocoa-ppl":{"u":1.7976931348623157e+308,"tie":5e-324}},"errors":{"self-consistency":"uncertainty: no parsable answer: the greedy trace r0"}}
`
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
}

// readScores reads the score file name with Reader.All, with batches of
// about batch bytes, keeping the estimators keep (all if none), and
// returns the error that ended it.
func readScores(t *testing.T, name string, batch int, keep ...string) error {
	t.Helper()
	defer score.SetReadBatch(batch)()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := score.NewReader(f, name)
	if err != nil {
		return err
	}
	if err := r.Keep(keep...); err != nil {
		t.Fatal(err)
	}
	for _, err := range r.All() {
		if err != nil {
			return err
		}
	}
	return nil
}

// TestReaderAll checks that All, which decodes batches of lines on
// several goroutines, yields Next's records in order, after records
// already read with Next; and that Next refuses to go on after an All
// loop that stopped early, having read ahead.
func TestReaderAll(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("All decodes in parallel with GOMAXPROCS >= 2 only; run with -cpu 2")
	}
	var recs []score.Record
	for i := range 5000 {
		r := testRecords[i%len(testRecords)]
		r.ID = fmt.Sprintf("%s-%d", r.ID, i)
		recs = append(recs, r)
	}
	b := writeFile(t, &testHeader, recs)
	for _, batch := range []int{1, 300, 1 << 20} {
		defer score.SetReadBatch(batch)()
		r, err := score.NewReader(bytes.NewReader(b), "s.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		var got []score.Record
		for range 3 {
			rec, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, *rec)
		}
		for rec, err := range r.All() {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, *rec)
		}
		if !reflect.DeepEqual(got, recs) {
			t.Errorf("batch %d: %d records, not those written", batch, len(got))
		}
		if _, err := r.Next(); err != io.EOF {
			t.Errorf("batch %d: Next after All: %v, want io.EOF", batch, err)
		}
	}
	// Stopping at once, with batches of one line: many are in flight.
	defer score.SetReadBatch(1)()
	r, err := score.NewReader(bytes.NewReader(b), "s.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for range r.All() {
		break
	}
	if rec, err := r.Next(); err == nil || !strings.Contains(err.Error(), "ended early") {
		t.Errorf("Next after a loop that stopped early: %v, %v", rec, err)
	}
}

// TestReaderKeep checks that with Keep, Next and All give the records
// without the estimators left out, and that Keep refuses a name the
// header does not list.
func TestReaderKeep(t *testing.T) {
	var recs []score.Record
	for i := range 3000 {
		r := testRecords[i%len(testRecords)]
		r.ID = fmt.Sprintf("%s-%d", r.ID, i)
		recs = append(recs, r)
	}
	// One record in a layout of its own, which encoding/json decodes.
	odd := `{"ok":false,"id":"odd","class":"","scores":{"self-consistency":{"tie":0,"u":2}},"errors":{"cocoa-ppl":"e"}}` + "\n"
	b := append(writeFile(t, &testHeader, recs), odd...)
	recs = append(recs, score.Record{ID: "odd", Scores: map[string]uncertainty.Score{"self-consistency": {Value: 2}}, Errors: map[string]string{"cocoa-ppl": "e"}})
	var want []score.Record
	for _, r := range recs {
		if s, ok := r.Scores["self-consistency"]; ok {
			r.Scores = map[string]uncertainty.Score{"self-consistency": s}
		} else {
			r.Scores = nil
		}
		if e, ok := r.Errors["self-consistency"]; ok {
			r.Errors = map[string]string{"self-consistency": e}
		} else {
			r.Errors = nil
		}
		want = append(want, r)
	}
	for _, all := range []bool{false, true} {
		r, err := score.NewReader(bytes.NewReader(b), "s.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Keep("self-consistency"); err != nil {
			t.Fatal(err)
		}
		var got []score.Record
		if all {
			for rec, err := range r.All() {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, *rec)
			}
		} else {
			for {
				rec, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, *rec)
			}
		}
		if !reflect.DeepEqual(got, want) {
			for i := range got {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("All %v: record %d is %+v, want %+v", all, i, got[i], want[i])
				}
			}
			t.Fatalf("All %v: %d records, want %d", all, len(got), len(want))
		}
	}
	r, _ := score.NewReader(bytes.NewReader(b), "s.jsonl")
	if err := r.Keep("msp"); err == nil || !strings.Contains(err.Error(), `"msp" is not in the file`) {
		t.Errorf("Keep of an estimator the file lacks: %v", err)
	}
}

// TestReadWithoutLocations checks that a score file written before
// locations were recorded (version 1 all the same) still reads, with zero
// Locations.
func TestReadWithoutLocations(t *testing.T) {
	old := `{"labelfree":"scores","version":1,"traces":"traces.jsonl","traces_sha256":"","estimators":["msp"],"config":{"part":"whole","similarity":"answer","normalize":false,"with_greedy":false,"eccentricity_threshold":0.9,"think_ids":[151667,151668],"top_n_entropies":false}}
{"id":"q1","class":"up","ok":true,"scores":{"msp":{"u":0.5,"tie":0}}}
`
	name := filepath.Join(t.TempDir(), "old.jsonl")
	if err := os.WriteFile(name, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	_, recs, err := score.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Location != (score.Location{}) || recs[0].Scores["msp"].Value != 0.5 {
		t.Errorf("read %+v", recs)
	}
}

// TestLocationMatches checks the CRC-32C against a published check value:
// "123456789" has CRC-32C 0xE3069283 (RFC 3720, appendix B.4's parameters;
// the check value of the CRC catalogue's CRC-32/ISCSI).
func TestLocationMatches(t *testing.T) {
	l := score.LocationOf(10, []byte("123456789"))
	if want := (score.Location{Offset: 10, Len: 9, CRC32C: 0xE3069283}); l != want {
		t.Fatalf("LocationOf = %+v, want %+v", l, want)
	}
	for _, tc := range []struct {
		line string
		want bool
	}{{"123456789", true}, {"123456788", false}, {"12345678", false}, {"1234567890", false}} {
		if got := l.Matches([]byte(tc.line)); got != tc.want {
			t.Errorf("Matches(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

func TestRecordScore(t *testing.T) {
	r := &testRecords[1]
	if s, err := r.Score("cocoa-ppl"); err != nil || s.Value != math.MaxFloat64 {
		t.Errorf("cocoa-ppl: %v, %v", s, err)
	}
	_, err := r.Score("self-consistency")
	var ee *score.EstimatorError
	if !errors.As(err, &ee) || ee.Estimator != "self-consistency" || !strings.Contains(err.Error(), "no parsable answer") {
		t.Errorf("self-consistency: %v", err)
	}
	if _, err := r.Score("msp"); !errors.Is(err, score.ErrNotScored) {
		t.Errorf("msp: %v, want ErrNotScored", err)
	}
}

func TestWriterRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		rec  score.Record
		want string
	}{
		{"nan", score.Record{ID: "a", Class: "up", OK: true, Scores: map[string]uncertainty.Score{"cocoa-ppl": {Value: math.NaN()}}, Errors: map[string]string{"self-consistency": "x"}}, "non-finite"},
		{"inf tie", score.Record{ID: "a", Class: "up", OK: true, Scores: map[string]uncertainty.Score{"cocoa-ppl": {Tiebreak: math.Inf(1)}}, Errors: map[string]string{"self-consistency": "x"}}, "non-finite"},
		{"unknown", score.Record{ID: "a", Class: "up", OK: true, Errors: map[string]string{"msp": "x", "cocoa-ppl": "x", "self-consistency": "x"}}, `"msp", which the header does not list`},
		{"missing", score.Record{ID: "a", Class: "up", OK: true, Errors: map[string]string{"cocoa-ppl": "x"}}, `neither a score nor an error for "self-consistency"`},
		{"both", score.Record{ID: "a", Class: "up", OK: true, Scores: map[string]uncertainty.Score{"cocoa-ppl": {}}, Errors: map[string]string{"cocoa-ppl": "x", "self-consistency": "x"}}, "a score and an error"},
		{"empty error", score.Record{ID: "a", Class: "up", OK: true, Errors: map[string]string{"cocoa-ppl": "", "self-consistency": "x"}}, "empty error"},
		{"no id", score.Record{Class: "up", OK: true}, "no id"},
		{"ok without class", score.Record{ID: "a", OK: true}, "ok but no class"},
		{"class without ok", score.Record{ID: "a", Class: "up"}, "but not ok"},
		{"location at 0", score.Record{ID: "a", Errors: map[string]string{"cocoa-ppl": "x", "self-consistency": "x"}, Location: score.Location{Len: 5, CRC32C: 7}}, "both must be positive"},
		{"location of no bytes", score.Record{ID: "a", Errors: map[string]string{"cocoa-ppl": "x", "self-consistency": "x"}, Location: score.Location{Offset: 5}}, "both must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := score.NewWriter(&buf, &testHeader)
			if err != nil {
				t.Fatal(err)
			}
			n := buf.Len()
			err = w.Write(&tc.rec)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "score: ") {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
			if buf.Len() != n {
				t.Errorf("wrote %d bytes on error", buf.Len()-n)
			}
		})
	}
	var buf bytes.Buffer
	w, _ := score.NewWriter(&buf, &testHeader)
	if err := w.Write(&testRecords[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&testRecords[0]); !errors.Is(err, score.ErrDuplicateID) {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := score.NewWriter(&buf, &score.Header{}); err == nil {
		t.Errorf("header without estimators accepted")
	}
}

// TestReaderErrors checks that every malformed file is refused with an
// error naming the file and the line at fault.
func TestReaderErrors(t *testing.T) {
	good := string(writeFile(t, &testHeader, testRecords[:1]))
	header, rec, _ := strings.Cut(good, "\n")
	for _, tc := range []struct {
		name string
		file string
		line int
		want string
	}{
		{"empty", "", 1, "empty file"},
		{"not scores", `{"labelfree":"traces","version":1}` + "\n", 1, "not a score file"},
		{"version", strings.Replace(header, `"version":1`, `"version":2`, 1) + "\n", 1, "version 2"},
		{"no estimators", strings.Replace(header, `["cocoa-ppl","self-consistency"]`, `[]`, 1) + "\n", 1, "no estimators"},
		{"estimator twice", strings.Replace(header, `["cocoa-ppl","self-consistency"]`, `["msp","msp"]`, 1) + "\n", 1, "listed twice"},
		{"bad json", header + "\n" + rec + "{\n", 3, "invalid JSON"},
		{"duplicate", header + "\n" + rec + rec, 3, `duplicate id "q1" (first on line 2)`},
		{"no newline", header + "\n" + strings.TrimSuffix(rec, "\n"), 2, "no newline"},
		{"unknown estimator", header + "\n" + strings.Replace(rec, `"self-consistency"`, `"msp"`, 1), 2, `"msp", which the header does not list`},
		{"missing estimator", header + "\n" + strings.Replace(rec, `,"self-consistency":{"u":0.25,"tie":0}`, ``, 1), 2, `neither a score nor an error for "self-consistency"`},
		{"no u", header + "\n" + strings.Replace(rec, `"u":0.25,`, ``, 1), 2, `no "u"`},
		{"u string", header + "\n" + strings.Replace(rec, `"u":0.25`, `"u":"0.25"`, 1), 2, "cannot unmarshal"},
		{"u overflow", header + "\n" + strings.Replace(rec, `"u":0.25`, `"u":1e999`, 1), 2, "1e999"},
		{"ok without class", header + "\n" + strings.Replace(rec, `"class":"up"`, `"class":""`, 1), 2, "ok but no class"},
		{"empty error", header + "\n" + `{"id":"q9","class":"up","ok":true,"scores":{"cocoa-ppl":{"u":1,"tie":0}},"errors":{"self-consistency":""}}` + "\n", 2, "empty error"},
		{"location without len", header + "\n" + strings.Replace(rec, `"len":2345,`, ``, 1), 2, `location without "len"`},
		{"location without crc", header + "\n" + strings.Replace(rec, `,"crc32c":4294967295`, ``, 1), 2, `location without "crc32c"`},
		{"location at 0", header + "\n" + strings.Replace(rec, `"offset":1099511627776`, `"offset":0`, 1), 2, "both must be positive"},
		{"zero location", header + "\n" + strings.Replace(rec, `{"offset":1099511627776,"len":2345,"crc32c":4294967295}`, `{"offset":0,"len":0,"crc32c":0}`, 1), 2, "both must be positive"},
		{"negative len", header + "\n" + strings.Replace(rec, `"len":2345`, `"len":-1`, 1), 2, "both must be positive"},
		{"crc overflow", header + "\n" + strings.Replace(rec, `"crc32c":4294967295`, `"crc32c":4294967296`, 1), 2, "cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := filepath.Join(t.TempDir(), "s.jsonl")
			if err := os.WriteFile(name, []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			_, _, err := score.ReadFile(name)
			var le *score.LineError
			if !errors.As(err, &le) || le.File != name || le.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %s:%d: …%s…", err, name, tc.line, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "score: "+name+":") {
				t.Errorf("error %q does not start with the package and file", err)
			}
			// All, which decodes on other goroutines, says the same, with
			// batches of one line or of all of them, and keeping one
			// estimator, whose line checks differ, too.
			for _, batch := range []int{1, 1 << 20} {
				for _, keep := range [][]string{nil, {"self-consistency"}} {
					if aerr := readScores(t, name, batch, keep...); aerr == nil || aerr.Error() != err.Error() {
						t.Errorf("All, batches of %d bytes, keeping %v: %v", batch, keep, aerr)
					}
				}
			}
		})
	}
	if _, _, err := score.ReadFile(filepath.Join(t.TempDir(), "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: %v", err)
	}
}
