package filter

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// writeAtomic writes name through write: to "<name>.partial" first (a
// leftover from an interrupted run is overwritten), synced, then renamed
// into place, so name is either absent, its old self, or complete. An
// existing name is an error wrapping ErrExist unless replace is true (the
// check and the rename are not one atomic step: two processes must not
// write one output at once).
func writeAtomic(name string, replace bool, write func(w io.Writer) error) (err error) {
	if err := checkNew(name, replace); err != nil {
		return err
	}
	tmp := name + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("filter: write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("filter: sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	return syncDir(filepath.Dir(name))
}

// checkNew returns an error wrapping ErrExist if name exists and replace
// is false.
func checkNew(name string, replace bool) error {
	if replace {
		return nil
	}
	_, err := os.Lstat(name)
	switch {
	case err == nil:
		return fmt.Errorf("filter: %s: %w (remove it or ask for replacement)", name, ErrExist)
	case errors.Is(err, os.ErrNotExist):
		return nil
	default:
		return fmt.Errorf("filter: %w", err)
	}
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("filter: sync %s: %w", dir, err)
	}
	return nil
}
