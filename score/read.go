package score

import (
	"context"
	"io"
	"iter"
	"runtime"
	"sync"

	"github.com/labelfree/labelfree/internal/ordered"
)

// readBatch is about how many bytes of lines one of All's goroutines
// decodes at a time (a variable for tests).
var readBatch = 256 << 10

// recBatch is a run of consecutive record lines, decoded by a worker.
type recBatch struct {
	buf   []byte // the lines, without newlines
	ends  []int  // where each line ends in buf
	first int    // the first line's number
	recs  []*Record
	err   error // the first bad line's error
}

// All returns the remaining records of r as an iterator, for range loops:
// it yields each record with a nil error, then stops; an error is
// yielded once, with a nil record, and ends the sequence. The records,
// their checks and errors are Next's, in the file's order, but All
// decodes batches of lines on GOMAXPROCS goroutines, a few batches ahead
// of the loop: after a loop that ends early (a break, or an error), Next
// returns an error instead of a record, as lines were read ahead. The
// goroutines end before the loop does.
func (r *Reader) All() iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		workers := runtime.GOMAXPROCS(0)
		if workers < 2 || r.stopped {
			for {
				rec, err := r.Next()
				if err == io.EOF || !yield(rec, err) || err != nil {
					return
				}
			}
		}
		r.stopped = true // until the loop is done
		stopped := false // the loop ended, or was given an error
		consume := func(b *recBatch) bool {
			for i, rec := range b.recs {
				if err := r.checkID(rec.ID, b.first+i); err != nil {
					yield(nil, err)
					stopped = true
					return false
				}
				if !yield(rec, nil) {
					stopped = true
					return false
				}
			}
			if b.err != nil {
				yield(nil, b.err)
				stopped = true
				return false
			}
			return true
		}
		decoder := func() func(*recBatch) {
			d := newDecoder(r.header.Estimators, r.keep)
			return func(b *recBatch) { d.batch(r.name, b) }
		}
		err := ordered.Run(context.Background(), workers, r.split, decoder, consume)
		switch {
		case stopped:
		case err != nil:
			yield(nil, err)
		default:
			r.stopped = false // every line read has been yielded: at EOF
		}
	}
}

// bufs holds the line buffers of batches that have been decoded.
var bufs = sync.Pool{New: func() any { return new([]byte) }}

// split reads lines into batches and emits them, in order, until the end
// of the file, a read error (returned after the lines before it) or emit
// refuses.
func (r *Reader) split(emit func(*recBatch) bool) error {
	for {
		b := &recBatch{first: r.line + 1}
		b.buf = (*bufs.Get().(*[]byte))[:0]
		var err error
		for len(b.buf) < readBatch {
			var line []byte
			if line, err = r.next(); err != nil {
				break
			}
			b.buf = append(b.buf, line...)
			b.ends = append(b.ends, len(b.buf))
		}
		if len(b.ends) > 0 && !emit(b) {
			return nil
		}
		switch {
		case err == io.EOF:
			return nil
		case err != nil:
			return err
		}
	}
}

// batch decodes b's lines, stopping at the first bad one.
func (d *decoder) batch(name string, b *recBatch) {
	// One allocation for the batch's records, not one each.
	recs := make([]Record, len(b.ends))
	b.recs = make([]*Record, 0, len(b.ends))
	start := 0
	for i, end := range b.ends {
		if err := d.record(&recs[i], name, b.first+i, b.buf[start:end]); err != nil {
			b.err = err
			break
		}
		b.recs = append(b.recs, &recs[i])
		start = end
	}
	buf := b.buf
	bufs.Put(&buf)
	b.buf = nil
}
