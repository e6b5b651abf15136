package eval

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/score"
)

// Load reads the score file scores and, if traces is not "", the trace
// file it was scored from, keeping of each group only its answer counts
// (Votes), so the traces need not fit in memory. Every group of the score
// file must be in the trace file. ctx is checked every few thousand lines.
// Errors are those of the score and sampling readers (naming file and
// line), and ErrInvalid for a group missing from the trace file.
func Load(ctx context.Context, scores, traces string) (*Input, error) {
	h, recs, err := readScores(ctx, scores)
	if err != nil {
		return nil, err
	}
	in := &Input{Header: h, Records: recs}
	if traces == "" {
		return in, nil
	}
	if in.Votes, err = readVotes(ctx, traces); err != nil {
		return nil, err
	}
	for i := range recs {
		if _, ok := in.Votes[recs[i].ID]; !ok {
			return nil, fmt.Errorf("%w: group %q of %s is not in %s", ErrInvalid, recs[i].ID, scores, traces)
		}
	}
	return in, nil
}

// readScores reads a score file through score.Reader.
func readScores(ctx context.Context, name string) (score.Header, []score.Record, error) {
	f, err := os.Open(name)
	if err != nil {
		return score.Header{}, nil, fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	r, err := score.NewReader(f, name)
	if err != nil {
		return score.Header{}, nil, err
	}
	var recs []score.Record
	for n := 1; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return score.Header{}, nil, fmt.Errorf("eval: %w", context.Cause(ctx))
			}
		}
		rec, err := r.Next()
		if err == io.EOF {
			return r.Header(), recs, nil
		}
		if err != nil {
			return score.Header{}, nil, err
		}
		recs = append(recs, *rec)
	}
}

// readVotes reads a trace file through sampling.Reader and counts each
// group's answers by class, Unparsed for the traces without one.
func readVotes(ctx context.Context, name string) (map[string]Votes, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	r, err := sampling.NewReader(f, name)
	if err != nil {
		return nil, err
	}
	votes := map[string]Votes{}
	for n := 1; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("eval: %w", context.Cause(ctx))
			}
		}
		g, err := r.Next()
		if err == io.EOF {
			return votes, nil
		}
		if err != nil {
			return nil, err
		}
		votes[g.Item.ID] = CountVotes(g)
	}
}

// CountVotes counts the answers of g's traces by class, the traces whose
// answer was not parsed under Unparsed.
func CountVotes(g *sampling.Group) Votes {
	v := Votes{}
	for i := range g.Traces {
		a := &g.Traces[i].Answer
		if a.OK {
			v[a.Class]++
		} else {
			v[Unparsed]++
		}
	}
	return v
}
