package sampling

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// openOut opens the trace file path for appending, resuming it if it holds
// anything: its header must equal h (shard included), every group must be
// one for which member is true, and a torn last line is cut off. It
// returns the file and the ids of the groups already in it.
func openOut(path string, h *Header, member func(id string) bool) (*os.File, map[string]bool, error) {
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, os.ErrNotExist)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("sampling: %w", err)
	}
	done, err := resume(f, path, h, member)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if created {
		// Make the new file's name durable too.
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, nil, err
		}
	}
	return f, done, nil
}

// resume reads f, positioned at its start, as described at openOut, and
// leaves it ending with a complete line: the file's own, or h's if f was
// empty or held only a torn header.
func resume(f *os.File, path string, h *Header, member func(id string) bool) (map[string]bool, error) {
	done := make(map[string]bool)
	r, err := NewReader(f, path)
	var le *LineError
	switch {
	case err == nil:
	case errors.As(err, &le) && le.Line == 1 && (errors.Is(err, ErrTornLine) || isEmpty(f)):
		if !startsLikeHeader(f) {
			return nil, fmt.Errorf("sampling: %s is not a trace file (its only line is no trace header); not overwriting it", path)
		}
		// Nothing but a header, unfinished or not started: start afresh.
		return done, writeHeader(f, path, h)
	default:
		return nil, err
	}
	got := r.Header()
	if d := got.diff(h, true, "the file", "this run"); len(d) > 0 {
		return nil, fmt.Errorf("sampling: %s was written by another run (%s); give this run the same settings to resume it, or another output file",
			path, strings.Join(d, "; "))
	}
	for {
		g, err := r.Next()
		if err == io.EOF {
			return done, nil
		}
		if errors.Is(err, ErrTornLine) {
			// The group being written when the last run died: cut it off, it
			// will be redone.
			if err := f.Truncate(r.sc.start); err != nil {
				return nil, fmt.Errorf("sampling: repair torn last line of %s: %w", path, err)
			}
			if err := f.Sync(); err != nil {
				return nil, fmt.Errorf("sampling: sync %s: %w", path, err)
			}
			return done, nil
		}
		if err != nil {
			return nil, err
		}
		if !member(g.Item.ID) {
			return nil, r.sc.errorf("group %q is not one of this run's items (is this output file for other input or another shard?)", g.Item.ID)
		}
		done[g.Item.ID] = true
	}
}

// headerStart is how every header line begins.
const headerStart = `{"labelfree":"` + fileMagic + `",`

// startsLikeHeader reports whether f's bytes are a prefix of headerStart or
// begin with it: only then may a file whose first line is torn be taken for
// an unfinished trace file and overwritten, not some other file given as
// the output by mistake.
func startsLikeHeader(f *os.File) bool {
	b := make([]byte, len(headerStart))
	n, err := f.ReadAt(b, 0)
	if err != nil && err != io.EOF {
		return false
	}
	return string(b[:n]) == headerStart[:n]
}

// isEmpty reports whether f has size 0.
func isEmpty(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Size() == 0
}

// writeHeader empties f and writes h's line to it, synced.
func writeHeader(f *os.File, path string, h *Header) error {
	b, err := newEncoder().appendHeader(nil, h)
	if err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("sampling: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("sampling: write header of %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sampling: sync %s: %w", path, err)
	}
	return nil
}

// syncDir fsyncs a directory, so that a file created in it survives a
// machine crash. Windows cannot open a directory for syncing; there it does
// nothing.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sampling: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sampling: sync %s: %w", dir, err)
	}
	return nil
}
