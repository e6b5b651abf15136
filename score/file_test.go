package score_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
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
// scores at all.
var testRecords = []score.Record{
	{ID: "q1", Class: "up", OK: true, Label: "down", Scores: map[string]uncertainty.Score{
		"cocoa-ppl":        {Value: 0.1, Tiebreak: 1.0 / 3},
		"self-consistency": {Value: 0.25},
	}},
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
{"id":"q1","class":"up","ok":true,"label":"down","scores":{"cocoa-ppl":{"u":0.1,"tie":0.3333333333333333},"self-consistency":{"u":0.25,"tie":0}}}
{"id":"q<2>&","class":"","ok":false,"scores":{"cocoa-ppl":{"u":1.7976931348623157e+308,"tie":5e-324}},"errors":{"self-consistency":"uncertainty: no parsable answer: the greedy trace r0"}}
`
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
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
		})
	}
	if _, _, err := score.ReadFile(filepath.Join(t.TempDir(), "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: %v", err)
	}
}
