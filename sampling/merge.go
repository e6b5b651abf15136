package sampling

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// maxListed bounds how many missing ids an error lists.
const maxListed = 10

// Merge writes to out the groups of the trace files shards, in the order of
// items, under the shards' header less its shard: the file one unsharded
// run over items would have written, byte for byte. It checks that the
// headers agree (apart from the shard), that the files are the shards 0 to
// n−1 of one n, each once, that every group belongs to its file's shard and
// to items, and that every item has exactly one group: a missing one is an
// error that lists the first missing ids in input order, a duplicate one
// (ErrDuplicateID) names both places. A torn last line is an error too:
// resume that shard's run first.
//
// Merge holds only the position of each group in memory and copies the
// lines as they are; it writes out through a temporary file in the same
// directory and renames it, so out is never half-written. Unsharded files
// may be merged too (a run resumed after OnError skipped an item has that
// item's group out of input order; merging the file alone puts it back).
func Merge(ctx context.Context, out string, items []Item, shards ...string) error {
	if len(shards) == 0 {
		return errors.New("sampling: merge: no input files")
	}
	if err := checkItems(items); err != nil {
		return err
	}
	index := make(map[string]int, len(items))
	for i := range items {
		index[items[i].ID] = i
	}
	// where[i] is the place of items[i]'s line.
	type place struct {
		file      int
		line      int
		off, size int64
	}
	where := make([]place, len(items))
	for i := range where {
		where[i].file = -1
	}
	files := make([]*os.File, len(shards))
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}()
	var h0 Header
	shardOf := make(map[int]string) // shard index → file
	for k, name := range shards {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("sampling: merge: %w", err)
		}
		files[k] = f
		r, err := NewReader(f, name)
		if err != nil {
			return err
		}
		h := r.Header()
		if k == 0 {
			h0 = h
		} else if d := h0.diff(&h, false, shards[0], name); len(d) > 0 {
			return fmt.Errorf("sampling: merge: %s and %s come from different runs (%s)", shards[0], name, strings.Join(d, "; "))
		} else if h.Shard.Count != h0.Shard.Count {
			return fmt.Errorf("sampling: merge: %s is shard %q and %s shard %q of another count", shards[0], h0.Shard, name, h.Shard)
		}
		if h.Shard.Count > 0 {
			if other, dup := shardOf[h.Shard.Index]; dup {
				return fmt.Errorf("sampling: merge: %s and %s are both shard %s", other, name, h.Shard)
			}
			shardOf[h.Shard.Index] = name
		}
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			g, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			id := g.Item.ID
			i, ok := index[id]
			switch {
			case !ok:
				return r.sc.errorf("group %q is not one of the items being merged", id)
			case !h.Shard.Contains(id):
				return r.sc.errorf("group %q does not belong to shard %s", id, h.Shard)
			case where[i].file >= 0:
				p := where[i]
				return r.sc.errorf("%w %q (also in %s:%d)", ErrDuplicateID, id, shards[p.file], p.line)
			}
			where[i] = place{file: k, line: r.sc.line, off: r.sc.start, size: r.sc.off - r.sc.start}
		}
	}
	for i := range h0.Shard.Count {
		if _, ok := shardOf[i]; !ok {
			return fmt.Errorf("sampling: merge: no file for shard %d/%d", i, h0.Shard.Count)
		}
	}
	var missing []string
	for i, p := range where {
		if p.file < 0 {
			missing = append(missing, items[i].ID)
		}
	}
	if len(missing) > 0 {
		list := strings.Join(missing[:min(len(missing), maxListed)], ", ")
		if len(missing) > maxListed {
			list += fmt.Sprintf(", … (%d more)", len(missing)-maxListed)
		}
		return fmt.Errorf("sampling: merge: %d of %d items have no group: %s", len(missing), len(items), list)
	}

	h0.Shard = Shard{}
	return writeAtomic(out, func(w *bufio.Writer) error {
		b, err := newEncoder().appendHeader(nil, &h0)
		if err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return fmt.Errorf("sampling: merge: %w", err)
		}
		for _, p := range where {
			if err := ctx.Err(); err != nil {
				return err
			}
			if _, err := io.Copy(w, io.NewSectionReader(files[p.file], p.off, p.size)); err != nil {
				return fmt.Errorf("sampling: merge: read %s: %w", shards[p.file], err)
			}
		}
		return nil
	})
}

// writeAtomic writes name through fill: into a temporary file in the same
// directory, synced, then renamed over name. On error it removes the
// temporary file and leaves name as it was.
func writeAtomic(name string, fill func(*bufio.Writer) error) (err error) {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, filepath.Base(name)+".*.tmp")
	if err != nil {
		return fmt.Errorf("sampling: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	if err := fill(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("sampling: write %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sampling: sync %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("sampling: %w", err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("sampling: %w", err)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		return fmt.Errorf("sampling: %w", err)
	}
	return syncDir(dir)
}
