package perturb

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/labelfree/labelfree/sampling"
)

// Errors that Load reports inside a *DataError, for errors.Is. ErrUnknownCell
// and ErrSplit are also returned, unwrapped from any DataError, for a bad
// argument.
var (
	ErrUnknownCell   = errors.New("unknown cell")
	ErrSplit         = errors.New("unknown split")
	ErrHeader        = errors.New("bad header")
	ErrColumns       = errors.New("wrong number of columns")
	ErrSyntax        = errors.New("csv syntax error")
	ErrLabel         = errors.New("bad label")
	ErrName          = errors.New("bad name")
	ErrDuplicate     = errors.New("duplicate pair")
	ErrNotDE         = errors.New("direction given for a pair that is not differentially expressed")
	ErrNoDirection   = errors.New("differentially expressed pair without a direction")
	ErrSplitMismatch = errors.New("split differs between the two files")
)

// DataError reports malformed or inconsistent data in a PerturbQA file.
type DataError struct {
	File  string // path of the file, as Load opened it
	Line  int    // 1-based line number; the header is line 1
	Field string // column name ("pert", "gene", "label", "split"), "" for the whole row
	Err   error  // wraps one of the sentinels above, with details
}

func (e *DataError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("perturb: %s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("perturb: %s:%d: %s: %v", e.File, e.Line, e.Field, e.Err)
}

// Unwrap returns e.Err.
func (e *DataError) Unwrap() error { return e.Err }

// FileNames returns the names of the two files of cell: differential
// expression and direction.
func FileNames(cell string) (de, dir string) { return cell + "-de.csv", cell + "-dir.csv" }

// header is the first line of every file.
var header = []string{"pert", "gene", "label", "split"}

// Load reads the questions of one cell line from the directory dir, which
// holds FileNames(cell) as distributed (a copy such as ../shared/perturbqa,
// or the directory Fetch returns), and returns those of split (Train, Test,
// or "" for both) in the order of the de file.
//
// A question's class is None where the de file's label is 0; where it is 1,
// the dir file's label gives Up (1) or Down (0). Load checks the whole of
// both files, whatever split it returns, and reports the first problem as a
// *DataError naming the file and line:
//
//   - a header other than pert,gene,label,split (ErrHeader); a row of other
//     than four columns (ErrColumns) or bad quoting (ErrSyntax);
//   - a label other than 0 or 1 (ErrLabel), a split other than train or test
//     (ErrSplit), an empty pert or gene, one with surrounding white space, or
//     a pert containing '/' (ErrName);
//   - a (pert, gene) pair twice in one file (ErrDuplicate, at the second);
//   - a dir row whose pair is missing from de or has de label 0 (ErrNotDE,
//     at the dir row), a de-positive pair with no dir row (ErrNoDirection,
//     at the de row), or a pair whose split differs between the files
//     (ErrSplitMismatch, at the dir row).
//
// The ten upstream files have none of these problems: their dir rows are
// exactly the de-positive pairs (the package tests check this). The dir file
// is read first, then the de file, so of several problems the one reported
// is the first in that order. A UTF-8 byte order mark and CRLF line ends are
// accepted.
func Load(dir, cell, split string) ([]Question, error) {
	if err := checkCell(cell); err != nil {
		return nil, err
	}
	if err := checkSplit(split); err != nil {
		return nil, err
	}
	deName, dirName := FileNames(cell)
	dirPath := filepath.Join(dir, dirName)
	dirs, err := readDirections(dirPath)
	if err != nil {
		return nil, err
	}
	qs, err := readDE(filepath.Join(dir, deName), dirPath, cell, split, dirs)
	if err != nil {
		return nil, err
	}
	// Every dir row must have met its de-positive pair. Of several orphans
	// report the first line, so that the error does not depend on map order.
	var orphan *direction
	for _, genes := range dirs.m {
		for _, d := range genes {
			if !d.seen && (orphan == nil || d.line < orphan.line) {
				orphan = d
			}
		}
	}
	if orphan != nil {
		return nil, &DataError{File: dirPath, Line: orphan.line,
			Err: fmt.Errorf("%w: (%s, %s) is not in %s", ErrNotDE, orphan.pert, orphan.gene, filepath.Join(dir, deName))}
	}
	return qs, nil
}

// LoadItems is Load followed by Items.
func LoadItems(dir, cell, split string) ([]sampling.Item, error) {
	qs, err := Load(dir, cell, split)
	if err != nil {
		return nil, err
	}
	return Items(qs), nil
}

// pairs maps (pert, gene) to V. The files group their rows by
// perturbation, so pairs is a map per perturbation and keeps the last one
// used at hand: a row costs one lookup in a small map that stays in cache,
// rather than one in a map of all rows (in a CPU profile of loading rpe1,
// map lookups fell from half the time to a sixth).
type pairs[V any] struct {
	m    map[string]map[string]V
	pert string
	cur  map[string]V // m[pert], nil if absent
}

func newPairs[V any]() *pairs[V] { return &pairs[V]{m: map[string]map[string]V{}} }

func (p *pairs[V]) genes(pert string) map[string]V {
	if pert != p.pert || p.cur == nil {
		p.pert, p.cur = pert, p.m[pert]
	}
	return p.cur
}

func (p *pairs[V]) get(pert, gene string) (V, bool) {
	v, ok := p.genes(pert)[gene]
	return v, ok
}

func (p *pairs[V]) set(pert, gene string, v V) {
	g := p.genes(pert)
	if g == nil {
		g = map[string]V{}
		p.m[pert], p.cur = g, g
	}
	g[gene] = v
}

// direction is one row of a dir file.
type direction struct {
	pert, gene string
	up         bool
	split      string
	line       int
	seen       bool // a de row matched it
}

func readDirections(path string) (*pairs[*direction], error) {
	dirs := newPairs[*direction]()
	err := scan(path, func(r row) error {
		if first, ok := dirs.get(r.pert, r.gene); ok {
			return r.errorf("", "%w (%s, %s), first at line %d", ErrDuplicate, r.pert, r.gene, first.line)
		}
		dirs.set(r.pert, r.gene, &direction{pert: r.pert, gene: r.gene, up: r.label, split: r.split, line: r.line})
		return nil
	})
	return dirs, err
}

func readDE(path, dirPath, cell, split string, dirs *pairs[*direction]) ([]Question, error) {
	lines := newPairs[int]()
	var qs []Question
	if split == "" {
		qs = make([]Question, 0, sizeHint(path))
	}
	err := scan(path, func(r row) error {
		if first, ok := lines.get(r.pert, r.gene); ok {
			return r.errorf("", "%w (%s, %s), first at line %d", ErrDuplicate, r.pert, r.gene, first)
		}
		lines.set(r.pert, r.gene, r.line)
		d, _ := dirs.get(r.pert, r.gene)
		class := None
		switch {
		case d == nil && r.label:
			return r.errorf("", "%w: (%s, %s) has no row in %s", ErrNoDirection, r.pert, r.gene, dirPath)
		case d != nil && !r.label:
			return &DataError{File: dirPath, Line: d.line,
				Err: fmt.Errorf("%w: %s:%d has label 0", ErrNotDE, path, r.line)}
		case d != nil && d.split != r.split:
			return &DataError{File: dirPath, Line: d.line, Field: "split",
				Err: fmt.Errorf("%w: %q here, %q at %s:%d", ErrSplitMismatch, d.split, r.split, path, r.line)}
		case d != nil && d.up:
			class = Up
		case d != nil:
			class = Down
		}
		if d != nil {
			d.seen = true
		}
		if split == "" || split == r.split {
			qs = append(qs, Question{Cell: cell, Pert: r.pert, Gene: r.gene, Split: r.split, Class: class})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return qs, nil
}

// sizeHint guesses the number of rows of a file from its size, for
// preallocation: the shortest files' lines average 20 bytes.
func sizeHint(path string) int {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return int(min(fi.Size()/20, 1<<22))
}

// row is one checked data row of a file.
type row struct {
	path       string
	line       int
	pert, gene string
	label      bool   // label 1
	split      string // Train or Test
}

func (r row) errorf(field, format string, args ...any) error {
	return &DataError{File: r.path, Line: r.line, Field: field, Err: fmt.Errorf(format, args...)}
}

// scan streams the data rows of a PerturbQA file to fn after checking the
// header, the column count, the label, the split and the names. The strings
// of a row stay valid after fn returns.
func scan(path string, fn func(row) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("perturb: %w", err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.ReuseRecord = true   // the strings are fresh per record; only the slice is reused
	cr.FieldsPerRecord = -1 // counted here, for a better message
	rec, err := cr.Read()
	if err == io.EOF {
		return &DataError{File: path, Line: 1, Err: fmt.Errorf("%w: empty file", ErrHeader)}
	}
	if err != nil {
		return csvError(path, err)
	}
	if len(rec) > 0 {
		rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
	}
	if !slices.Equal(rec, header) {
		return &DataError{File: path, Line: 1, Err: fmt.Errorf("%w %q, want %q", ErrHeader, strings.Join(rec, ","), strings.Join(header, ","))}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvError(path, err)
		}
		line, _ := cr.FieldPos(0)
		r := row{path: path, line: line}
		if len(rec) != len(header) {
			return r.errorf("", "%w: %d, want %d", ErrColumns, len(rec), len(header))
		}
		r.pert, r.gene = rec[0], rec[1]
		for i, name := range rec[:2] {
			switch {
			case name == "":
				return r.errorf(header[i], "%w: empty", ErrName)
			case strings.TrimSpace(name) != name:
				return r.errorf(header[i], "%w %q: surrounding white space", ErrName, name)
			}
		}
		if strings.Contains(r.pert, "/") {
			return r.errorf("pert", "%w %q: contains '/'", ErrName, r.pert)
		}
		switch rec[2] {
		case "0":
		case "1":
			r.label = true
		default:
			return r.errorf("label", "%w %q, want 0 or 1", ErrLabel, rec[2])
		}
		switch rec[3] {
		case Train:
			r.split = Train
		case Test:
			r.split = Test
		default:
			return r.errorf("split", "%w %q, want %q or %q", ErrSplit, rec[3], Train, Test)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
}

// csvError turns an encoding/csv error into a *DataError.
func csvError(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &DataError{File: path, Line: pe.Line, Err: fmt.Errorf("%w: %v", ErrSyntax, pe.Err)}
	}
	return fmt.Errorf("perturb: read %s: %w", path, err)
}
