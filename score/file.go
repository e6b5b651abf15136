package score

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labelfree/labelfree/uncertainty"
)

// FileVersion is the version of the score file format that this package
// writes and reads.
const FileVersion = 1

// fileMagic is the value of the header's "labelfree" field.
const fileMagic = "scores"

// Header is the first line of a score file: which trace file was scored,
// by which estimators, with which settings.
type Header struct {
	// Traces is the trace file's path as the caller gave it.
	Traces string
	// TracesSHA256 is the hex SHA-256 of the trace file's bytes.
	TracesSHA256 string
	// Estimators are the estimator names, in the order the file lists
	// their scores. Every record has each of them in Scores or in Errors.
	Estimators []string
	// Settings are the settings that the scores depend on.
	Settings Settings
}

// Settings are the part of a Config that changes the numbers of a score
// file, with defaults applied. The header records them so that a score
// file can be checked against a Config (UpToDate) and read without it.
// Settings is comparable with ==.
type Settings struct {
	// Part is the span the information-based estimators read: "whole",
	// "reasoning" or "answer" (uncertainty.Part's String).
	Part string `json:"part"`
	// Similarity names CoCoA's and the graph estimators' similarity:
	// "answer", "jaccard", "rougel" or "embedding".
	Similarity string `json:"similarity"`
	// Normalize reports whether answers were compared after
	// uncertainty.NormalizeAnswer.
	Normalize bool `json:"normalize"`
	// WithGreedy reports whether r0 joined the set-based estimators' set.
	WithGreedy bool `json:"with_greedy"`
	// EccentricityThreshold is the eccentricity estimator's threshold.
	EccentricityThreshold float64 `json:"eccentricity_threshold"`
	// ThinkIDs are the token ids of the reasoning markers that split a
	// trace for the reasoning and answer parts: open, close.
	ThinkIDs [2]int32 `json:"think_ids"`
	// TopNEntropies reports whether entropies over an API's top n
	// alternatives ("top-n" traces) were accepted as token entropies.
	TopNEntropies bool `json:"top_n_entropies"`
}

// Record is one line of a score file after the header: one group's scores.
type Record struct {
	// ID is the group's id in the trace file.
	ID string
	// Class is r0's parsed answer class, "" when OK is false. It is the
	// class filtering groups by; it is never the label.
	Class string
	// OK reports whether r0's answer could be parsed.
	OK bool
	// Label is the item's gold label copied from the trace file, "" when
	// unknown. It is there for evaluation only: the filter package never
	// reads it.
	Label string
	// Scores holds each estimator's score, by name.
	Scores map[string]uncertainty.Score
	// Errors holds, by name, the error of each estimator that could not
	// score the group. An estimator is in Scores or in Errors, never both.
	Errors map[string]string
	// Location is where the group's line is in the trace file, the zero
	// Location when unknown (a score file written before locations were
	// recorded, or a Record made in memory).
	Location Location
}

// Score returns the score of the estimator called name, or an error: the
// estimator's recorded error, or ErrNotScored if the record has neither a
// score nor an error under that name.
func (r *Record) Score(name string) (uncertainty.Score, error) {
	if s, ok := r.Scores[name]; ok {
		return s, nil
	}
	if e, ok := r.Errors[name]; ok {
		return uncertainty.Score{}, &EstimatorError{Estimator: name, Msg: e}
	}
	return uncertainty.Score{}, fmt.Errorf("score: group %q: estimator %q: %w", r.ID, name, ErrNotScored)
}

// EstimatorError is the error an estimator reported for a group, as a
// score file records it.
type EstimatorError struct {
	Estimator string // the estimator's name
	Msg       string // its error message
}

// Error returns "score: estimator: message".
func (e *EstimatorError) Error() string { return "score: " + e.Estimator + ": " + e.Msg }

// Errors that a LineError or another error of this package wraps.
var (
	// ErrDuplicateID: an id occurs twice in a score file.
	ErrDuplicateID = errors.New("duplicate id")
	// ErrNotScored: a score file has no column for an estimator.
	ErrNotScored = errors.New("not in the score file")
)

// LineError reports a bad line of a score file.
type LineError struct {
	File string // the file's name as the caller gave it
	Line int    // 1 is the header
	Err  error  // what is wrong
}

// Error returns "score: file:line: what is wrong".
func (e *LineError) Error() string {
	return "score: " + e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Err.Error()
}

// Unwrap returns e.Err.
func (e *LineError) Unwrap() error { return e.Err }

// The JSON forms of the lines. Field order is the order in the file.
type (
	headerJSON struct {
		Labelfree    string   `json:"labelfree"` // always "scores"
		Version      int      `json:"version"`
		Traces       string   `json:"traces"`
		TracesSHA256 string   `json:"traces_sha256"`
		Estimators   []string `json:"estimators"`
		Config       Settings `json:"config"`
	}
	recordJSON struct {
		ID       string               `json:"id"`
		Class    string               `json:"class"`
		OK       bool                 `json:"ok"`
		Label    string               `json:"label"`
		Scores   map[string]scoreJSON `json:"scores"`
		Errors   map[string]string    `json:"errors"`
		Location *locationJSON        `json:"location"`
	}
	// locationJSON has pointers to tell a missing field from 0.
	locationJSON struct {
		Offset *int64  `json:"offset"`
		Len    *int    `json:"len"`
		CRC32C *uint32 `json:"crc32c"`
	}
	scoreJSON struct {
		U   *float64 `json:"u"`
		Tie *float64 `json:"tie"`
	}
)

// check reports a header this package cannot have written.
func (h *Header) check() error {
	if len(h.Estimators) == 0 {
		return errors.New("no estimators")
	}
	for i, e := range h.Estimators {
		if e == "" || !utf8.ValidString(e) {
			return fmt.Errorf("estimator %d: bad name %q", i, e)
		}
		if slices.Contains(h.Estimators[:i], e) {
			return fmt.Errorf("estimator %q listed twice", e)
		}
	}
	return nil
}

// check reports a record that does not fit the header's estimators or
// contradicts itself.
func (r *Record) check(estimators []string) error {
	switch {
	case r.ID == "":
		return errors.New("no id")
	case !utf8.ValidString(r.ID):
		return fmt.Errorf("id %q is not valid UTF-8", r.ID)
	case r.OK && r.Class == "":
		return fmt.Errorf("group %q: ok but no class", r.ID)
	case !r.OK && r.Class != "":
		return fmt.Errorf("group %q: class %q but not ok", r.ID, r.Class)
	}
	if err := r.Location.check(false); err != nil {
		return fmt.Errorf("group %q: %w", r.ID, err)
	}
	for name, s := range r.Scores {
		if !slices.Contains(estimators, name) {
			return fmt.Errorf("group %q: score of %q, which the header does not list", r.ID, name)
		}
		if _, both := r.Errors[name]; both {
			return fmt.Errorf("group %q: estimator %q has a score and an error", r.ID, name)
		}
		if !finite(s.Value) || !finite(s.Tiebreak) {
			return fmt.Errorf("group %q: estimator %q: non-finite score %v", r.ID, name, s)
		}
	}
	for name, e := range r.Errors {
		if !slices.Contains(estimators, name) {
			return fmt.Errorf("group %q: error of %q, which the header does not list", r.ID, name)
		}
		if e == "" {
			return fmt.Errorf("group %q: estimator %q: empty error", r.ID, name)
		}
	}
	if len(r.Scores)+len(r.Errors) != len(estimators) {
		for _, name := range estimators {
			_, s := r.Scores[name]
			_, e := r.Errors[name]
			if !s && !e {
				return fmt.Errorf("group %q: neither a score nor an error for %q", r.ID, name)
			}
		}
	}
	return nil
}

func finite(x float64) bool { return x-x == 0 }

// Writer writes a score file: the header, then one line per record. Each
// line reaches the underlying io.Writer in one Write call. Scores are
// written in the header's estimator order, as the shortest decimal that
// reads back as the same float64. A Writer is not safe for concurrent use.
type Writer struct {
	w    io.Writer
	h    Header
	buf  []byte
	seen map[string]struct{}
	str  bytes.Buffer // scratch for JSON strings
	enc  *json.Encoder
}

// NewWriter writes h's line to w and returns a Writer for the records.
func NewWriter(w io.Writer, h *Header) (*Writer, error) {
	if err := h.check(); err != nil {
		return nil, fmt.Errorf("score: header: %w", err)
	}
	fw := &Writer{w: w, h: *h, seen: make(map[string]struct{})}
	fw.h.Estimators = slices.Clone(h.Estimators)
	fw.enc = json.NewEncoder(&fw.str)
	fw.enc.SetEscapeHTML(false)
	b, err := headerLine(h)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(b); err != nil {
		return nil, fmt.Errorf("score: write header: %w", err)
	}
	return fw, nil
}

// headerLine returns h's line, newline included.
func headerLine(h *Header) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(headerJSON{
		Labelfree: fileMagic, Version: FileVersion,
		Traces: h.Traces, TracesSHA256: h.TracesSHA256,
		Estimators: h.Estimators, Config: h.Settings,
	})
	if err != nil {
		return nil, fmt.Errorf("score: header: %w", err)
	}
	return buf.Bytes(), nil
}

// Write writes r's line, with its Location unless that is the zero
// Location. It is an error, and nothing is written, if r's id was written
// before (ErrDuplicateID), or r does not fit the header: a score or error
// for an estimator the header does not list, an estimator with neither or
// both, a non-finite score, an empty error message, OK and Class at odds
// (a class without OK or OK without a class), or a Location with an offset
// or length below 1.
func (w *Writer) Write(r *Record) error {
	if _, dup := w.seen[r.ID]; dup {
		return fmt.Errorf("score: group %q: %w", r.ID, ErrDuplicateID)
	}
	if err := r.check(w.h.Estimators); err != nil {
		return fmt.Errorf("score: %w", err)
	}
	b := append(w.buf[:0], `{"id":`...)
	b = w.appendString(b, r.ID)
	b = append(b, `,"class":`...)
	b = w.appendString(b, r.Class)
	b = append(b, `,"ok":`...)
	b = strconv.AppendBool(b, r.OK)
	if r.Label != "" {
		b = append(b, `,"label":`...)
		b = w.appendString(b, r.Label)
	}
	b = append(b, `,"scores":{`...)
	n := 0
	for _, name := range w.h.Estimators {
		s, ok := r.Scores[name]
		if !ok {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = w.appendString(b, name)
		b = append(b, `:{"u":`...)
		b = strconv.AppendFloat(b, s.Value, 'g', -1, 64)
		b = append(b, `,"tie":`...)
		b = strconv.AppendFloat(b, s.Tiebreak, 'g', -1, 64)
		b = append(b, '}')
	}
	b = append(b, '}')
	if len(r.Errors) > 0 {
		b = append(b, `,"errors":{`...)
		n := 0
		for _, name := range w.h.Estimators {
			e, ok := r.Errors[name]
			if !ok {
				continue
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = w.appendString(b, name)
			b = append(b, ':')
			b = w.appendString(b, e)
		}
		b = append(b, '}')
	}
	if l := r.Location; l != (Location{}) {
		b = l.AppendJSON(append(b, `,"location":`...))
	}
	b = append(b, "}\n"...)
	w.buf = b
	if _, err := w.w.Write(b); err != nil {
		return fmt.Errorf("score: write group %q: %w", r.ID, err)
	}
	w.seen[r.ID] = struct{}{}
	return nil
}

// appendString appends s as a JSON string, without HTML escaping.
func (w *Writer) appendString(b []byte, s string) []byte {
	w.str.Reset()
	_ = w.enc.Encode(s) // a string always encodes
	out := w.str.Bytes()
	return append(b, out[:len(out)-1]...)
}

// maxLine bounds a line of a score file, which holds a few numbers per
// estimator: 64 MiB only stops a reader from eating all memory on a file
// that is not a score file.
const maxLine = 64 << 20

// Reader reads a score file one record at a time, checking every line: the
// header's magic, version and estimators; each record's JSON, id
// (non-empty, not seen before), and that every estimator of the header has
// a finite score or a non-empty error, and nothing else. Every error names
// the file and line (a *LineError). Next holds one line in memory at a
// time, plus the ids seen; All decodes a few batches of lines ahead on
// several goroutines. A Reader is not safe for concurrent use.
type Reader struct {
	br      *bufio.Reader
	name    string
	line    int
	buf     []byte
	header  Header
	dec     *decoder
	seen    *idSet
	keep    []bool // the estimators records carry, nil for all (see Keep)
	stopped bool   // an All loop ended early, having read lines ahead
}

// NewReader reads the header line from r, a file called name in errors.
func NewReader(r io.Reader, name string) (*Reader, error) {
	sr := &Reader{br: bufio.NewReaderSize(r, 1<<16), name: name, seen: newIDSet()}
	line, err := sr.next()
	if err == io.EOF {
		sr.line = 1
		return nil, sr.errorf("empty file, no header")
	}
	if err != nil {
		return nil, err
	}
	var hj headerJSON
	if err := sr.unmarshal(line, &hj); err != nil {
		return nil, err
	}
	switch {
	case hj.Labelfree != fileMagic:
		return nil, sr.errorf(`header: not a score file ("labelfree" is %q, want %q)`, hj.Labelfree, fileMagic)
	case hj.Version != FileVersion:
		return nil, sr.errorf("header: version %d, this package reads version %d", hj.Version, FileVersion)
	}
	sr.header = Header{Traces: hj.Traces, TracesSHA256: hj.TracesSHA256, Estimators: hj.Estimators, Settings: hj.Config}
	if err := sr.header.check(); err != nil {
		return nil, sr.errorf("header: %w", err)
	}
	sr.dec = newDecoder(sr.header.Estimators, nil)
	return sr, nil
}

// Keep makes the records that Next and All return from now on carry the
// scores and errors of the named estimators only, leaving the header's
// others out of Record.Scores and Record.Errors: for a caller that reads
// few of a big file's estimators (filter.File reads its strategy's), as
// decoding the others is most of the cost of reading a line. Every line
// is still checked in full, the estimators left out included. Keep with
// no names keeps every estimator again. It returns an error, and changes
// nothing, for a name the header does not list.
func (r *Reader) Keep(names ...string) error {
	if len(names) == 0 {
		r.keep = nil
		r.dec = newDecoder(r.header.Estimators, nil)
		return nil
	}
	keep := make([]bool, len(r.header.Estimators))
	for _, n := range names {
		i := slices.Index(r.header.Estimators, n)
		if i < 0 {
			return fmt.Errorf("score: %s: Keep: estimator %q is not in the file (it has %s)", r.name, n, strings.Join(r.header.Estimators, ", "))
		}
		keep[i] = true
	}
	r.keep = keep
	r.dec = newDecoder(r.header.Estimators, keep)
	return nil
}

// Header returns the file's header.
func (r *Reader) Header() Header {
	h := r.header
	h.Estimators = slices.Clone(h.Estimators)
	return h
}

func (r *Reader) errorf(format string, args ...any) error {
	return &LineError{File: r.name, Line: r.line, Err: fmt.Errorf(format, args...)}
}

// next returns the next line without its newline, valid until the next
// call, or io.EOF after the last. A last line without a newline is an
// error: this package writes whole files and renames them into place, so
// a missing newline means the file was cut short by something else.
func (r *Reader) next() ([]byte, error) {
	r.buf = r.buf[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		r.buf = append(r.buf, chunk...)
		switch {
		case err == nil:
			r.line++
			return r.buf[:len(r.buf)-1], nil
		case err == bufio.ErrBufferFull:
			if len(r.buf) > maxLine {
				r.line++
				return nil, r.errorf("line longer than %d bytes", maxLine)
			}
		case err == io.EOF && len(r.buf) == 0:
			return nil, io.EOF
		case err == io.EOF:
			r.line++
			return nil, r.errorf("no newline at the end (the file was cut short)")
		default:
			return nil, fmt.Errorf("score: read %s: %w", r.name, err)
		}
	}
}

func (r *Reader) unmarshal(line []byte, v any) error {
	return unmarshalLine(r.name, r.line, line, v)
}

// unmarshalLine decodes line number n of the file name into v.
func unmarshalLine(name string, n int, line []byte, v any) error {
	if err := json.Unmarshal(line, v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return &LineError{File: name, Line: n, Err: fmt.Errorf("invalid JSON: %v", err)}
		}
		return &LineError{File: name, Line: n, Err: err}
	}
	return nil
}

// errStopped is Next's error after an All loop that ended early.
var errStopped = errors.New("score: Next after an All loop that ended early (All reads ahead)")

// Next returns the next record, or io.EOF after the last. The record is
// the caller's to keep.
func (r *Reader) Next() (*Record, error) {
	if r.stopped {
		return nil, errStopped
	}
	line, err := r.next()
	if err != nil {
		return nil, err
	}
	rec := new(Record)
	if err := r.dec.record(rec, r.name, r.line, line); err != nil {
		return nil, err
	}
	if err := r.checkID(rec.ID, r.line); err != nil {
		return nil, err
	}
	return rec, nil
}

// checkID reports an id seen before, and records it as on line n.
func (r *Reader) checkID(id string, n int) error {
	if first, dup := r.seen.add(id, n); dup {
		return &LineError{File: r.name, Line: n, Err: fmt.Errorf("%w %q (first on line %d)", ErrDuplicateID, id, first)}
	}
	return nil
}

// ReadFile reads a whole score file into memory. For files too big for
// memory, use a Reader.
func ReadFile(name string) (Header, []Record, error) {
	f, err := os.Open(name)
	if err != nil {
		return Header{}, nil, fmt.Errorf("score: %w", err)
	}
	defer f.Close()
	r, err := NewReader(f, name)
	if err != nil {
		return Header{}, nil, err
	}
	var rs []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return r.Header(), rs, nil
		}
		if err != nil {
			return Header{}, nil, err
		}
		rs = append(rs, *rec)
	}
}

// ReadHeader reads the header of the score file name.
func ReadHeader(name string) (Header, error) {
	f, err := os.Open(name)
	if err != nil {
		return Header{}, fmt.Errorf("score: %w", err)
	}
	defer f.Close()
	r, err := NewReader(f, name)
	if err != nil {
		return Header{}, err
	}
	return r.Header(), nil
}
