package score

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/uncertainty"
)

// Stats counts what File scored.
type Stats struct {
	// Groups is the number of groups scored (lines written after the
	// header).
	Groups int
	// Unparsable is the number of groups whose r0 has no parsable answer.
	Unparsable int
	// Errors counts, per estimator, the groups it could not score.
	Errors map[string]int
}

// chunk is the number of groups File reads before scoring them together.
const chunk = 512

// File scores the trace file traces with the estimators c configures and
// writes the score file out (see the package comment for the format and
// how an interrupted run resumes). The trace file is decoded by a
// TraceReader and groups are scored in chunks of 512 on c.Workers
// goroutines, then written in the trace file's order, each record with
// the Location of its group's line; the file's bytes depend on the trace
// file and c alone. An estimator's error on a group
// goes to the record's "errors"; File stops only for an unreadable trace
// file (its *sampling.LineError names file and line), a group without
// exactly one greedy trace (ErrNoGreedy), an Embedder error (a trace
// without token ids to embed is one), a bad Config or ctx's end. An
// existing out that is not a score file is not overwritten.
func File(ctx context.Context, traces, out string, c *Config) (Stats, error) {
	es, settings, err := NewEstimators(c)
	if err != nil {
		return Stats{}, err
	}
	if err := checkOverwrite(out); err != nil {
		return Stats{}, err
	}
	var workers int
	if c != nil {
		workers = c.Workers
	}
	tr, err := OpenTraces(traces, workers, nil)
	if err != nil {
		return Stats{}, err
	}
	defer tr.Close()
	if th := tr.Header(); th.Params.NoGreedy {
		return Stats{}, fmt.Errorf("%w: %s was sampled with no_greedy; scoring needs r0", ErrNoGreedy, traces)
	}

	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Name()
	}
	h := Header{Traces: traces, TracesSHA256: strings.Repeat("0", sha256.Size*2), Estimators: names, Settings: settings}
	tmp := out + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return Stats{}, fmt.Errorf("score: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	w, err := NewWriter(bw, &h)
	if err != nil {
		return Stats{}, err
	}
	var embedder uncertainty.Embedder
	if settings.Similarity == SimilarityEmbedding {
		embedder = c.Embedder
	}
	s := &scorer{
		es: es, names: names, w: w, embedder: embedder, workers: workers,
		topN: settings.TopNEntropies, x: explainer{partial: settings.Part != uncertainty.Whole.String()},
		st: Stats{Errors: make(map[string]int)},
	}
	if err := s.run(ctx, tr.Lines(ctx)); err != nil {
		return s.st, err
	}
	if err := bw.Flush(); err != nil {
		return s.st, fmt.Errorf("score: write %s: %w", tmp, err)
	}
	// The header was written with a placeholder hash: the trace file has
	// been read to its end now, so its hash is known.
	if err := patchHash(f, tmp, &h, tr.SHA256()); err != nil {
		return s.st, err
	}
	if err := f.Sync(); err != nil {
		return s.st, fmt.Errorf("score: sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return s.st, fmt.Errorf("score: %w", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return s.st, fmt.Errorf("score: %w", err)
	}
	ok = true
	return s.st, syncDir(filepath.Dir(out))
}

// scorer holds File's state while it scores.
type scorer struct {
	es       []uncertainty.Estimator
	names    []string
	w        *Writer
	embedder uncertainty.Embedder
	workers  int
	topN     bool
	x        explainer
	st       Stats

	src    []*sampling.Group
	locs   []Location // src's lines in the trace file
	groups []uncertainty.Group
	scores []uncertainty.Score
	errs   []error
}

// run scores the groups of seq, a chunk at a time.
func (s *scorer) run(ctx context.Context, seq iter.Seq2[TraceLine, error]) error {
	s.src, s.locs = s.src[:0], s.locs[:0]
	for l, err := range seq {
		if err != nil {
			return err
		}
		s.src = append(s.src, l.Group)
		s.locs = append(s.locs, l.Location)
		if len(s.src) == chunk {
			if err := s.chunk(ctx); err != nil {
				return err
			}
			s.src, s.locs = s.src[:0], s.locs[:0]
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("score: %w", context.Cause(ctx))
	}
	return s.chunk(ctx)
}

// chunk scores and writes s.src.
func (s *scorer) chunk(ctx context.Context) error {
	n := len(s.src)
	if n == 0 {
		return nil
	}
	if cap(s.groups) < n {
		s.groups = make([]uncertainty.Group, n)
	}
	s.groups = s.groups[:n]
	for i, g := range s.src {
		if err := Convert(&s.groups[i], g, s.topN); err != nil {
			return err
		}
		if s.embedder != nil {
			if err := uncertainty.EmbedGroup(ctx, s.embedder, &s.groups[i]); err != nil {
				return fmt.Errorf("score: group %q: %w", g.Item.ID, err)
			}
		}
	}
	m := n * len(s.es)
	s.scores = slices.Grow(s.scores[:0], m)[:m]
	s.errs = slices.Grow(s.errs[:0], m)[:m]
	clear(s.errs)
	if err := uncertainty.Batch(ctx, s.scores, s.errs, s.groups, s.es, s.workers); err != nil {
		return fmt.Errorf("score: %w", err)
	}
	for i, g := range s.src {
		r0 := &s.groups[i].Greedy
		rec := Record{ID: g.Item.ID, OK: r0.OK, Label: g.Item.Label, Scores: make(map[string]uncertainty.Score, len(s.es)), Location: s.locs[i]}
		if r0.OK {
			rec.Class = r0.Answer
		} else {
			s.st.Unparsable++
		}
		s.x.reset(g, s.topN)
		for j, name := range s.names {
			k := i*len(s.es) + j
			if err := s.errs[k]; err != nil {
				if rec.Errors == nil {
					rec.Errors = make(map[string]string)
				}
				rec.Errors[name] = s.x.message(err)
				s.st.Errors[name]++
				continue
			}
			rec.Scores[name] = s.scores[k]
		}
		if err := s.w.Write(&rec); err != nil {
			return err
		}
		s.st.Groups++
	}
	return nil
}

// hashField is how the header's hash field begins.
const hashField = `"traces_sha256":"`

// patchHash writes sum's hex into the placeholder hash of the header that
// f's first line holds.
func patchHash(f *os.File, name string, h *Header, sum string) error {
	line, err := headerLine(h)
	if err != nil {
		return err
	}
	i := strings.Index(string(line), hashField+h.TracesSHA256+`"`)
	if i < 0 {
		return fmt.Errorf("score: %s: no hash placeholder in the header", name) // cannot happen
	}
	if len(sum) != len(h.TracesSHA256) {
		return fmt.Errorf("score: %s: the trace file was not read to its end", name) // cannot happen
	}
	if _, err := f.WriteAt([]byte(sum), int64(i+len(hashField))); err != nil {
		return fmt.Errorf("score: write %s: %w", name, err)
	}
	return nil
}

// checkOverwrite refuses an existing out whose first bytes are not a score
// file header's: it may be another file given by mistake.
func checkOverwrite(out string) error {
	f, err := os.Open(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("score: %w", err)
	}
	defer f.Close()
	start := `{"labelfree":"` + fileMagic + `",`
	b := make([]byte, len(start))
	n, _ := io.ReadFull(f, b)
	if n == 0 || string(b[:n]) == start {
		return nil
	}
	return fmt.Errorf("score: %s exists and is not a score file; not overwriting it", out)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("score: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("score: sync %s: %w", dir, err)
	}
	return nil
}

// FileSHA256 returns the hex SHA-256 of the file name's bytes.
func FileSHA256(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", fmt.Errorf("score: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("score: read %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// UpToDate reports whether the score file out already holds what File
// would write for traces and c: its header's trace file hash equals the
// SHA-256 of traces' bytes (the path itself may differ), and its
// estimators (in order) and Settings equal c's. A missing out, or one that
// is not a readable score file header, is not up to date (false, nil);
// an error is returned for a bad c or an unreadable traces. The records
// are not read: File writes a score file whole or not at all.
func UpToDate(out, traces string, c *Config) (bool, error) {
	settings, names, err := c.settings()
	if err != nil {
		return false, err
	}
	h, err := ReadHeader(out)
	if err != nil {
		var le *LineError
		if errors.Is(err, os.ErrNotExist) || errors.As(err, &le) {
			return false, nil
		}
		return false, err
	}
	if h.Settings != settings || !slices.Equal(h.Estimators, names) {
		return false, nil
	}
	sum, err := FileSHA256(traces)
	if err != nil {
		return false, err
	}
	return h.TracesSHA256 == sum, nil
}

// Records returns recs as an iterator of the form Reader.All yields, for
// code that takes a score file's records either way: each record by
// pointer into recs, with a nil error.
func Records(recs []Record) iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		for i := range recs {
			if !yield(&recs[i], nil) {
				return
			}
		}
	}
}
