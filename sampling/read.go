package sampling

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
)

// Errors that a LineError or another error of this package wraps.
var (
	// ErrTornLine: the file's last line has no newline, or is not valid
	// JSON: a write that a crash cut short. A resumed run removes it and
	// redoes its group; anywhere but at the end, invalid JSON is a plain
	// error.
	ErrTornLine = errors.New("torn last line (a crash cut its write short)")
	// ErrDuplicateID: an id occurs twice, in a file or in a list of items.
	ErrDuplicateID = errors.New("duplicate id")
)

// LineError reports a bad line of a trace file.
type LineError struct {
	File string // the file's name as the caller gave it
	Line int    // 1 is the header
	Err  error  // what is wrong
}

func (e *LineError) Error() string {
	return "sampling: " + e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Err.Error()
}

func (e *LineError) Unwrap() error { return e.Err }

// maxLine bounds a line of a trace file: a group of 17 traces of 32k tokens
// takes about 15 MB, so 1 GiB only stops a reader from eating all memory
// on a file that is not a trace file at all.
const maxLine = 1 << 30

// lineScanner reads the lines of a trace file, keeping the line number and
// the offset of the end of the last complete line.
type lineScanner struct {
	br    *bufio.Reader
	name  string
	line  int   // the number of the line last returned
	start int64 // the offset of that line's first byte
	off   int64 // bytes up to the end of the last line returned with its newline
	buf   []byte
}

func newLineScanner(r io.Reader, name string) *lineScanner {
	return &lineScanner{br: bufio.NewReaderSize(r, 1<<20), name: name}
}

func (s *lineScanner) errorf(format string, args ...any) error {
	return &LineError{File: s.name, Line: s.line, Err: fmt.Errorf(format, args...)}
}

// next returns the next line without its newline, valid until the next
// call. It returns io.EOF after the last complete line, and a LineError
// wrapping ErrTornLine for a last line without a newline.
func (s *lineScanner) next() ([]byte, error) {
	s.buf = s.buf[:0]
	s.start = s.off
	for {
		chunk, err := s.br.ReadSlice('\n')
		s.buf = append(s.buf, chunk...)
		switch {
		case err == nil:
			s.line++
			s.off += int64(len(s.buf))
			return s.buf[:len(s.buf)-1], nil
		case err == bufio.ErrBufferFull:
			if len(s.buf) > maxLine {
				s.line++
				return nil, s.errorf("line longer than %d bytes", maxLine)
			}
		case err == io.EOF && len(s.buf) == 0:
			return nil, io.EOF
		case err == io.EOF:
			s.line++
			return s.buf, s.errorf("%w: no newline at the end", ErrTornLine)
		default:
			return nil, fmt.Errorf("sampling: read %s: %w", s.name, err)
		}
	}
}

// atEOF reports whether nothing follows the last line returned.
func (s *lineScanner) atEOF() bool {
	_, err := s.br.Peek(1)
	return err == io.EOF
}

// unmarshal decodes the line last returned into v. A syntax error is
// ErrTornLine if the line is the last one.
func (s *lineScanner) unmarshal(line []byte, v any) error {
	err := json.Unmarshal(line, v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		if s.atEOF() {
			return s.errorf("%w: %v", ErrTornLine, err)
		}
		return s.errorf("invalid JSON: %v", err)
	}
	return s.errorf("%v", err)
}

// Reader reads a trace file one group at a time, checking every line: the
// header's magic and version; each group's JSON, id (non-empty, equal to
// its item's, not seen before) and traces (known finish reason and
// logprobs_kind, per-token arrays of matching lengths). Every error names
// the file and line (a *LineError). A Reader holds one line in memory at a
// time, plus the ids seen. It is not safe for concurrent use.
type Reader struct {
	sc     *lineScanner
	header Header
	seen   map[string]int // id → line
}

// NewReader reads the header line from r, a file called name in errors.
func NewReader(r io.Reader, name string) (*Reader, error) {
	sc := newLineScanner(r, name)
	line, err := sc.next()
	if err == io.EOF {
		sc.line = 1
		return nil, sc.errorf("empty file, no header")
	}
	if err != nil {
		return nil, err
	}
	var hj headerJSON
	if err := sc.unmarshal(line, &hj); err != nil {
		return nil, err
	}
	h, err := hj.header()
	if err != nil {
		return nil, sc.errorf("header: %w", err)
	}
	return &Reader{sc: sc, header: h, seen: make(map[string]int)}, nil
}

// header converts and checks a decoded header.
func (hj *headerJSON) header() (Header, error) {
	switch {
	case hj.Labelfree != fileMagic:
		return Header{}, fmt.Errorf(`not a trace file ("labelfree" is %q, want %q)`, hj.Labelfree, fileMagic)
	case hj.Version != FileVersion:
		return Header{}, fmt.Errorf("version %d, this package reads version %d", hj.Version, FileVersion)
	}
	sh, err := ParseShard(hj.Run.Shard)
	if err != nil {
		return Header{}, err
	}
	p := &hj.Run.Params
	return Header{
		Model:       hj.Run.Model.Name,
		ModelSHA256: hj.Run.Model.SHA256,
		Backend:     hj.Run.Backend,
		Task:        hj.Run.Task,
		Params: Params{
			Samples: p.Samples, NoGreedy: p.NoGreedy, MaxTokens: p.MaxTokens,
			Temperature: p.Temperature, TopK: p.TopK, TopP: p.TopP, MinP: p.MinP,
			Seed: hj.Run.Seed, Stop: p.Stop,
		},
		Shard: sh,
	}, nil
}

// Header returns the file's header.
func (r *Reader) Header() Header { return r.header }

// The JSON forms of a group line, for reading.
type (
	groupJSON struct {
		ID     string      `json:"id"`
		Item   Item        `json:"item"`
		Prompt Prompt      `json:"prompt"`
		Traces []traceJSON `json:"traces"`
	}
	traceJSON struct {
		Greedy      bool         `json:"greedy"`
		Seed        uint32       `json:"seed"`
		Text        string       `json:"text"`
		Answer      Answer       `json:"answer"`
		Finish      FinishReason `json:"finish"`
		Stop        string       `json:"stop"`
		LogProbKind LogProbKind  `json:"logprobs_kind"`
		LogProbs    logProbs     `json:"logprobs"`
		Entropies   entropies    `json:"entropies"`
		TokenIDs    []int32      `json:"token_ids"`
	}
	// logProbs and entropies decode the float arrays; null is −Inf in
	// logProbs and an error in entropies.
	logProbs  []float64
	entropies []float64
)

func (x *logProbs) UnmarshalJSON(b []byte) error {
	return parseFloats((*[]float64)(x), b, "logprob", true)
}

func (x *entropies) UnmarshalJSON(b []byte) error {
	return parseFloats((*[]float64)(x), b, "entropy", false)
}

// parseFloats parses b, a valid JSON value (json.Unmarshal checks the
// syntax of the whole line before calling an UnmarshalJSON), as an array of
// numbers rounded to float32. A null array leaves *dst nil.
func parseFloats(dst *[]float64, b []byte, what string, nullNegInf bool) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return fmt.Errorf("%ss: want an array of numbers", what)
	}
	b = bytes.TrimSpace(b[1 : len(b)-1])
	xs := make([]float64, 0, bytes.Count(b, []byte{','})+1)
	for i := 0; len(b) > 0; i++ {
		tok, rest, _ := bytes.Cut(b, []byte{','})
		b = rest
		tok = bytes.TrimSpace(tok)
		if string(tok) == "null" && nullNegInf {
			xs = append(xs, math.Inf(-1))
			continue
		}
		// A valid JSON number is a valid ParseFloat input; anything else
		// that ParseFloat would take (Inf, hex) is not valid JSON and was
		// rejected before.
		x, err := strconv.ParseFloat(string(tok), 32)
		if err != nil {
			return fmt.Errorf("%s %d: %q is not a number", what, i, tok)
		}
		xs = append(xs, x)
	}
	*dst = xs
	return nil
}

// Next returns the next group, or io.EOF after the last.
func (r *Reader) Next() (*Group, error) {
	line, err := r.sc.next()
	if err != nil {
		return nil, err
	}
	var gj groupJSON
	if err := r.sc.unmarshal(line, &gj); err != nil {
		return nil, err
	}
	switch {
	case gj.ID == "":
		return nil, r.sc.errorf("no id")
	case gj.Item.ID != gj.ID:
		return nil, r.sc.errorf("id %q but item id %q", gj.ID, gj.Item.ID)
	}
	if first, dup := r.seen[gj.ID]; dup {
		return nil, r.sc.errorf("%w %q (first on line %d)", ErrDuplicateID, gj.ID, first)
	}
	g := &Group{Item: gj.Item, Prompt: gj.Prompt, Traces: make([]TraceRecord, len(gj.Traces))}
	for i := range gj.Traces {
		t := &gj.Traces[i]
		g.Traces[i] = TraceRecord{
			Greedy: t.Greedy, Seed: t.Seed, Text: t.Text, Answer: t.Answer,
			Finish: t.Finish, Stop: t.Stop, LogProbKind: t.LogProbKind,
			LogProbs: t.LogProbs, Entropies: t.Entropies, TokenIDs: t.TokenIDs,
		}
		if err := g.Traces[i].validate(); err != nil {
			return nil, r.sc.errorf("group %q: trace %d: %w", gj.ID, i, err)
		}
	}
	r.seen[gj.ID] = r.sc.line
	return g, nil
}

// ReadFile reads a whole trace file into memory; a torn last line is an
// error. For files too big for memory, use a Reader.
func ReadFile(name string) (Header, []Group, error) {
	f, err := os.Open(name)
	if err != nil {
		return Header{}, nil, fmt.Errorf("sampling: %w", err)
	}
	defer f.Close()
	r, err := NewReader(f, name)
	if err != nil {
		return Header{}, nil, err
	}
	var gs []Group
	for {
		g, err := r.Next()
		if err == io.EOF {
			return r.Header(), gs, nil
		}
		if err != nil {
			return Header{}, nil, err
		}
		gs = append(gs, *g)
	}
}
