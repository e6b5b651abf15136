package score

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"iter"
	"os"
	"runtime"

	"github.com/labelfree/labelfree/internal/ordered"
	"github.com/labelfree/labelfree/sampling"
)

// TraceReader reads a trace file with several goroutines decoding its
// lines, in order: decoding JSON is most of the cost of scoring or
// exporting a trace file, and lines decode independently. Each line is
// checked exactly as a sampling.Reader checks it (a chunk of lines goes
// through a sampling.Reader of its own, behind a copy of the header), and
// errors are *sampling.LineError with the file's real line numbers.
//
// With a Want function, a line whose id (read from its start, as a
// sampling.Writer writes it) Want rejects is skipped without being
// decoded or checked. Lines gives each group with the Location of its line
// (offset, length and CRC-32C), which File records in the score file. A
// TraceReader is not safe for concurrent use.
type TraceReader struct {
	f       *os.File
	name    string
	br      *bufio.Reader
	sum     hash.Hash
	header  sampling.Header
	hline   []byte // the header line, newline included
	workers int
	want    func(id string) bool
	done    bool
}

// OpenTraces opens the trace file name and reads its header. workers is
// the number of decoding goroutines (0 means GOMAXPROCS); want, if not
// nil, selects the groups to decode by id.
func OpenTraces(name string, workers int, want func(id string) bool) (*TraceReader, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	r := &TraceReader{f: f, name: name, sum: sha256.New(), workers: workers, want: want}
	if r.workers <= 0 {
		r.workers = runtime.GOMAXPROCS(0)
	}
	r.br = bufio.NewReaderSize(io.TeeReader(f, r.sum), 1<<20)
	line, err := r.br.ReadBytes('\n')
	if err != nil && err != io.EOF {
		f.Close()
		return nil, fmt.Errorf("score: read %s: %w", name, err)
	}
	// sampling.NewReader checks the header (and names empty or torn
	// files).
	sr, err := sampling.NewReader(bytes.NewReader(line), name)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.header = sr.Header()
	r.hline = line
	return r, nil
}

// At reads and decodes the group whose line is at loc, as a
// sampling.Reader checks it, without reading the rest of the file: for a
// few groups of a large file. It returns an error if the line there is
// not loc's (its length or CRC-32C differ, or no newline ends it): the
// file changed since the Location was taken. At does not move All or
// Lines along the file.
func (r *TraceReader) At(loc Location) (*sampling.Group, error) {
	if err := loc.check(true); err != nil {
		return nil, fmt.Errorf("score: %s: %w", r.name, err)
	}
	line := make([]byte, loc.Len+1)
	if _, err := r.f.ReadAt(line, loc.Offset); err != nil && err != io.EOF {
		return nil, fmt.Errorf("score: read %s: %w", r.name, err)
	}
	if !loc.Matches(line[:loc.Len]) || line[loc.Len] != '\n' {
		return nil, fmt.Errorf("score: %s: the line at byte %d is not the one scored: the trace file changed since (re-run score)", r.name, loc.Offset)
	}
	// A blank line after it, never read, so that the reader does not take
	// the line for a last line torn by a crash.
	sr, err := sampling.NewReader(io.MultiReader(bytes.NewReader(r.hline), bytes.NewReader(append(line, '\n'))), r.name)
	if err != nil {
		return nil, err
	}
	g, err := sr.Next()
	if err != nil {
		return nil, err
	}
	return g, nil
}

// Header returns the file's header.
func (r *TraceReader) Header() sampling.Header { return r.header }

// SHA256 returns the hex SHA-256 of the file's bytes once All has read it
// to its end, "" before.
func (r *TraceReader) SHA256() string {
	if !r.done {
		return ""
	}
	return hex.EncodeToString(r.sum.Sum(nil))
}

// Close closes the file.
func (r *TraceReader) Close() error { return r.f.Close() }

// batch is a run of consecutive lines, decoded by a worker.
type batch struct {
	buf    []byte  // the lines, each with its newline
	lines  []int   // each line's number in the file
	offs   []int64 // each line's offset in the file
	last   bool    // the file's last lines
	groups []*sampling.Group
	locs   []Location
	err    error
}

// TraceLine is a group of a trace file and where its line is.
type TraceLine struct {
	Group    *sampling.Group
	Location Location
}

// batchBytes is about how many bytes of lines go to one worker at a time
// (a variable for tests).
var batchBytes = 1 << 20

// All returns the file's groups in order (those Want selects), then
// stops; an error (a malformed line, a duplicate id, a read error or
// ctx's) is yielded once with a nil group and ends the sequence. It can
// be ranged over once, and only one of All and Lines can.
func (r *TraceReader) All(ctx context.Context) iter.Seq2[*sampling.Group, error] {
	return func(yield func(*sampling.Group, error) bool) {
		for l, err := range r.Lines(ctx) {
			if !yield(l.Group, err) {
				return
			}
		}
	}
}

// Lines is All with the Location of each group's line: its offset, its
// length without the newline, and its CRC-32C. An error is yielded with a
// zero TraceLine.
func (r *TraceReader) Lines(ctx context.Context) iter.Seq2[TraceLine, error] {
	return func(yield func(TraceLine, error) bool) {
		seen := make(map[string]int)
		stopped := false // the loop ended, or was given an error
		consume := func(b *batch) bool {
			for i, g := range b.groups {
				if first, dup := seen[g.Item.ID]; dup {
					yield(TraceLine{}, &sampling.LineError{File: r.name, Line: b.lines[i], Err: fmt.Errorf("%w %q (first on line %d)", sampling.ErrDuplicateID, g.Item.ID, first)})
					stopped = true
					return false
				}
				seen[g.Item.ID] = b.lines[i]
				if !yield(TraceLine{Group: g, Location: b.locs[i]}, nil) {
					stopped = true
					return false
				}
			}
			if b.err != nil {
				yield(TraceLine{}, b.err)
				stopped = true
				return false
			}
			return true
		}
		produce := func(emit func(*batch) bool) error { return r.split(ctx, emit) }
		err := ordered.Run(ctx, r.workers, produce, func() func(*batch) { return r.decode }, consume)
		switch {
		case stopped:
			return
		case ctx.Err() != nil:
			yield(TraceLine{}, fmt.Errorf("score: %w", context.Cause(ctx)))
			return
		case err != nil:
			yield(TraceLine{}, err)
			return
		}
		r.done = true
	}
}

// split reads the lines after the header into batches and emits them, in
// order, until the end of the file, a read error, or emit refuses.
func (r *TraceReader) split(ctx context.Context, emit func(*batch) bool) error {
	line := 1
	off := int64(len(r.hline)) // the next line's offset
	size := batchBytes
	newBatch := func() *batch {
		return &batch{buf: make([]byte, 0, size+size/4)}
	}
	b := newBatch()
	// send emits b unless it is empty; false means stop.
	send := func() bool {
		if len(b.lines) == 0 {
			return true
		}
		if !emit(b) {
			return false
		}
		b = newBatch()
		return true
	}
	for {
		l, err := r.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A long line: read the rest of it.
			full := append([]byte(nil), l...)
			for err == bufio.ErrBufferFull {
				l, err = r.br.ReadSlice('\n')
				full = append(full, l...)
			}
			l = full
		}
		switch {
		case err == io.EOF && len(l) == 0:
			b.last = true
			send()
			return nil
		case err == io.EOF:
			line++
			if !send() {
				return nil
			}
			return &sampling.LineError{File: r.name, Line: line, Err: fmt.Errorf("%w: no newline at the end", sampling.ErrTornLine)}
		case err != nil:
			return fmt.Errorf("score: read %s: %w", r.name, err)
		}
		line++
		off += int64(len(l))
		if r.want != nil {
			if id, ok := lineID(l); ok && !r.want(id) {
				continue
			}
		}
		b.buf = append(b.buf, l...)
		b.lines = append(b.lines, line)
		b.offs = append(b.offs, off-int64(len(l)))
		if len(b.buf) >= size && !send() || ctx.Err() != nil {
			return nil
		}
	}
}

// decode decodes b's lines with a sampling.Reader behind the header line,
// and takes their Locations.
func (r *TraceReader) decode(b *batch) {
	rest := b.buf
	for _, off := range b.offs {
		n := bytes.IndexByte(rest, '\n') // every line of a batch has its newline
		b.locs = append(b.locs, LocationOf(off, rest[:n]))
		rest = rest[n+1:]
	}
	if !b.last {
		// A sampling.Reader takes invalid JSON on the last line for a
		// line torn by a crash; only the file's last line may be one, so
		// the batch's last line must not look last. The blank line is
		// never read.
		b.buf = append(b.buf, '\n')
	}
	in := io.MultiReader(bytes.NewReader(r.hline), bytes.NewReader(b.buf))
	sr, err := sampling.NewReader(in, r.name)
	if err != nil {
		b.err = err // cannot happen: the header was read before
		return
	}
	for range b.lines {
		g, err := sr.Next()
		if err != nil {
			var le *sampling.LineError
			if errors.As(err, &le) && le.Line >= 2 && le.Line-2 < len(b.lines) {
				err = &sampling.LineError{File: le.File, Line: b.lines[le.Line-2], Err: le.Err}
			}
			b.err = err
			return
		}
		b.groups = append(b.groups, g)
	}
	b.buf = nil
}

// idPrefix is how a sampling.Writer starts every group line.
const idPrefix = `{"id":"`

// lineID reads the id of a group line that starts as a sampling.Writer
// writes it; ok is false for any other line, which must then be decoded.
func lineID(line []byte) (id string, ok bool) {
	if !bytes.HasPrefix(line, []byte(idPrefix)) {
		return "", false
	}
	rest := line[len(idPrefix)-1:]
	for i := 1; i < len(rest); i++ {
		switch rest[i] {
		case '\\':
			i++
		case '"':
			if err := json.Unmarshal(rest[:i+1], &id); err != nil {
				return "", false
			}
			return id, true
		}
	}
	return "", false
}
