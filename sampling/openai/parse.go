package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/labelfree/labelfree/sampling"
)

// parse turns a choice into a trace. generated is the number of tokens the
// server says it generated for the choice, −1 if unknown.
func (c *Client) parse(ch *choice, d *sampling.Params, chat bool, generated int) (Trace, error) {
	var t Trace
	var text, reasoning string
	if chat {
		if ch.Message == nil {
			return t, errors.New("no message")
		}
		if ch.Message.Content != nil {
			text = *ch.Message.Content
		}
		switch {
		case ch.Message.ReasoningContent != nil:
			reasoning = *ch.Message.ReasoningContent
		case ch.Message.Reasoning != nil:
			reasoning = *ch.Message.Reasoning
		}
	} else {
		if ch.Text == nil {
			return t, errors.New("no text")
		}
		text = *ch.Text
	}
	if ch.FinishReason == nil {
		return t, errors.New("no finish_reason")
	}
	switch *ch.FinishReason {
	case "length":
		t.Finish = sampling.FinishLength
	case "stop", "tool_calls", "function_call":
		// The model ended its turn (stop strings are not sent to the
		// server unless ServerStop; see below).
		t.Finish = sampling.FinishEOG
	default:
		return t, fmt.Errorf("finish_reason %q", *ch.FinishReason)
	}

	r, err := c.tokens(ch.Logprobs)
	if err != nil {
		return t, err
	}
	if r.toks != nil {
		// Stop strings first: what the server did after the trace's end
		// does not matter.
		kept, stop := r.toks, ""
		if !c.s.serverStop {
			kept, stop = cutTokens(r.toks, d.Stop)
		}
		note := r.note
		if r.bad >= len(kept) {
			note = ""
			if r.ids && stop == "" && generated > len(r.toks) {
				note = fmt.Sprintf("the server generated %d tokens but returned log-probabilities for %d (llama-server skips tokens that end inside a UTF-8 character, and with ServerStop those of the stop string)",
					generated, len(r.toks))
			}
		}
		if note == "" {
			t.Tokens = kept
			t.LogProbKind = sampling.LogProbsTop(c.s.top)
			t.Text = concat(kept)
			if stop != "" {
				t.Finish, t.Stop = sampling.FinishStop, stop
			}
			if c.s.serverStop && *ch.FinishReason == "stop" && len(d.Stop) > 0 {
				serverStop(&t, ch)
			}
			return t, nil
		}
		r.note = note
	}

	// No usable tokens: the text.
	t.LogProbKind = sampling.LogProbsNone
	t.Text, t.Reasoning, t.Note = text, reasoning, r.note
	if r.toks != nil {
		// The tokens' bytes are exact where the server's text has
		// invalid UTF-8 replaced: prefer them when they say the same.
		if all := concat(r.toks); validRunes(all) == validRunes(text) {
			t.Text, t.Reasoning = all, ""
		}
	}
	if c.s.serverStop {
		if *ch.FinishReason == "stop" && len(d.Stop) > 0 {
			serverStop(&t, ch)
		}
	} else {
		cutText(&t, d.Stop)
	}
	return t, nil
}

func concat(toks []sampling.Token) string {
	var b strings.Builder
	for _, tok := range toks {
		b.WriteString(tok.Text)
	}
	return b.String()
}

// serverStop sets the finish of t, ended by the server with "stop" while
// stop strings were set: a stop string when the server says so (vLLM's
// stop_reason, SGLang's matched_stop: a string for a stop string, a token
// id or null for an end-of-sequence token), else an end-of-generation
// token if the last token has no text (llama-server returns that token;
// a stop string's tokens it drops), else a stop string not known which.
func serverStop(t *Trace, ch *choice) {
	for _, raw := range []json.RawMessage{ch.StopReason, ch.MatchedStop} {
		if raw == nil {
			continue
		}
		var s string
		if string(bytes.TrimSpace(raw)) != "null" && json.Unmarshal(raw, &s) == nil {
			t.Finish, t.Stop = sampling.FinishStop, s
		} else {
			t.Finish = sampling.FinishEOG
		}
		return
	}
	if n := len(t.Tokens); n > 0 && t.Tokens[n-1].Text == "" {
		t.Finish = sampling.FinishEOG
		return
	}
	t.Finish = sampling.FinishStop
}

// cutTokens ends toks at the first stop string, as the llama package
// does: after each token, the first of stops (in their order) that occurs
// in the text within the last token and the longest stop string before it
// ends the trace there, the token included. It returns the tokens kept and
// the stop string, "" if none occurs.
func cutTokens(toks []sampling.Token, stops []string) ([]sampling.Token, string) {
	maxStop := 0
	for _, s := range stops {
		maxStop = max(maxStop, len(s))
	}
	if maxStop == 0 {
		return toks, ""
	}
	var text []byte
	for i, tok := range toks {
		text = append(text, tok.Text...)
		window := text[max(0, len(text)-len(tok.Text)-maxStop):]
		for _, s := range stops {
			if s != "" && bytes.Contains(window, []byte(s)) {
				return toks[:i+1], s
			}
		}
	}
	return toks, ""
}

// cutText ends t's text, which has no tokens, where the first stop string
// to be complete ends (the first of stops, in their order, that occurs up
// to there).
func cutText(t *Trace, stops []string) {
	end := -1
	for _, s := range stops {
		if i := strings.Index(t.Text, s); s != "" && i >= 0 && (end < 0 || i+len(s) < end) {
			end = i + len(s)
		}
	}
	if end < 0 {
		return
	}
	for _, s := range stops {
		if s != "" && strings.Contains(t.Text[:end], s) {
			t.Text = t.Text[:end]
			t.Finish, t.Stop = sampling.FinishStop, s
			return
		}
	}
}

// tokens is what a choice's log-probabilities hold.
type tokens struct {
	toks []sampling.Token // nil when the server returned none
	// bad is the index of the first token whose entry also holds the
	// bytes of tokens before it that the server gave no log-probability
	// (or may have), len(toks) if none; note says so.
	bad  int
	note string
	// ids reports whether the tokens have ids (llama-server's, whose
	// count of generated tokens then shows tokens missing at the end).
	ids bool
}

// tokens reads a choice's log-probabilities.
func (c *Client) tokens(lp *logprobs) (tokens, error) {
	switch {
	case c.s.top < 0:
		return tokens{}, nil
	case lp != nil && len(lp.Content) > 0:
		return chatTokens(lp.Content)
	case lp != nil && len(lp.Tokens) > 0:
		toks, err := legacyTokens(lp)
		return tokens{toks: toks, bad: len(toks)}, err
	}
	return tokens{note: "the server returned no log-probabilities"}, nil
}

// chatTokens reads the chat format. When the server gives token ids
// (llama-server), it checks that every token has its own entry:
// llama-server v0.5.0 gives no entry to a token after which the text ends
// inside a UTF-8 character, and puts its bytes into the next token's entry
// (tools/server/server-context.cpp, process_token: add_token only when
// !incomplete). A token whose bytes differ from those the server gives for
// the same id among the alternatives is such a merge; so may be one with a
// multi-byte character whose own bytes are unknown. (Tokens missing at the
// end show in the count of generated tokens; see parse.)
func chatTokens(es []entry) (tokens, error) {
	toks := make([]sampling.Token, len(es))
	withIDs := true
	pieces := make(map[int32][]byte)
	raws := make([][]byte, len(es))
	for i := range es {
		e := &es[i]
		raw, err := e.raw()
		if err != nil {
			return tokens{}, err
		}
		if e.Logprob == nil {
			return tokens{}, fmt.Errorf("token %d has no logprob", i)
		}
		raws[i] = raw
		toks[i] = sampling.Token{ID: -1, Text: string(raw), LogProb: logProb(*e.Logprob)}
		if e.ID != nil {
			toks[i].ID = *e.ID
		} else {
			withIDs = false
		}
		h := 0.0
		for j := range e.TopLogprobs {
			a := &e.TopLogprobs[j]
			if a.Logprob == nil {
				return tokens{}, fmt.Errorf("token %d, alternative %d has no logprob", i, j)
			}
			h += entropyTerm(logProb(*a.Logprob))
			if a.ID != nil {
				if _, ok := pieces[*a.ID]; !ok {
					b, err := a.raw()
					if err != nil {
						return tokens{}, err
					}
					pieces[*a.ID] = b
				}
			}
		}
		toks[i].Entropy = h
	}
	r := tokens{toks: toks, bad: len(toks), ids: withIDs}
	if !withIDs {
		return r, nil
	}
	for i, raw := range raws {
		piece, known := pieces[toks[i].ID]
		switch {
		case known && !bytes.Equal(piece, raw):
			r.bad = i
			r.note = fmt.Sprintf("token %d (id %d) came with the bytes %q, not its own %q: the server returned no log-probability for the tokens before it (llama-server skips tokens that end inside a UTF-8 character)",
				i, toks[i].ID, raw, piece)
			return r, nil
		case !known && len(raw) > 1 && hasLeadByte(raw):
			r.bad = i
			r.note = fmt.Sprintf("token %d (id %d) has the bytes %q, not known to be its own: the server may have returned no log-probability for tokens before it (llama-server skips tokens that end inside a UTF-8 character)",
				i, toks[i].ID, raw)
			return r, nil
		}
	}
	return r, nil
}

// legacyTokens reads the legacy completions format (vLLM, OpenAI), which
// has no token ids and whose tokens are text; a token that is not valid
// UTF-8 is written "bytes:\xNN…".
func legacyTokens(lp *logprobs) ([]sampling.Token, error) {
	if len(lp.TokenLogprobs) != len(lp.Tokens) {
		return nil, fmt.Errorf("%d tokens but %d token_logprobs", len(lp.Tokens), len(lp.TokenLogprobs))
	}
	toks := make([]sampling.Token, len(lp.Tokens))
	for i, s := range lp.Tokens {
		if lp.TokenLogprobs[i] == nil {
			return nil, fmt.Errorf("token %d has no logprob", i)
		}
		text, err := legacyText(s)
		if err != nil {
			return nil, fmt.Errorf("token %d: %v", i, err)
		}
		h := 0.0
		if i < len(lp.TopLogprobs) {
			for _, l := range lp.TopLogprobs[i] {
				h += entropyTerm(logProb(l))
			}
		}
		toks[i] = sampling.Token{ID: -1, Text: text, LogProb: logProb(*lp.TokenLogprobs[i]), Entropy: h}
	}
	return toks, nil
}

// legacyText decodes a legacy token: "bytes:\xe2\x80" is those bytes.
func legacyText(s string) (string, error) {
	rest, ok := strings.CutPrefix(s, "bytes:")
	if !ok {
		return s, nil
	}
	var b []byte
	for rest != "" {
		if len(rest) < 4 || rest[0] != '\\' || rest[1] != 'x' {
			return "", fmt.Errorf("bad byte escape in %q", s)
		}
		v, err := strconv.ParseUint(rest[2:4], 16, 8)
		if err != nil {
			return "", fmt.Errorf("bad byte escape in %q", s)
		}
		b = append(b, byte(v))
		rest = rest[4:]
	}
	return string(b), nil
}

// logProb maps the stand-ins servers write for log 0 (JSON has no −Inf:
// llama-server writes the lowest float32, vLLM −9999) to −Inf.
func logProb(v float64) float64 {
	if v <= -9999 {
		return math.Inf(-1)
	}
	return v
}

// entropyTerm is −p log p for p = exp(l), 0 for l = −Inf.
func entropyTerm(l float64) float64 {
	if math.IsInf(l, -1) {
		return 0
	}
	return -math.Exp(l) * l
}

// validRunes returns s without invalid UTF-8 and U+FFFD.
func validRunes(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\uFFFD", "")
}

// hasLeadByte reports whether b has the first byte of a multi-byte UTF-8
// character.
func hasLeadByte(b []byte) bool {
	for _, c := range b {
		if c >= 0xC0 {
			return true
		}
	}
	return false
}
