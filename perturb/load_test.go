package perturb_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/perturb"
)

// dataDir returns the directory of the ten PerturbQA files, or skips.
func dataDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("LABELFREE_PERTURBQA")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "perturbqa")
	}
	if _, err := os.Stat(filepath.Join(dir, "k562-de.csv")); err != nil {
		t.Skipf("no PerturbQA files in %s (%v): set LABELFREE_PERTURBQA to a directory holding the ten CSV files of genentech/PerturbQA's perturbqa/datasets", dir, err)
	}
	return dir
}

// Row counts of the de files are those of ../shared/perturbqa/README.md
// (wc -l minus the header). Class counts come from
//
//	awk -F, 'NR==FNR{if(FNR>1)d[$1","$2]=$3;next}
//	  FNR>1{c=($3==0)?"none":(d[$1","$2]==1?"up":"down"); n[$4" "c]++}
//	  END{for(k in n)print k, n[k]}' k562-dir.csv k562-de.csv
//
// and the same for k562_set, run over the same files.
func TestLoadCounts(t *testing.T) {
	dir := dataDir(t)
	type counts map[string]int // split+" "+class → questions
	tests := []struct {
		cell  string
		rows  int
		class counts
	}{
		{perturb.K562, 157679, counts{
			"train up": 11041, "train down": 5820, "train none": 117606,
			"test up": 2530, "test down": 589, "test none": 20093}},
		{perturb.K562Set, 25841, counts{
			"train up": 3953, "train down": 7286, "train none": 9367,
			"test up": 995, "test down": 1837, "test none": 2403}},
		{perturb.RPE1, 187089, nil},
		{perturb.HepG2, 126889, nil},
		{perturb.Jurkat, 142822, nil},
	}
	for _, tt := range tests {
		t.Run(tt.cell, func(t *testing.T) {
			qs, err := perturb.Load(dir, tt.cell, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(qs) != tt.rows {
				t.Errorf("got %d questions, want %d", len(qs), tt.rows)
			}
			got := counts{}
			ids := map[string]bool{}
			for _, q := range qs {
				got[q.Split+" "+q.Class]++
				if q.Cell != tt.cell {
					t.Fatalf("%+v: cell %q, want %q", q, q.Cell, tt.cell)
				}
				if ids[q.ID()] {
					t.Fatalf("duplicate id %q", q.ID())
				}
				ids[q.ID()] = true
			}
			if len(got) != 6 {
				t.Errorf("got split/class combinations %v, want all six", got)
			}
			for k, want := range tt.class {
				if got[k] != want {
					t.Errorf("%s: got %d, want %d", k, got[k], want)
				}
			}
		})
	}
}

// The dir rows are counted in ../shared/perturbqa/README.md; every one
// must have become an up or down question (Load also checks it row by row).
func TestLoadDirRows(t *testing.T) {
	dir := dataDir(t)
	want := map[string]int{perturb.K562: 19980, perturb.RPE1: 26652, perturb.HepG2: 17860,
		perturb.Jurkat: 20058, perturb.K562Set: 14071}
	for _, cell := range perturb.Cells() {
		qs, err := perturb.Load(dir, cell, "")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, q := range qs {
			if q.Class != perturb.None {
				n++
			}
		}
		if n != want[cell] {
			t.Errorf("%s: %d up or down questions, want %d (dir rows)", cell, n, want[cell])
		}
	}
}

// The package doc says that the split is by perturbation.
func TestSplitByPerturbation(t *testing.T) {
	dir := dataDir(t)
	for _, cell := range perturb.Cells() {
		qs, err := perturb.Load(dir, cell, "")
		if err != nil {
			t.Fatal(err)
		}
		split := map[string]string{}
		for _, q := range qs {
			if s, ok := split[q.Pert]; ok && s != q.Split {
				t.Fatalf("%s: perturbation %s in both %s and %s", cell, q.Pert, s, q.Split)
			}
			split[q.Pert] = q.Split
		}
	}
}

func TestLoadSplit(t *testing.T) {
	dir := dataDir(t)
	all, err := perturb.Load(dir, perturb.HepG2, "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, split := range []string{perturb.Train, perturb.Test} {
		qs, err := perturb.Load(dir, perturb.HepG2, split)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			if q.Split != split {
				t.Fatalf("Load(%q) returned %+v", split, q)
			}
		}
		n += len(qs)
	}
	if n != len(all) {
		t.Errorf("train + test = %d questions, all = %d", n, len(all))
	}
}

// Rows picked by hand: k562-de.csv lines 2 and 5, k562-dir.csv lines 2
// and 4 ("AAMP,FABP5,0,train"), and k562_set-dir.csv line 94.
func TestLoadItems(t *testing.T) {
	dir := dataDir(t)
	want := map[string]string{
		"k562/AAMP/ADGRE5":  perturb.None,
		"k562/AAMP/ATP5IF1": perturb.Up,
		"k562/AAMP/FABP5":   perturb.Down,
		"k562_set/ACTL6A/6-dysregulated lncRNA/antisense transcripts": perturb.Up,
	}
	found := 0
	for _, cell := range []string{perturb.K562, perturb.K562Set} {
		items, err := perturb.LoadItems(dir, cell, perturb.Train)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			label, ok := want[it.ID]
			if !ok {
				continue
			}
			found++
			if it.Label != label {
				t.Errorf("%s: label %q, want %q", it.ID, it.Label, label)
			}
			parts := strings.SplitN(it.ID, "/", 3)
			f := it.Fields
			if f["cell"] != parts[0] || f["pert"] != parts[1] || f["gene"] != parts[2] || f["split"] != "train" || len(f) != 4 {
				t.Errorf("%s: fields %v", it.ID, f)
			}
		}
	}
	if found != len(want) {
		t.Errorf("found %d of the %d items", found, len(want))
	}
}

func TestLoadArguments(t *testing.T) {
	dir := t.TempDir()
	if _, err := perturb.Load(dir, "k563", ""); !errors.Is(err, perturb.ErrUnknownCell) {
		t.Errorf("unknown cell: got %v, want ErrUnknownCell", err)
	}
	if _, err := perturb.Load(dir, perturb.K562, "validation"); !errors.Is(err, perturb.ErrSplit) {
		t.Errorf("unknown split: got %v, want ErrSplit", err)
	}
	if _, err := perturb.Load(dir, perturb.K562, ""); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing files: got %v, want fs.ErrNotExist", err)
	}
}
