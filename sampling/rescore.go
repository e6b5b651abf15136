package sampling

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// RescoreConfig configures Rescore. A nil *RescoreConfig means the zero
// value.
type RescoreConfig struct {
	// Name names the Scorer in the output's header (see Rescore), e.g.
	// "llama:Qwen3-8B-Q4_K_M.gguf"; "" leaves it unnamed.
	Name string
	// Force rescores every trace; false rescores only the traces whose
	// LogProbKind is not LogProbsFull.
	Force bool
	// EndText, if not empty, is appended to the text scored for a trace
	// that ended with FinishEOG: the text of the model's end-of-generation
	// token (e.g. "<|im_end|>" for Qwen, which the llama Scorer parses as
	// that special token), so that the rescored arrays end with that
	// token's numbers, as a generating backend's do. "" scores the text
	// alone, and the arrays have no end-of-generation token.
	EndText string
	// NoSync skips the fsync after each group, as RunConfig.NoSync does;
	// the finished file is synced before it is renamed in any case.
	NoSync bool
}

// RescoreStats counts what Rescore did.
type RescoreStats struct {
	Groups int // groups of the input read (all of them unless an error stopped the call)
	// Resumed are the groups found already rescored in the partial output
	// of an interrupted call: they are not rescored again.
	Resumed  int
	Rescored int // traces given the Scorer's numbers by this call
	Kept     int // traces written as they were by this call (kind "full", without Force)
}

// RescoreMark is what Rescore appends to Header.Backend, followed by ":"
// and RescoreConfig.Name when that is not empty.
const RescoreMark = "+rescored"

// RescorePartialSuffix is appended to Rescore's output path to name the
// file it writes before renaming it into place.
const RescorePartialSuffix = ".partial"

// Rescore gives the traces of the trace file in the per-token numbers of
// the Scorer s: for each group it calls s.Score with the group's prompt
// and the texts of the traces that need it (those whose LogProbKind is not
// LogProbsFull, or all of them with Force), and writes the trace file out,
// in which those traces carry the Scorer's log-probabilities, entropies
// and token ids, with LogProbKind LogProbsFull. Everything else (items, prompts, texts,
// answers, finish reasons, the other traces) is copied as it is, in the
// same order. Texts that are empty (with no EndText to add) are not sent
// to the Scorer, which may refuse them; their arrays are empty.
//
// The output's header is the input's, with Backend followed by
// RescoreMark and ":"+Name (e.g. "openai+rescored:llama:qwen3-8b.gguf"),
// unless Backend already ends with that: rescoring a rescored file with
// the same name marks it once. Header.Model still names the model that
// generated the texts; the mark names the one that scored them. A shard
// stays that shard, so rescored shards (with the same Name) merge as any
// others.
//
// A Scorer tokenizes each text on its own, so a rescored trace's token
// count can differ from the one the generating backend produced (another
// tokenizer, or the same one splitting the text another way, or a text
// that a file stored with U+FFFD in place of bytes that were not UTF-8):
// the new arrays, TokenIDs included, replace the old ones whole and are
// parallel to each other, not to the old ones. With the generating model
// as the Scorer, the same tokens and EndText, the numbers are the ones
// generation gave (up to float32 sums in another order).
//
// Writing is atomic and resumable: Rescore appends each group, synced, to
// out+RescorePartialSuffix, and renames that file to out once every group
// is in it, so out is never half-written; in may be out. If ctx ends or the
// Scorer fails, Rescore returns the stats and the error and leaves the
// partial file; a later call with the same input and header (the same
// Name) resumes it, skipping the groups it holds. The partial file records
// neither Force nor EndText nor which Scorer wrote it: resume with the
// same settings, or remove it. A partial file whose groups are not the
// first groups of in is an error. A torn last line of in is an error
// (resume its run first); a torn last line of the partial file, left by a
// crash, is cut off and its group redone.
func Rescore(ctx context.Context, in, out string, s Scorer, c *RescoreConfig) (RescoreStats, error) {
	var st RescoreStats
	if s == nil {
		return st, errors.New("sampling: rescore: nil Scorer")
	}
	if c == nil {
		c = &RescoreConfig{}
	}
	if in == "" || out == "" {
		return st, errors.New("sampling: rescore: no input or output path")
	}
	inf, err := os.Open(in)
	if err != nil {
		return st, fmt.Errorf("sampling: %w", err)
	}
	defer inf.Close()
	r, err := NewReader(inf, in)
	if err != nil {
		return st, err
	}
	h := r.Header()
	mark := RescoreMark
	if c.Name != "" {
		mark += ":" + c.Name
	}
	if !strings.HasSuffix(h.Backend, mark) {
		h.Backend += mark
	}
	partial := out + RescorePartialSuffix
	f, done, err := openOut(partial, &h, func(string) bool { return true })
	if err != nil {
		return st, err
	}
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	enc := newEncoder()
	var line []byte
	undone := false // a group not in the partial file has been read
	for {
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("sampling: rescore stopped after %d groups: %w", st.Groups, context.Cause(ctx))
		}
		g, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, err
		}
		st.Groups++
		if done[g.Item.ID] {
			if undone {
				return st, fmt.Errorf("sampling: rescore: %s holds group %q but not the ones before it in %s; remove it to start afresh", partial, g.Item.ID, in)
			}
			st.Resumed++
			continue
		}
		undone = true
		n, err := rescoreGroup(ctx, g, s, c)
		if err != nil {
			return st, fmt.Errorf("sampling: rescore %s: group %q: %w", in, g.Item.ID, err)
		}
		if line, err = enc.appendGroup(line[:0], g); err != nil {
			return st, err
		}
		if _, err := f.Write(line); err != nil {
			return st, fmt.Errorf("sampling: write %s: %w", partial, err)
		}
		if !c.NoSync {
			if err := f.Sync(); err != nil {
				return st, fmt.Errorf("sampling: sync %s: %w", partial, err)
			}
		}
		st.Rescored += n
		st.Kept += len(g.Traces) - n
	}
	if st.Resumed != len(done) {
		return st, fmt.Errorf("sampling: rescore: %s holds %d groups that are not in %s; remove it to start afresh", partial, len(done)-st.Resumed, in)
	}
	if err := f.Sync(); err != nil {
		return st, fmt.Errorf("sampling: sync %s: %w", partial, err)
	}
	err = f.Close()
	f = nil
	if err != nil {
		return st, fmt.Errorf("sampling: %w", err)
	}
	if err := os.Rename(partial, out); err != nil {
		return st, fmt.Errorf("sampling: %w", err)
	}
	return st, syncDir(filepath.Dir(out))
}

// rescoreGroup replaces the numbers of g's traces that need it with s's
// and returns how many it replaced.
func rescoreGroup(ctx context.Context, g *Group, s Scorer, c *RescoreConfig) (int, error) {
	var which []int // traces to rescore
	var texts []string
	n := 0
	for i := range g.Traces {
		t := &g.Traces[i]
		if t.LogProbKind == LogProbsFull && !c.Force {
			continue
		}
		n++
		text := t.Text
		if t.Finish == FinishEOG {
			text += c.EndText
		}
		if text == "" {
			rescoreTrace(t, nil)
			continue
		}
		which = append(which, i)
		texts = append(texts, text)
	}
	if len(texts) == 0 {
		return n, nil
	}
	scored, err := s.Score(ctx, g.Prompt, texts)
	if err != nil {
		return 0, err
	}
	if len(scored) != len(texts) {
		return 0, fmt.Errorf("the Scorer returned %d token lists for %d texts", len(scored), len(texts))
	}
	for j, i := range which {
		rescoreTrace(&g.Traces[i], scored[j])
	}
	return n, nil
}

// rescoreTrace gives t the numbers of toks, of kind LogProbsFull.
func rescoreTrace(t *TraceRecord, toks []Token) {
	tr := Trace{Greedy: t.Greedy, Seed: t.Seed, Tokens: toks, Text: t.Text, Finish: t.Finish, Stop: t.Stop}
	*t = NewTraceRecord(&tr, t.Answer, LogProbsFull)
}
