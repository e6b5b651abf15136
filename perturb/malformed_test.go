package perturb_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/perturb"
)

const (
	goodDE = "pert,gene,label,split\n" +
		"A,G1,0,train\n" + // line 2
		"A,G2,1,train\n" + // line 3
		"A,G3,1,train\n" + // line 4
		"B,G1,0,test\n" // line 5
	goodDir = "pert,gene,label,split\n" +
		"A,G2,1,train\n" + // line 2
		"A,G3,0,train\n" // line 3
)

// writeCell writes k562's two files with the given contents into a new
// directory; a nil content leaves the file out.
func writeCell(t *testing.T, de, dir *string) string {
	t.Helper()
	d := t.TempDir()
	deName, dirName := perturb.FileNames(perturb.K562)
	for name, s := range map[string]*string{deName: de, dirName: dir} {
		if s == nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(d, name), []byte(*s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func ptr(s string) *string { return &s }

func TestLoadGoodFormats(t *testing.T) {
	want := "k562/A/G1 none, k562/A/G2 up, k562/A/G3 down, k562/B/G1 none"
	crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
	tests := []struct{ name, de, dir string }{
		{"plain", goodDE, goodDir},
		{"crlf and bom", "\ufeff" + crlf(goodDE), crlf(goodDir)},
		{"quoted fields and no final newline", strings.Replace(goodDE, "A,G1,", `"A","G1",`, 1), strings.TrimSuffix(goodDir, "\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			qs, err := perturb.Load(writeCell(t, &tt.de, &tt.dir), perturb.K562, "")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, q := range qs {
				got = append(got, q.ID()+" "+q.Class)
			}
			if s := strings.Join(got, ", "); s != want {
				t.Errorf("got %s\nwant %s", s, want)
			}
		})
	}
}

func TestLoadMalformed(t *testing.T) {
	replace := func(s, old, new string) string {
		if !strings.Contains(s, old) {
			panic("test: no " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
	tests := []struct {
		name    string
		de, dir string
		want    error
		file    string // "de" or "dir"
		line    int
		field   string
	}{
		{"de header short", replace(goodDE, "label,split", "label"), goodDir, perturb.ErrHeader, "de", 1, ""},
		{"de header renamed", replace(goodDE, "gene,", "target,"), goodDir, perturb.ErrHeader, "de", 1, ""},
		{"de empty", "", goodDir, perturb.ErrHeader, "de", 1, ""},
		{"dir header padded", goodDE, replace(goodDir, "pert,gene", "pert, gene"), perturb.ErrHeader, "dir", 1, ""},
		{"de row short", replace(goodDE, "A,G3,1,train", "A,G3,1"), goodDir, perturb.ErrColumns, "de", 4, ""},
		{"de row long", replace(goodDE, "B,G1,0,test", "B,G1,0,test,x"), goodDir, perturb.ErrColumns, "de", 5, ""},
		{"dir row short", goodDE, replace(goodDir, "A,G3,0,train", "A,G3,0"), perturb.ErrColumns, "dir", 3, ""},
		{"bare quote", replace(goodDE, "A,G2,", `A,G"2,`), goodDir, perturb.ErrSyntax, "de", 3, ""},
		{"label 2", replace(goodDE, "A,G1,0", "A,G1,2"), goodDir, perturb.ErrLabel, "de", 2, "label"},
		{"label empty", replace(goodDE, "B,G1,0", "B,G1,"), goodDir, perturb.ErrLabel, "de", 5, "label"},
		{"label 1.0", goodDE, replace(goodDir, "A,G3,0", "A,G3,0.0"), perturb.ErrLabel, "dir", 3, "label"},
		{"split unknown", replace(goodDE, "B,G1,0,test", "B,G1,0,val"), goodDir, perturb.ErrSplit, "de", 5, "split"},
		{"split case", goodDE, replace(goodDir, "A,G2,1,train", "A,G2,1,Train"), perturb.ErrSplit, "dir", 2, "split"},
		{"pert empty", replace(goodDE, "B,G1", ",G1"), goodDir, perturb.ErrName, "de", 5, "pert"},
		{"gene padded", replace(goodDE, "A,G1,", "A, G1,"), goodDir, perturb.ErrName, "de", 2, "gene"},
		{"pert with slash", replace(goodDE, "B,G1", "B/C,G1"), goodDir, perturb.ErrName, "de", 5, "pert"},
		{"de duplicate", goodDE + "A,G1,0,train\n", goodDir, perturb.ErrDuplicate, "de", 6, ""},
		{"de duplicate conflicting", goodDE + "A,G1,1,train\n", goodDir, perturb.ErrDuplicate, "de", 6, ""},
		{"dir duplicate", goodDE, goodDir + "A,G2,0,train\n", perturb.ErrDuplicate, "dir", 4, ""},
		{"dir row for a de-negative pair", goodDE, goodDir + "B,G1,1,test\n", perturb.ErrNotDE, "dir", 4, ""},
		{"dir row absent from de", goodDE, goodDir + "C,G9,1,test\n", perturb.ErrNotDE, "dir", 4, ""},
		{"two dir rows absent from de", goodDE, goodDir + "C,G9,1,test\nC,G8,1,test\n", perturb.ErrNotDE, "dir", 4, ""},
		{"de-positive without direction", goodDE, replace(goodDir, "A,G3,0,train\n", ""), perturb.ErrNoDirection, "de", 4, ""},
		{"split differs", goodDE, replace(goodDir, "A,G2,1,train", "A,G2,1,test"), perturb.ErrSplitMismatch, "dir", 2, "split"},
	}
	deName, dirName := perturb.FileNames(perturb.K562)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeCell(t, &tt.de, &tt.dir)
			_, err := perturb.Load(dir, perturb.K562, perturb.Test)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			var de *perturb.DataError
			if !errors.As(err, &de) {
				t.Fatalf("got %T %v, want a *DataError", err, err)
			}
			file := filepath.Join(dir, map[string]string{"de": deName, "dir": dirName}[tt.file])
			if de.File != file || de.Line != tt.line || de.Field != tt.field {
				t.Errorf("got %s:%d field %q, want %s:%d field %q", de.File, de.Line, de.Field, file, tt.line, tt.field)
			}
			if prefix := fmt.Sprintf("perturb: %s:%d: ", file, tt.line); !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("message %q does not start with %q", err, prefix)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := perturb.Load(writeCell(t, ptr(goodDE), nil), perturb.K562, ""); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no dir file: got %v, want fs.ErrNotExist", err)
	}
	if _, err := perturb.Load(writeCell(t, nil, ptr(goodDir)), perturb.K562, ""); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no de file: got %v, want fs.ErrNotExist", err)
	}
}
