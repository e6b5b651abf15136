package score

import (
	"io"
	"iter"
	"runtime"
	"sync"
)

// readBatch is about how many bytes of lines one of All's goroutines
// decodes at a time (a variable for tests).
var readBatch = 256 << 10

// recBatch is a run of consecutive record lines, decoded by a worker.
type recBatch struct {
	buf     []byte // the lines, without newlines
	ends    []int  // where each line ends in buf
	first   int    // the first line's number
	recs    []*Record
	err     error // the first bad line's error
	readErr error // the error that ended reading, after these lines
	done    chan struct{}
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
		var wg sync.WaitGroup
		defer wg.Wait()
		quit := make(chan struct{})
		defer close(quit)
		// pending holds the batches in file order; at most workers*2 are
		// in flight, which bounds memory.
		pending := make(chan *recBatch, workers*2)
		work := make(chan *recBatch)
		wg.Go(func() {
			defer close(pending)
			defer close(work)
			r.split(quit, pending, work)
		})
		for range workers {
			wg.Go(func() {
				d := newDecoder(r.header.Estimators, r.keep)
				for b := range work {
					d.batch(r.name, b)
					close(b.done)
				}
			})
		}
		for b := range pending {
			<-b.done
			for i, rec := range b.recs {
				if err := r.checkID(rec.ID, b.first+i); err != nil {
					yield(nil, err)
					return
				}
				if !yield(rec, nil) {
					return
				}
			}
			switch {
			case b.err != nil:
				yield(nil, b.err)
				return
			case b.readErr != nil:
				yield(nil, b.readErr)
				return
			}
		}
		r.stopped = false // every line read has been yielded: at EOF
	}
}

// bufs holds the line buffers of batches that have been decoded.
var bufs = sync.Pool{New: func() any { return new([]byte) }}

// split reads lines into batches, handing each to a worker and to pending
// in order, until the end of the file, a read error or quit.
func (r *Reader) split(quit <-chan struct{}, pending, work chan<- *recBatch) {
	for eof := false; !eof; {
		b := &recBatch{first: r.line + 1, done: make(chan struct{})}
		b.buf = (*bufs.Get().(*[]byte))[:0]
		for len(b.buf) < readBatch {
			line, err := r.next()
			if err != nil {
				if err != io.EOF {
					b.readErr = err
				}
				eof = true
				break
			}
			b.buf = append(b.buf, line...)
			b.ends = append(b.ends, len(b.buf))
		}
		if len(b.ends) == 0 && b.readErr == nil {
			return
		}
		for _, ch := range []chan<- *recBatch{pending, work} {
			select {
			case ch <- b:
			case <-quit:
				return
			}
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
