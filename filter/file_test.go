package filter_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/score"
)

func TestSelectionRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ref, err := filter.Select(&header, score.Records(handRecords()), filter.PerClass{Estimator: "cocoa-ppl", Fraction: 0.5,
		Gates: []filter.Gate{{Estimator: "self-consistency", Max: 0.75}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []filter.Strategy{
		filter.PerClass{Estimator: "cocoa-ppl", N: 2, Balance: true, Cap: 3},
		filter.Global{Estimator: "cocoa-ppl", Threshold: fp(0.25)},
		filter.Random{Seed: 99, PerClass: true, Like: &ref.Header.Summary},
		filter.Random{Seed: 5, Fraction: 0.5, Estimator: "cocoa-ppl"},
	} {
		sel, err := filter.Select(&header, score.Records(handRecords()), s)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(dir, "sel.jsonl")
		if err := filter.WriteFile(name, sel); err != nil {
			t.Fatal(err)
		}
		got, err := filter.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, sel) {
			t.Errorf("%T: read back\n%+v\nwrote\n%+v", s, got, sel)
		}
		if _, err := os.Stat(name + ".partial"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("temporary file left: %v", err)
		}
	}
}

// TestSelectionLocations checks that Select copies each record's Location
// to the selection, and that a selection file keeps it.
func TestSelectionLocations(t *testing.T) {
	recs := handRecords()
	for i := range recs {
		recs[i].Location = score.Location{Offset: int64(1000 * (i + 1)), Len: 100 + i, CRC32C: uint32(7 * i)}
	}
	sel, err := filter.Select(&header, score.Records(recs), filter.Global{Estimator: "cocoa-ppl", Fraction: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]score.Location{}
	for _, r := range recs {
		byID[r.ID] = r.Location
	}
	for _, r := range sel.Records {
		if r.Location != byID[r.ID] {
			t.Errorf("group %s: location %+v, want %+v", r.ID, r.Location, byID[r.ID])
		}
	}
	name := filepath.Join(t.TempDir(), "sel.jsonl")
	if err := filter.WriteFile(name, sel); err != nil {
		t.Fatal(err)
	}
	got, err := filter.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sel) {
		t.Errorf("read back\n%+v\nwrote\n%+v", got, sel)
	}
	b, _ := os.ReadFile(name)
	if want := `"rank":1,"location":{"offset":`; !strings.Contains(string(b), want) {
		t.Errorf("no %s in\n%s", want, b)
	}
	sel.Records[0].Location.Len = 0
	if err := filter.WriteFile(name, sel); err == nil || !strings.Contains(err.Error(), "both must be positive") {
		t.Errorf("a location of no bytes: %v", err)
	}
}

// TestSelectionFormat pins the bytes of a small selection file.
func TestSelectionFormat(t *testing.T) {
	recs := handRecords()[:2] // u3, u1
	sel, err := filter.Select(&header, score.Records(recs), filter.PerClass{Estimator: "cocoa-ppl", N: 1})
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "sel.jsonl")
	if err := filter.WriteFile(name, sel); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(name)
	want := `{"labelfree":"selection","version":1,"strategy":"per-class","estimator":"cocoa-ppl","fraction":0,"n":1,"seed":0,"scores":"","scores_sha256":"","traces":"t.jsonl","traces_sha256":"abc","summary":{"strategy":"per-class","estimator":"cocoa-ppl","groups":2,"eligible":2,"kept":1,"excluded":{"estimator-error":0,"gate":0,"unparsable":0},"classes":[{"class":"up","total":2,"eligible":2,"kept":1,"threshold":0.1}]}}
{"id":"u1","class":"up","estimator":"cocoa-ppl","u":0.1,"tie":0,"rank":1}
`
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
}

func TestSelectionReadErrors(t *testing.T) {
	const h = `{"labelfree":"selection","version":1,"strategy":"global","estimator":"msp","fraction":0.5,"n":0,"seed":0,"scores":"","scores_sha256":"","traces":"","traces_sha256":"","summary":{}}` + "\n"
	const r = `{"id":"a","class":"up","estimator":"msp","u":1,"tie":0,"rank":1}` + "\n"
	for _, tc := range []struct {
		name, file string
		line       int
		want       string
	}{
		{"empty", "", 1, "empty file"},
		{"scores file", `{"labelfree":"scores","version":1}` + "\n", 1, "not a selection file"},
		{"version", strings.Replace(h, `"version":1`, `"version":3`, 1), 1, "version 3"},
		{"bad json", h + r + "[\n", 3, "invalid JSON"},
		{"duplicate", h + r + r, 3, `duplicate id "a" (first on line 2)`},
		{"other estimator", h + strings.Replace(r, `"msp"`, `"mte"`, 1), 2, `estimator "mte", header says "msp"`},
		{"no u", h + strings.Replace(r, `"u":1,`, ``, 1), 2, "exactly when an estimator is"},
		{"rank 0", h + strings.Replace(r, `"rank":1`, `"rank":0`, 1), 2, "rank 0"},
		{"no class", h + strings.Replace(r, `"class":"up"`, `"class":""`, 1), 2, "no class"},
		{"no newline", h + strings.TrimSuffix(r, "\n"), 2, "no newline"},
		{"location without crc", h + strings.Replace(r, `"rank":1`, `"rank":1,"location":{"offset":5,"len":3}`, 1), 2, "a location needs offset, len and crc32c"},
		{"zero location", h + strings.Replace(r, `"rank":1`, `"rank":1,"location":{"offset":0,"len":0,"crc32c":0}`, 1), 2, "both must be positive"},
		{"negative offset", h + strings.Replace(r, `"rank":1`, `"rank":1,"location":{"offset":-5,"len":3,"crc32c":0}`, 1), 2, "both must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := filepath.Join(t.TempDir(), "sel.jsonl")
			os.WriteFile(name, []byte(tc.file), 0o644)
			_, err := filter.ReadFile(name)
			var le *filter.LineError
			if !errors.As(err, &le) || le.File != name || le.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %s:%d: …%s…", err, name, tc.line, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "filter: "+name+":") {
				t.Errorf("error %q does not start with the package and file", err)
			}
		})
	}
}

func TestWriteFileRejects(t *testing.T) {
	sel := &filter.Selection{Header: filter.Header{Estimator: "msp"}, Records: []filter.Record{
		{ID: "a", Class: "up", Estimator: "msp", Rank: 1}, {ID: "a", Class: "up", Estimator: "msp", Rank: 2},
	}}
	name := filepath.Join(t.TempDir(), "sel.jsonl")
	if err := filter.WriteFile(name, sel); !errors.Is(err, filter.ErrDuplicateID) {
		t.Errorf("duplicate: %v", err)
	}
	sel.Records = sel.Records[:1]
	sel.Records[0].Estimator = "mte"
	if err := filter.WriteFile(name, sel); err == nil {
		t.Errorf("a record with another estimator was written")
	}
	if _, err := os.Stat(name); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a rejected selection left a file: %v", err)
	}
}
