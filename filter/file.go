package filter

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"unicode/utf8"

	"github.com/labelfree/labelfree/score"
)

// FileVersion is the version of the selection file format that this
// package writes and reads.
const FileVersion = 1

// fileMagic is the value of the header's "labelfree" field.
const fileMagic = "selection"

// Strategy names, as a selection file's header and Summary record them.
const (
	NamePerClass = "per-class"
	NameGlobal   = "global"
	NameRandom   = "random"
)

// Reasons a group is excluded from a selection, the keys of
// Summary.Excluded.
const (
	// ReasonUnparsable: r0's answer could not be parsed (the score file's
	// "ok" is false), so the group has no class.
	ReasonUnparsable = "unparsable"
	// ReasonError: the ranking estimator, or a gate's, could not score the
	// group (the score file lists an error for it).
	ReasonError = "estimator-error"
	// ReasonGate: a gate's estimator scored the group above the gate's Max.
	ReasonGate = "gate"
)

// Gate is a hard threshold: a group passes if its score under Estimator
// has Value <= Max (the Tiebreak plays no part).
type Gate struct {
	Estimator string  `json:"estimator"`
	Max       float64 `json:"max"`
}

// Header is the first line of a selection file: how the selection was
// made and from what. It embeds the selection's Summary, so that the file
// describes itself.
type Header struct {
	// Strategy is NamePerClass, NameGlobal or NameRandom.
	Strategy string `json:"strategy"`
	// Estimator ranks the groups; for Random it is the estimator whose
	// errors exclude groups and whose scores the records carry, "" for
	// none.
	Estimator string `json:"estimator"`
	// Fraction is the strategy's q, 0 when it keeps a count or uses a
	// threshold instead.
	Fraction float64 `json:"fraction"`
	// N is the count kept (per class for PerClass and a per-class Random),
	// 0 when Fraction or Threshold is used.
	N int `json:"n"`
	// Threshold is Global's explicit threshold, nil when none.
	Threshold *float64 `json:"threshold,omitempty"`
	// Balance and Cap are PerClass's class balancing.
	Balance bool `json:"balance,omitempty"`
	Cap     int  `json:"cap,omitempty"`
	// Seed is Random's seed; 0 for the other strategies.
	Seed uint64 `json:"seed"`
	// PerClass reports whether Random drew per class.
	PerClass bool `json:"per_class,omitempty"`
	// Like is the Summary of the selection whose size Random matched, nil
	// when none.
	Like *Summary `json:"like,omitempty"`
	// Gates are the hard thresholds applied before the strategy.
	Gates []Gate `json:"gates,omitempty"`
	// Scores and ScoresSHA256 are the score file's path as given and the
	// hex SHA-256 of its bytes, "" when the selection was made from records
	// in memory.
	Scores       string `json:"scores"`
	ScoresSHA256 string `json:"scores_sha256"`
	// Traces and TracesSHA256 are copied from the score file's header:
	// the trace file the scores came from.
	Traces       string `json:"traces"`
	TracesSHA256 string `json:"traces_sha256"`
	// Summary counts what the selection kept and left out.
	Summary Summary `json:"summary"`
}

// Summary counts what a selection kept and left out, overall and per
// class.
type Summary struct {
	// Strategy and Estimator are those of the Header.
	Strategy  string `json:"strategy"`
	Estimator string `json:"estimator"`
	// Groups is the number of groups (records) in the score file.
	Groups int `json:"groups"`
	// Eligible is the number of groups the strategy could keep: those not
	// excluded.
	Eligible int `json:"eligible"`
	// Kept is the number of groups kept.
	Kept int `json:"kept"`
	// Excluded counts the groups left out before ranking, by reason
	// (ReasonUnparsable, ReasonError, ReasonGate); a group is counted once,
	// under the first reason that applies in that order. Groups = Eligible
	// + the sum of Excluded.
	Excluded map[string]int `json:"excluded"`
	// Classes has one entry per class (r0's answer) with at least one
	// group, sorted by class.
	Classes []ClassSummary `json:"classes"`
}

// ClassSummary counts one class of a Summary.
type ClassSummary struct {
	// Class is r0's answer class.
	Class string `json:"class"`
	// Total is the number of groups whose r0 answered Class.
	Total int `json:"total"`
	// Eligible is the number of those not excluded (by an estimator error
	// or a gate).
	Eligible int `json:"eligible"`
	// Kept is the number of those kept.
	Kept int `json:"kept"`
	// Threshold is the uncertainty at which the class was cut: the Value
	// of the last group kept (PerClass, and Global by fraction or count,
	// where it is the same for every class) or Global's explicit
	// threshold. nil for Random and for a ranked class with nothing kept.
	Threshold *float64 `json:"threshold,omitempty"`
}

// Record is one line of a selection file after the header: a kept group.
type Record struct {
	// ID is the group's id.
	ID string `json:"id"`
	// Class is r0's answer class.
	Class string `json:"class"`
	// Estimator is the Header's; U and Tie are the group's score under it
	// (uncertainty.Score's Value and Tiebreak). A Random selection without
	// an estimator writes none of the three.
	Estimator string  `json:"estimator,omitempty"`
	U         float64 `json:"u"`
	Tie       float64 `json:"tie"`
	// Rank is the group's 1-based position in the order the strategy kept
	// groups in: within its class for PerClass and a per-class Random,
	// overall for Global and an overall Random. Random ranks by its
	// random key.
	Rank int `json:"rank"`
	// Location is where the group's line is in the trace file, copied
	// from the score file's record; the zero Location when the score file
	// has none. Export reads the lines of a selection whose records all
	// have one directly (see Export).
	Location score.Location `json:"location,omitzero"`
}

// Selection is a selection file in memory: a header and the kept groups,
// in file order (by class, then rank, for per-class strategies; by rank
// otherwise).
type Selection struct {
	Header  Header
	Records []Record
}

// IDs returns the set of the kept groups' ids.
func (s *Selection) IDs() map[string]bool {
	m := make(map[string]bool, len(s.Records))
	for i := range s.Records {
		m[s.Records[i].ID] = true
	}
	return m
}

// Errors that a LineError or another error of this package wraps.
var (
	// ErrDuplicateID: an id occurs twice in a selection file.
	ErrDuplicateID = errors.New("duplicate id")
	// ErrExist: an output file exists and the caller did not ask for it to
	// be replaced.
	ErrExist = errors.New("file exists")
)

// LineError reports a bad line of a selection file.
type LineError struct {
	File string // the file's name as the caller gave it
	Line int    // 1 is the header
	Err  error  // what is wrong
}

// Error returns "filter: file:line: what is wrong".
func (e *LineError) Error() string {
	return "filter: " + e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Err.Error()
}

// Unwrap returns e.Err.
func (e *LineError) Unwrap() error { return e.Err }

// headerJSON is the header line: magic and version first.
type headerJSON struct {
	Labelfree string `json:"labelfree"` // always "selection"
	Version   int    `json:"version"`
	Header
}

// recordJSON reads a record line; u, tie and the location's fields are
// pointers to tell an absent number from 0.
type recordJSON struct {
	ID        string   `json:"id"`
	Class     string   `json:"class"`
	Estimator string   `json:"estimator"`
	U         *float64 `json:"u"`
	Tie       *float64 `json:"tie"`
	Rank      int      `json:"rank"`
	Location  *struct {
		Offset *int64  `json:"offset"`
		Len    *int    `json:"len"`
		CRC32C *uint32 `json:"crc32c"`
	} `json:"location"`
}

// check reports the first record the header contradicts; checkIDs false
// skips the check for duplicate ids, for records that had it.
func (s *Selection) check(checkIDs bool) error {
	var seen map[string]struct{}
	if checkIDs {
		seen = make(map[string]struct{}, len(s.Records))
	}
	for i := range s.Records {
		r := &s.Records[i]
		if err := r.check(&s.Header); err != nil {
			return fmt.Errorf("filter: record %d: %w", i, err)
		}
		if seen != nil {
			if _, dup := seen[r.ID]; dup {
				return fmt.Errorf("filter: record %d: %w %q", i, ErrDuplicateID, r.ID)
			}
			seen[r.ID] = struct{}{}
		}
	}
	return nil
}

// encode writes the selection file's lines to w, a record at a time.
func (s *Selection) encode(w io.Writer) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(headerJSON{Labelfree: fileMagic, Version: FileVersion, Header: s.Header}); err != nil {
		return fmt.Errorf("filter: header: %w", err)
	}
	b := buf.Bytes()
	for i := range s.Records {
		r := &s.Records[i]
		b = append(b, `{"id":`...)
		b = appendString(b, r.ID)
		b = append(b, `,"class":`...)
		b = appendString(b, r.Class)
		if r.Estimator != "" {
			b = append(b, `,"estimator":`...)
			b = appendString(b, r.Estimator)
			b = append(b, `,"u":`...)
			b = strconv.AppendFloat(b, r.U, 'g', -1, 64)
			b = append(b, `,"tie":`...)
			b = strconv.AppendFloat(b, r.Tie, 'g', -1, 64)
		}
		b = append(b, `,"rank":`...)
		b = strconv.AppendInt(b, int64(r.Rank), 10)
		if l := r.Location; l != (score.Location{}) {
			b = l.AppendJSON(append(b, `,"location":`...))
		}
		b = append(b, "}\n"...)
		if len(b) >= 64<<10 || i == len(s.Records)-1 {
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	if len(s.Records) == 0 {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// appendString appends s as a JSON string, as encoding/json writes it
// with HTML escaping off: the quote, the backslash and control characters
// escaped (\n, \r, \t, \b, \f, else \u00xx), bytes that are not UTF-8
// as \ufffd, U+2028 and U+2029 as \u2028 and \u2029, anything else as
// it is.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, `\b`...)
			case '\f':
				b = append(b, `\f`...)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// check reports a record that the header contradicts.
func (r *Record) check(h *Header) error {
	switch {
	case r.ID == "" || !utf8.ValidString(r.ID):
		return fmt.Errorf("bad id %q", r.ID)
	case r.Class == "":
		return fmt.Errorf("group %q: no class", r.ID)
	case r.Estimator != h.Estimator:
		return fmt.Errorf("group %q: estimator %q, header says %q", r.ID, r.Estimator, h.Estimator)
	case r.Rank < 1:
		return fmt.Errorf("group %q: rank %d < 1", r.ID, r.Rank)
	case !finite(r.U) || !finite(r.Tie):
		return fmt.Errorf("group %q: non-finite score %v, %v", r.ID, r.U, r.Tie)
	case r.Estimator == "" && (r.U != 0 || r.Tie != 0):
		return fmt.Errorf("group %q: a score without an estimator", r.ID)
	case r.Location != (score.Location{}) && (r.Location.Offset < 1 || r.Location.Len < 1):
		return fmt.Errorf("group %q: location at byte %d of length %d: both must be positive", r.ID, r.Location.Offset, r.Location.Len)
	}
	return nil
}

func finite(x float64) bool { return x-x == 0 }

// WriteFile writes s to the selection file name, replacing it if it
// exists: to "<name>.partial" first, synced, then renamed into place, so
// name is never a torn file. A selection is a function of its score file
// and strategy, so rewriting it with the same inputs writes the same bytes.
// It returns an error, and writes nothing, for a record the header
// contradicts (a class missing, another estimator, a rank below 1, a score
// without an estimator), a Location with an offset or length below 1, or a
// duplicate id.
func WriteFile(name string, s *Selection) error { return writeFile(name, s, true) }

// writeFile is WriteFile; checkIDs false skips the check for duplicate
// ids, for a selection made from a score.Reader's records.
func writeFile(name string, s *Selection, checkIDs bool) error {
	if err := s.check(checkIDs); err != nil {
		return err
	}
	return writeAtomic(name, true, s.encode)
}

// ReadFile reads the selection file name, checking every line: the
// header's magic and version; each record's JSON, id (non-empty, not seen
// before), class, rank, location (when there is one: every field given,
// offset and length positive), and that its estimator is the header's and
// its score present exactly when there is an estimator. Every error names the
// file and line (a *LineError). It does not check the header's Summary
// against the records.
func ReadFile(name string) (*Selection, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	defer f.Close()
	return read(f, name)
}

// read reads a selection file from r, called name in errors.
func read(r io.Reader, name string) (*Selection, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	line := 0
	errorf := func(format string, args ...any) error {
		return &LineError{File: name, Line: line, Err: fmt.Errorf(format, args...)}
	}
	next := func() ([]byte, error) {
		b, err := br.ReadBytes('\n')
		switch {
		case err == io.EOF && len(b) == 0:
			return nil, io.EOF
		case err == io.EOF:
			line++
			return nil, errorf("no newline at the end (the file was cut short)")
		case err != nil:
			return nil, fmt.Errorf("filter: read %s: %w", name, err)
		}
		line++
		return b[:len(b)-1], nil
	}
	unmarshal := func(b []byte, v any) error {
		if err := json.Unmarshal(b, v); err != nil {
			return errorf("invalid JSON: %v", err)
		}
		return nil
	}
	b, err := next()
	if err == io.EOF {
		line = 1
		return nil, errorf("empty file, no header")
	}
	if err != nil {
		return nil, err
	}
	var hj headerJSON
	if err := unmarshal(b, &hj); err != nil {
		return nil, err
	}
	switch {
	case hj.Labelfree != fileMagic:
		return nil, errorf(`header: not a selection file ("labelfree" is %q, want %q)`, hj.Labelfree, fileMagic)
	case hj.Version != FileVersion:
		return nil, errorf("header: version %d, this package reads version %d", hj.Version, FileVersion)
	}
	s := &Selection{Header: hj.Header}
	seen := make(map[string]int)
	for {
		b, err := next()
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return nil, err
		}
		var rj recordJSON
		if err := unmarshal(b, &rj); err != nil {
			return nil, err
		}
		rec := Record{ID: rj.ID, Class: rj.Class, Estimator: rj.Estimator, Rank: rj.Rank}
		if (rj.U != nil) != (rj.Estimator != "") || (rj.Tie != nil) != (rj.Estimator != "") {
			return nil, errorf("group %q: u and tie must be given exactly when an estimator is", rj.ID)
		}
		if rj.U != nil {
			rec.U, rec.Tie = *rj.U, *rj.Tie
		}
		if l := rj.Location; l != nil {
			if l.Offset == nil || l.Len == nil || l.CRC32C == nil {
				return nil, errorf("group %q: a location needs offset, len and crc32c", rj.ID)
			}
			rec.Location = score.Location{Offset: *l.Offset, Len: *l.Len, CRC32C: *l.CRC32C}
			if rec.Location == (score.Location{}) {
				// Written out, even the zero Location is wrong.
				return nil, errorf("group %q: location at byte 0 of length 0: both must be positive", rj.ID)
			}
		}
		if err := rec.check(&s.Header); err != nil {
			return nil, errorf("%w", err)
		}
		if first, dup := seen[rec.ID]; dup {
			return nil, errorf("%w %q (first on line %d)", ErrDuplicateID, rec.ID, first)
		}
		seen[rec.ID] = line
		s.Records = append(s.Records, rec)
	}
}
