package gemini

import (
	"fmt"
	"math"
	"strings"

	"google.golang.org/genai"

	"github.com/labelfree/labelfree/sampling"
)

// fill turns the response to j's request into traces j.first … of out. lp
// says whether log-probabilities were asked for.
func (b *Backend) fill(resp *genai.GenerateContentResponse, d *sampling.Params, j job, lp bool, out []Trace) error {
	if resp == nil {
		return b.malformed("no response")
	}
	if len(resp.Candidates) == 0 && resp.PromptFeedback != nil && resp.PromptFeedback.BlockReason != "" {
		reason := string(resp.PromptFeedback.BlockReason)
		if m := resp.PromptFeedback.BlockReasonMessage; m != "" {
			reason += ": " + m
		}
		return &Error{Model: b.s.model, Err: fmt.Errorf("%w: %s", ErrBlocked, b.redact(cutMessage(reason)))}
	}
	if len(resp.Candidates) != j.n {
		return b.malformed("%d candidates, want %d", len(resp.Candidates), j.n)
	}
	var usage Usage
	if u := resp.UsageMetadata; u != nil {
		usage = Usage{PromptTokens: int(u.PromptTokenCount), OutputTokens: int(u.CandidatesTokenCount), ThoughtTokens: int(u.ThoughtsTokenCount)}
	}
	order, err := candidateOrder(resp.Candidates)
	if err != nil {
		return b.malformed("%v", err)
	}
	for i, c := range order {
		t, err := b.trace(c, d, lp)
		if err != nil {
			return b.malformed("candidate %d: %v", i, err)
		}
		if t.LogProbKind == "" {
			// Asked for and not returned, RequireLogprobs being set.
			return &Error{Model: b.s.model, Err: fmt.Errorf("%w: candidate %d has text but no logprobsResult", ErrNoLogprobs, i)}
		}
		if j.k == 0 {
			t.Greedy = true
		} else {
			t.Seed = j.seed(d) + uint32(i)
		}
		t.Usage = usage
		out[j.first+i] = t
	}
	return nil
}

// candidateOrder returns cs ordered by their index, or in the order given
// if the indexes are not 0 … len(cs)−1 (the API omits an index of 0).
func candidateOrder(cs []*genai.Candidate) ([]*genai.Candidate, error) {
	order := make([]*genai.Candidate, len(cs))
	for i, c := range cs {
		if c == nil {
			return nil, fmt.Errorf("candidate %d is null", i)
		}
		k := int(c.Index)
		if k < 0 || k >= len(cs) || order[k] != nil {
			return cs, nil
		}
		order[k] = c
	}
	return order, nil
}

// trace maps one candidate. Its LogProbKind is "" if log-probabilities
// were asked for, Config.RequireLogprobs is set and the candidate has text
// but none.
func (b *Backend) trace(c *genai.Candidate, d *sampling.Params, lp bool) (Trace, error) {
	t := Trace{FinishReason: string(c.FinishReason), FinishMessage: b.redact(cutMessage(c.FinishMessage))}
	var thoughts, answer strings.Builder
	if c.Content != nil {
		for i, part := range c.Content.Parts {
			if part == nil {
				return t, fmt.Errorf("part %d is null", i)
			}
			if part.Thought {
				thoughts.WriteString(part.Text)
			} else {
				answer.WriteString(part.Text)
			}
		}
	}
	t.Text = answer.String()
	if b.s.thoughts && thoughts.Len() > 0 {
		t.Text = "<think>\n" + thoughts.String() + "\n</think>\n\n" + t.Text
	}
	t.Finish = finish(c.FinishReason, len(d.Stop) > 0)

	var res *genai.LogprobsResult
	if lp {
		res = c.LogprobsResult
	}
	switch {
	case !lp && b.s.logprobs < 0:
		t.LogProbKind, t.Note = sampling.LogProbsNone, "log-probabilities not asked for (Config.Logprobs < 0)"
		return t, nil
	case !lp:
		msg := ""
		if m := b.noLogprobs.Load(); m != nil {
			msg = *m
		}
		t.LogProbKind = sampling.LogProbsNone
		t.Note = fmt.Sprintf("%s rejected responseLogprobs: %s", b.s.model, b.redact(msg))
		return t, nil
	case res == nil || len(res.ChosenCandidates) == 0:
		if answer.Len() > 0 {
			if b.s.requireLogprobs {
				return t, nil
			}
			t.LogProbKind, t.Note = sampling.LogProbsNone, "the response had text but no logprobsResult"
			return t, nil
		}
		// Nothing generated outside the thoughts: no tokens, truly.
		t.LogProbKind = sampling.LogProbsTop(max(b.s.logprobs, 0))
		return t, nil
	}
	n := b.s.logprobs
	if len(res.TopCandidates) == 0 {
		n = 0
	} else if len(res.TopCandidates) != len(res.ChosenCandidates) {
		return t, fmt.Errorf("logprobsResult has %d chosenCandidates but %d topCandidates", len(res.ChosenCandidates), len(res.TopCandidates))
	}
	t.Tokens = make([]sampling.Token, len(res.ChosenCandidates))
	for i, ch := range res.ChosenCandidates {
		if ch == nil {
			return t, fmt.Errorf("chosen candidate %d is null", i)
		}
		h := math.NaN()
		if n > 0 {
			h = 0
			top := res.TopCandidates[i]
			if top == nil {
				return t, fmt.Errorf("top candidates %d are null", i)
			}
			for k, a := range top.Candidates {
				if a == nil {
					return t, fmt.Errorf("top candidate %d of token %d is null", k, i)
				}
				h += entropyTerm(float64(a.LogProbability))
			}
		}
		t.Tokens[i] = sampling.Token{ID: ch.TokenID, Text: ch.Token, LogProb: float64(ch.LogProbability), Entropy: h}
	}
	t.LogProbKind = sampling.LogProbsTop(n)
	return t, nil
}

// entropyTerm is −p log p for p = exp(l).
func entropyTerm(l float64) float64 {
	if math.IsInf(l, -1) {
		return 0
	}
	return -math.Exp(l) * l
}

// finish maps the API's finishReason; stops says whether stop sequences
// were sent.
func finish(r genai.FinishReason, stops bool) sampling.FinishReason {
	switch r {
	case genai.FinishReasonStop:
		if stops {
			return sampling.FinishStop
		}
		return sampling.FinishEOG
	case genai.FinishReasonMaxTokens, genai.FinishReasonContinuation:
		return sampling.FinishLength
	case genai.FinishReasonSafety, genai.FinishReasonRecitation, genai.FinishReasonLanguage,
		genai.FinishReasonBlocklist, genai.FinishReasonProhibitedContent, genai.FinishReasonSPII,
		genai.FinishReasonImageSafety, genai.FinishReasonImageProhibitedContent,
		genai.FinishReasonImageRecitation:
		return FinishFiltered
	}
	return FinishOther
}

// malformed returns the error of a response that is not what the API
// specifies.
func (b *Backend) malformed(format string, args ...any) error {
	return &Error{Model: b.s.model, Err: fmt.Errorf("%w: %s", ErrMalformed, b.redact(fmt.Sprintf(format, args...)))}
}
