package filter

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"

	"github.com/labelfree/labelfree/internal/ordered"
	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/score"
)

// ErrTracesChanged is wrapped by Export's error when a selected group's
// line is not at its recorded Location: the trace file is not the one
// that was scored (it was rewritten, rescored, merged again or replaced
// since), and the score file must be made again.
var ErrTracesChanged = errors.New("the trace file changed since it was scored (re-run score)")

// located reports whether Export can read sel's lines by their Location:
// whether it has records and every one has a Location.
func located(sel *Selection) bool {
	for i := range sel.Records {
		if sel.Records[i].Location == (score.Location{}) {
			return false
		}
	}
	return len(sel.Records) > 0
}

// The sizes of what exportLocated reads (variables for tests).
var (
	// readBatch is about how many bytes of lines go to one worker at a
	// time.
	readBatch = 1 << 20
	// readGap is the largest gap between two lines that one read spans
	// rather than reading them apart: copying 4 KiB more from the page
	// cache costs less than a system call.
	readGap = 4 << 10
)

// locBatch is a run of selected lines in file order, read and exported
// by a worker.
type locBatch struct {
	recs  []int  // indexes into the selection's records
	out   []byte // the exported lines of every group
	ends  []int  // per group: where its lines end in out
	lines []int  // per group: how many lines it wrote
	st    ExportStats
	err   error
}

// exportLocated is Export for a selection whose records all have a
// Location: it reads only their lines, in file order, on GOMAXPROCS
// goroutines, checking each line's length, CRC-32C and id.
func exportLocated(ctx context.Context, sel *Selection, traces string, sk *sink) error {
	f, err := os.Open(traces)
	if err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	defer f.Close()
	// The header: that this is a trace file at all.
	hline, err := bufio.NewReader(f).ReadBytes('\n')
	if err != nil && err != io.EOF {
		return fmt.Errorf("filter: read %s: %w", traces, err)
	}
	if _, err := sampling.NewReader(bytes.NewReader(hline), traces); err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	recs := sel.Records
	order, err := fileOrder(recs)
	if err != nil {
		return err
	}
	sk.st.Selected = len(recs)
	lr := &lineReader{f: f, name: traces, size: fi.Size(), recs: recs, c: sk.c}

	produce := func(emit func(*locBatch) bool) error {
		for start := 0; start < len(order); {
			end, size := start, 0
			for end < len(order) && (end == start || size < readBatch) {
				size += recs[order[end]].Location.Len
				end++
			}
			if !emit(&locBatch{recs: order[start:end]}) {
				return nil
			}
			start = end
		}
		return nil
	}
	// Each goroutine has its own exporter and buffers.
	work := func() func(*locBatch) { return lr.worker().batch }
	var failed error
	consume := func(b *locBatch) bool {
		start := 0
		for i, end := range b.ends {
			if err := sk.add(recs[b.recs[i]].ID, b.out[start:end], b.lines[i]); err != nil {
				failed = err
				return false
			}
			start = end
		}
		sk.st.Truncated += b.st.Truncated
		sk.st.Disagreeing += b.st.Disagreeing
		sk.st.Duplicates += b.st.Duplicates
		sk.st.EmptyText += b.st.EmptyText
		sk.st.Unclosed += b.st.Unclosed
		failed = b.err
		return b.err == nil
	}
	if err := ordered.Run(ctx, runtime.GOMAXPROCS(0), produce, work, consume); err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	return failed
}

// fileOrder returns the indexes of recs in the order of their lines in
// the trace file. The same group twice is an error (ErrDuplicateID);
// two groups at one location are left to the check of each line's id.
func fileOrder(recs []Record) ([]int, error) {
	type at struct {
		off int64
		i   int
	}
	ats := make([]at, len(recs))
	for i := range recs {
		ats[i] = at{recs[i].Location.Offset, i}
	}
	slices.SortFunc(ats, func(a, b at) int { return cmp.Or(cmp.Compare(a.off, b.off), cmp.Compare(a.i, b.i)) })
	order := make([]int, len(recs))
	for k, a := range ats {
		order[k] = a.i
		if k > 0 {
			if p, r := &recs[order[k-1]], &recs[a.i]; p.ID == r.ID && p.Location == r.Location {
				return nil, fmt.Errorf("filter: group %q: %w", r.ID, ErrDuplicateID)
			}
		}
	}
	return order, nil
}

// lineReader reads selected lines of a trace file by their Location.
type lineReader struct {
	f    *os.File
	name string
	size int64 // the file's size
	recs []Record
	c    *ExportConfig
}

// locWorker is a lineReader's state in one goroutine.
type locWorker struct {
	*lineReader
	x   *exporter
	buf []byte
	g   exportGroup
}

func (r *lineReader) worker() *locWorker {
	return &locWorker{lineReader: r, x: newExporter(r.c)}
}

// batch reads and exports b's lines, reading lines less than readGap
// apart in one ReadAt. It stops at the first error.
func (w *locWorker) batch(b *locBatch) {
	for i := 0; i < len(b.recs); {
		// The span of lines i to j-1, each with the newlines around it.
		first := w.recs[b.recs[i]].Location
		start, end := first.Offset-1, first.Offset+int64(first.Len)+1
		j := i + 1
		for ; j < len(b.recs); j++ {
			l := w.recs[b.recs[j]].Location
			if l.Offset-1-end > int64(readGap) {
				break
			}
			end = max(end, l.Offset+int64(l.Len)+1)
		}
		if n := end - start; int64(cap(w.buf)) < n {
			w.buf = make([]byte, n)
		}
		span := w.buf[:end-start]
		n, err := w.f.ReadAt(span, start)
		if err != nil && err != io.EOF {
			b.err = fmt.Errorf("filter: read %s: %w", w.name, err)
			return
		}
		span = span[:n]
		for ; i < j; i++ {
			rec := &w.recs[b.recs[i]]
			if b.err = w.line(b, rec, span, start); b.err != nil {
				return
			}
		}
	}
}

// line checks and exports the line of rec, found in span, the file's
// bytes from offset start.
func (w *locWorker) line(b *locBatch, rec *Record, span []byte, start int64) error {
	l := rec.Location
	changed := func(format string, args ...any) error {
		return fmt.Errorf("filter: %s: group %q at byte %d: %s: %w", w.name, rec.ID, l.Offset, fmt.Sprintf(format, args...), ErrTracesChanged)
	}
	lo, hi := l.Offset-1-start, l.Offset+int64(l.Len)+1-start // the line and the newlines around it
	switch {
	case l.Offset+int64(l.Len) >= w.size:
		return changed("the file ends at byte %d, before the line's end", w.size)
	case hi > int64(len(span)):
		// The file was cut short while being read.
		return changed("the file ends before the line's end")
	case span[lo] != '\n' || span[hi-1] != '\n':
		return changed("no line of %d bytes starts there", l.Len)
	}
	line := span[lo+1 : hi-1]
	if !l.Matches(line) {
		return changed("the line there has another CRC-32C")
	}
	if err := decodeLine(line, &w.g); err != nil {
		return fmt.Errorf("filter: %s: group %q at byte %d: %w", w.name, rec.ID, l.Offset, err)
	}
	if w.g.id != rec.ID {
		return changed("the line there is group %q", w.g.id)
	}
	out, n, err := w.x.group(b.out, &w.g, &b.st)
	if err != nil {
		return err
	}
	b.out = out
	b.ends = append(b.ends, len(out))
	b.lines = append(b.lines, n)
	return nil
}
