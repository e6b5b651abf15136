package score

import (
	"errors"
	"fmt"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/uncertainty"
)

// ErrNoGreedy: a group has no greedy trace r0 (a run with
// sampling.Params.NoGreedy), which every estimator of this package's
// pipeline needs; or it has more than one.
var ErrNoGreedy = errors.New("score: no greedy trace r0")

// Convert fills dst with the uncertainty.Group of src: r0 is src's greedy
// trace and the samples are the others, in order. Each trace brings its
// log-probabilities (nil for logprobs_kind "none"), entropies (nil for
// "none" and "top-0", and for "top-n" unless topNEntropies; see the
// package comment), token ids, text, and answer class and OK. dst's slices
// are reused; the per-token slices alias src's. It returns an error
// wrapping ErrNoGreedy unless src has exactly one greedy trace.
func Convert(dst *uncertainty.Group, src *sampling.Group, topNEntropies bool) error {
	dst.ID = src.Item.ID
	dst.Samples = dst.Samples[:0]
	greedy := -1
	for i := range src.Traces {
		if !src.Traces[i].Greedy {
			continue
		}
		if greedy >= 0 {
			return fmt.Errorf("%w: group %q has greedy traces %d and %d", ErrNoGreedy, src.Item.ID, greedy, i)
		}
		greedy = i
	}
	if greedy < 0 {
		return fmt.Errorf("%w: group %q", ErrNoGreedy, src.Item.ID)
	}
	dst.Greedy = trace(&src.Traces[greedy], topNEntropies)
	for i := range src.Traces {
		if i != greedy {
			dst.Samples = append(dst.Samples, trace(&src.Traces[i], topNEntropies))
		}
	}
	return nil
}

// trace converts one trace record.
func trace(r *sampling.TraceRecord, topNEntropies bool) uncertainty.Trace {
	t := uncertainty.Trace{
		IDs:    r.TokenIDs,
		Text:   r.Text,
		Answer: r.Answer.Class,
		OK:     r.Answer.OK,
	}
	if r.LogProbKind != sampling.LogProbsNone {
		t.LogProbs = r.LogProbs
	}
	_, top := r.LogProbKind.TopN()
	if r.LogProbKind == sampling.LogProbsFull || top && topNEntropies {
		t.Entropies = r.Entropies
	}
	return t
}

// explainer says, for an estimator's error on a group, what in the trace
// file explains it: log-probabilities or entropies the file does not have,
// or token ids a part needs.
type explainer struct {
	none    bool   // a trace has logprobs_kind "none"
	topN    string // a trace's "top-n" entropies were dropped: its kind
	noIDs   bool   // a part other than the whole is read and a trace has no token ids
	partial bool   // Settings.Part is not "whole"
}

func (x *explainer) reset(src *sampling.Group, topNEntropies bool) {
	x.none, x.topN, x.noIDs = false, "", false
	for i := range src.Traces {
		r := &src.Traces[i]
		switch n, top := r.LogProbKind.TopN(); {
		case r.LogProbKind == sampling.LogProbsNone:
			x.none = true
		case top && n > 0 && !topNEntropies:
			x.topN = string(r.LogProbKind)
		}
		if x.partial && r.TokenIDs == nil {
			x.noIDs = true
		}
	}
}

// message returns err's text with the explanations that apply to it.
func (x *explainer) message(err error) string {
	msg := err.Error()
	missing := errors.Is(err, uncertainty.ErrMissing) || errors.Is(err, uncertainty.ErrEmpty)
	if x.none && missing {
		msg += ` (logprobs_kind "none": the trace file has no log-probabilities for this group)`
	}
	if x.topN != "" && errors.Is(err, uncertainty.ErrMissing) {
		msg += fmt.Sprintf(` (logprobs_kind %q: entropies over the top alternatives only are not token entropies; score.Config.TopNEntropies accepts them)`, x.topN)
	}
	if x.noIDs && (missing || errors.Is(err, uncertainty.ErrInvalid)) {
		msg += " (the reasoning and answer parts are found by token ids, which this trace file does not record)"
	}
	return msg
}
