package annotate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unicode/utf8"
)

// Limits of a Rating.
const (
	MinSoundness = 1    // the lowest soundness: the reasoning does not hold
	MaxSoundness = 5    // the highest soundness: sound throughout
	MaxComment   = 4000 // the longest comment, in bytes
	maxField     = 256  // the longest annotator name or id, in bytes
	maxLine      = 64 << 10
)

// Rating is one annotator's judgement of one trace, one line of a ratings
// file:
//
//	{"annotator":"ann","id":"q17","correct":true,"soundness":4,"comment":"","time":"2026-11-24T05:00:00Z"}
type Rating struct {
	Annotator string    `json:"annotator"` // who rated; non-empty
	ID        string    `json:"id"`        // the rated group's id; non-empty
	Correct   bool      `json:"correct"`   // whether the final answer is right
	Soundness int       `json:"soundness"` // the reasoning, MinSoundness..MaxSoundness
	Comment   string    `json:"comment"`   // free text, valid UTF-8, at most MaxComment bytes
	Time      time.Time `json:"time"`      // when it was given; non-zero
}

// Validate returns an error wrapping ErrInvalid if r breaks a limit
// documented on its fields.
func (r *Rating) Validate() error {
	var problem string
	switch {
	case r.Annotator == "":
		problem = "empty annotator"
	case r.ID == "":
		problem = "empty id"
	case len(r.Annotator) > maxField || len(r.ID) > maxField:
		problem = fmt.Sprintf("annotator or id longer than %d bytes", maxField)
	case !utf8.ValidString(r.Annotator) || !utf8.ValidString(r.ID) || !utf8.ValidString(r.Comment):
		problem = "invalid UTF-8"
	case r.Soundness < MinSoundness || r.Soundness > MaxSoundness:
		problem = fmt.Sprintf("soundness %d outside %d..%d", r.Soundness, MinSoundness, MaxSoundness)
	case len(r.Comment) > MaxComment:
		problem = fmt.Sprintf("comment of %d bytes, more than %d", len(r.Comment), MaxComment)
	case r.Time.IsZero():
		problem = "no time"
	default:
		return nil
	}
	return fmt.Errorf("%w: rating: %s", ErrInvalid, problem)
}

// FileName returns the ratings file of annotator in dir, "<annotator>.jsonl".
// The name must be usable as a file name: 1 to 64 ASCII letters, digits,
// '-', '_' or '.', not starting with '.'; otherwise it returns an error
// wrapping ErrInvalid.
func FileName(dir, annotator string) (string, error) {
	ok := len(annotator) > 0 && len(annotator) <= 64 && annotator[0] != '.'
	for i := 0; ok && i < len(annotator); i++ {
		c := annotator[i]
		ok = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
	}
	if !ok {
		return "", fmt.Errorf("%w: annotator name %q", ErrInvalid, annotator)
	}
	return filepath.Join(dir, annotator+".jsonl"), nil
}

// Writer appends one annotator's ratings to that annotator's file.
//
// The design is one file per annotator, each written by one Writer: lines
// of different annotators never interleave, so two annotators rating at
// the same moment cannot corrupt each other's file, and a file is one
// person's history. A Writer is safe for concurrent use; two Writers (or
// processes) must not append to the same file at once.
type Writer struct {
	mu        sync.Mutex
	f         *os.File
	name      string
	annotator string
	dropped   int
}

// Create opens (creating if needed) annotator's ratings file in dir, named
// by FileName, for appending, and syncs dir so that a new file survives a
// crash. A last line without a newline is a write
// that a crash cut short: the write never returned, so the rating was never
// reported saved, and Create cuts it off so the next line starts clean;
// Dropped reports how many bytes it cut.
func Create(dir, annotator string) (*Writer, error) {
	name, err := FileName(dir, annotator)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(name, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("annotate: %w", err)
	}
	dropped, err := cutTorn(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("annotate: %s: %w", name, err)
	}
	// Sync the directory too: a new file's name must survive a crash for
	// the ratings synced into it to.
	if err := syncDir(dir); err != nil {
		f.Close()
		return nil, err
	}
	return &Writer{f: f, name: name, annotator: annotator, dropped: dropped}, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("annotate: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("annotate: sync %s: %w", dir, err)
	}
	return nil
}

// cutTorn truncates f after its last newline, leaves its offset at the end
// and returns the number of bytes cut.
func cutTorn(f *os.File) (int, error) {
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	end := size
	buf := make([]byte, 4096)
	for end > 0 {
		k := min(int64(len(buf)), end)
		if _, err := f.ReadAt(buf[:k], end-k); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:k], '\n'); i >= 0 {
			end = end - k + int64(i) + 1
			break
		}
		end -= k
	}
	if end == size {
		return 0, nil
	}
	if err := f.Truncate(end); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		return 0, err
	}
	return int(size - end), nil
}

// Name returns the file's name.
func (w *Writer) Name() string { return w.name }

// Dropped returns the number of bytes of a torn last line that Create cut
// off, 0 if the file ended cleanly.
func (w *Writer) Dropped() int { return w.dropped }

// Write validates r, appends it as one line and syncs the file to stable
// storage before returning, so a rating Write returned nil for survives a
// crash. It returns an error wrapping ErrInvalid, without writing, for an
// invalid rating or one by another annotator than the file's.
func (w *Writer) Write(r Rating) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if r.Annotator != w.annotator {
		return fmt.Errorf("%w: rating by %q in the file of %q", ErrInvalid, r.Annotator, w.annotator)
	}
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("annotate: %w", err)
	}
	line = append(line, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return fmt.Errorf("annotate: write %s: %w", w.name, os.ErrClosed)
	}
	// One write call per line: with the offset at the end of the file and
	// a single writer, the line lands whole or, after a crash, torn at the
	// end where Create and ReadFile expect it.
	if _, err := w.f.Write(line); err != nil {
		return fmt.Errorf("annotate: write %s: %w", w.name, err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("annotate: sync %s: %w", w.name, err)
	}
	return nil
}

// Close closes the file. It is idempotent: later calls return nil.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return fmt.Errorf("annotate: %w", err)
	}
	return nil
}

// ErrTorn is what a LineError for a torn last line wraps.
var ErrTorn = errors.New("no newline at the end (a write was cut short)")

// Read reads a ratings file from r, name naming it in errors, validates
// every line and returns the ratings after Latest. A bad line is a
// *LineError naming the file and the line. A last line without a newline
// is a write a crash cut short: Read skips it and returns it as torn, a
// *LineError wrapping ErrTorn, with err nil; torn is nil when the file
// ends cleanly.
func Read(r io.Reader, name string) (ratings []Rating, torn, err error) {
	br := bufio.NewReader(r)
	var all []Rating
	for line := 1; ; line++ {
		b, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// b is bufio's buffer, which the next read overwrites: copy
			// it before reading the rest of the line.
			long := bytes.Clone(b)
			for err == bufio.ErrBufferFull && len(long) <= maxLine {
				b, err = br.ReadSlice('\n')
				long = append(long, b...)
			}
			b = long
		}
		switch {
		case err == bufio.ErrBufferFull:
			return nil, nil, &LineError{File: name, Line: line, Err: fmt.Errorf("line longer than %d bytes", maxLine)}
		case err == io.EOF && len(b) == 0:
			return Latest(all), nil, nil
		case err == io.EOF:
			return Latest(all), &LineError{File: name, Line: line, Err: ErrTorn}, nil
		case err != nil:
			return nil, nil, fmt.Errorf("annotate: read %s: %w", name, err)
		}
		var rt Rating
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rt); err != nil {
			return nil, nil, &LineError{File: name, Line: line, Err: err}
		}
		if dec.More() {
			return nil, nil, &LineError{File: name, Line: line, Err: errors.New("more than one JSON value")}
		}
		if err := rt.Validate(); err != nil {
			return nil, nil, &LineError{File: name, Line: line, Err: err}
		}
		all = append(all, rt)
	}
}

// ReadFile reads the ratings file name; see Read.
func ReadFile(name string) (ratings []Rating, torn, err error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("annotate: %w", err)
	}
	defer f.Close()
	return Read(f, name)
}

// Latest keeps the last rating of each (annotator, id), so that a changed
// mind overrides the earlier rating, in the order in which each pair was
// first rated. The input is not modified.
func Latest(ratings []Rating) []Rating {
	type key struct{ annotator, id string }
	at := make(map[key]int, len(ratings))
	var out []Rating
	for _, r := range ratings {
		k := key{r.Annotator, r.ID}
		if i, ok := at[k]; ok {
			out[i] = r
			continue
		}
		at[k] = len(out)
		out = append(out, r)
	}
	return out
}

// Resume returns the index in drawn of the first candidate annotator has
// not rated, len(drawn) when every one is rated: where an annotation
// session picks up after a restart. Ratings by other annotators are
// ignored.
func Resume(ratings []Rating, drawn []Candidate, annotator string) int {
	rated := make(map[string]bool)
	for _, r := range ratings {
		if r.Annotator == annotator {
			rated[r.ID] = true
		}
	}
	for i, c := range drawn {
		if !rated[c.ID] {
			return i
		}
	}
	return len(drawn)
}
