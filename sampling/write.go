package sampling

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// The JSON forms of the header. Field order is the order in the file.
type (
	headerJSON struct {
		Labelfree string  `json:"labelfree"` // always "traces"
		Version   int     `json:"version"`
		Run       runJSON `json:"run"`
	}
	runJSON struct {
		Model   modelJSON  `json:"model"`
		Backend string     `json:"backend"`
		Task    string     `json:"task"`
		Params  paramsJSON `json:"params"`
		Seed    uint64     `json:"seed"`
		Shard   string     `json:"shard,omitempty"`
	}
	modelJSON struct {
		Name   string `json:"name"`
		SHA256 string `json:"sha256,omitempty"`
	}
	paramsJSON struct {
		Samples     int      `json:"samples"`
		NoGreedy    bool     `json:"no_greedy,omitempty"`
		MaxTokens   int      `json:"max_tokens"`
		Temperature float64  `json:"temperature"`
		TopK        int      `json:"top_k"`
		TopP        float64  `json:"top_p"`
		MinP        float64  `json:"min_p"`
		Stop        []string `json:"stop,omitempty"`
	}
)

// fileMagic is the value of the header's "labelfree" field.
const fileMagic = "traces"

func (h *Header) toJSON() headerJSON {
	p := &h.Params
	return headerJSON{
		Labelfree: fileMagic,
		Version:   FileVersion,
		Run: runJSON{
			Model:   modelJSON{Name: h.Model, SHA256: h.ModelSHA256},
			Backend: h.Backend,
			Task:    h.Task,
			Params: paramsJSON{
				Samples: p.Samples, NoGreedy: p.NoGreedy, MaxTokens: p.MaxTokens,
				Temperature: p.Temperature, TopK: p.TopK, TopP: p.TopP, MinP: p.MinP,
				Stop: p.Stop,
			},
			Seed:  p.Seed,
			Shard: h.Shard.String(),
		},
	}
}

// encoder writes the lines of a trace file. It is not safe for concurrent
// use; the runner has one per worker.
type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func newEncoder() *encoder {
	e := new(encoder)
	e.enc = json.NewEncoder(&e.buf)
	// Texts are full of <think> and <answer>; \u003c would make the file
	// unreadable to people and grep.
	e.enc.SetEscapeHTML(false)
	return e
}

// value appends v's JSON encoding to b.
func (e *encoder) value(b []byte, v any) ([]byte, error) {
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return b, err
	}
	out := e.buf.Bytes()
	return append(b, out[:len(out)-1]...), nil // without Encode's newline
}

// appendHeader appends h's line, newline included, to b.
func (e *encoder) appendHeader(b []byte, h *Header) ([]byte, error) {
	if err := h.Shard.validate(); err != nil {
		return b, err
	}
	b, err := e.value(b, h.toJSON())
	if err != nil {
		return b, fmt.Errorf("sampling: header: %w", err)
	}
	return append(b, '\n'), nil
}

// appendGroup appends g's line, newline included, to b. It returns an
// error, and b unchanged, if g cannot be written: an empty or non-UTF-8
// id, a trace that fails TraceRecord.validate, or a number that JSON or a
// float32 cannot hold (see Writer).
func (e *encoder) appendGroup(b []byte, g *Group) ([]byte, error) {
	id := g.Item.ID
	if err := checkID(id); err != nil {
		return b, err
	}
	start := len(b)
	fail := func(err error) ([]byte, error) {
		return b[:start], fmt.Errorf("sampling: group %q: %w", id, err)
	}
	var err error
	b = append(b, `{"id":`...)
	b, _ = e.value(b, id)
	b = append(b, `,"item":`...)
	if b, err = e.value(b, &g.Item); err != nil {
		return fail(err)
	}
	b = append(b, `,"prompt":`...)
	if b, err = e.value(b, &g.Prompt); err != nil {
		return fail(err)
	}
	b = append(b, `,"traces":[`...)
	for i := range g.Traces {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = e.appendTrace(b, &g.Traces[i]); err != nil {
			return fail(fmt.Errorf("trace %d: %w", i, err))
		}
	}
	return append(b, "]}\n"...), nil
}

// checkID reports an id the file format cannot hold.
func checkID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("sampling: empty id")
	case !utf8.ValidString(id):
		return fmt.Errorf("sampling: id %q is not valid UTF-8", id)
	}
	return nil
}

func (e *encoder) appendTrace(b []byte, r *TraceRecord) ([]byte, error) {
	if err := r.validate(); err != nil {
		return b, err
	}
	b = append(b, `{"greedy":`...)
	b = strconv.AppendBool(b, r.Greedy)
	b = append(b, `,"seed":`...)
	b = strconv.AppendUint(b, uint64(r.Seed), 10)
	b = append(b, `,"text":`...)
	b, _ = e.value(b, r.Text)
	b = append(b, `,"answer":`...)
	b, err := e.value(b, &r.Answer)
	if err != nil {
		return b, err
	}
	b = append(b, `,"finish":`...)
	b, _ = e.value(b, string(r.Finish))
	if r.Stop != "" {
		b = append(b, `,"stop":`...)
		b, _ = e.value(b, r.Stop)
	}
	b = append(b, `,"logprobs_kind":`...)
	b, _ = e.value(b, string(r.LogProbKind))
	if r.LogProbKind.hasLogProbs() {
		b = append(b, `,"logprobs":[`...)
		if b, err = appendFloats(b, r.LogProbs, "logprob", true); err != nil {
			return b, err
		}
		b = append(b, ']')
	}
	if r.LogProbKind.hasEntropies() {
		b = append(b, `,"entropies":[`...)
		if b, err = appendFloats(b, r.Entropies, "entropy", false); err != nil {
			return b, err
		}
		b = append(b, ']')
	}
	if r.TokenIDs != nil {
		b = append(b, `,"token_ids":[`...)
		for i, id := range r.TokenIDs {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(id), 10)
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// appendFloats appends xs rounded to float32, each in the shortest form
// that reads back as the same float32, comma-separated. With negInfNull, −Inf
// (also a finite value below float32's range) is written null; otherwise,
// and for NaN and +Inf always, a non-finite value is an error naming what.
func appendFloats(b []byte, xs []float64, what string, negInfNull bool) ([]byte, error) {
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		f := float64(float32(x))
		switch {
		case negInfNull && math.IsInf(f, -1):
			b = append(b, "null"...)
		case math.IsNaN(f) || math.IsInf(f, 0):
			return b, fmt.Errorf("token %d: %s %g cannot be stored", i, what, x)
		default:
			b = strconv.AppendFloat(b, f, 'g', -1, 32)
		}
	}
	return b, nil
}

// Writer writes a trace file: the header, then one line per group. Each
// line reaches the underlying io.Writer in a single Write call, so a crash
// leaves at most one torn line, at the end; a Writer neither buffers nor
// syncs (the runner syncs after each group).
//
// Numbers: log-probabilities and entropies are stored as float32, each in
// the shortest decimal form that reads back as the same float32
// (strconv.AppendFloat(b, x, 'g', -1, 32)), which halves a file's size
// against float64 and loses nothing a float32 cannot hold (7 significant
// digits; log-probabilities from llama.cpp are float32 to begin with). A
// log-probability of −Inf (a token the backend gave probability zero) is
// written null, as JSON has no infinities; NaN, +Inf and non-finite
// entropies are errors. Texts are JSON strings: bytes that are not UTF-8
// (a trace cut in the middle of a character) become U+FFFD, as with
// encoding/json; TokenIDs keep the exact tokens.
//
// A Writer is not safe for concurrent use.
type Writer struct {
	w    io.Writer
	enc  *encoder
	buf  []byte
	seen map[string]struct{}
}

// NewWriter writes h's line to w and returns a Writer for the groups. h is
// written as given: a caller that wants Params' defaults recorded applies
// Params.WithDefaults first.
func NewWriter(w io.Writer, h *Header) (*Writer, error) {
	fw := &Writer{w: w, enc: newEncoder(), seen: make(map[string]struct{})}
	var err error
	if fw.buf, err = fw.enc.appendHeader(fw.buf[:0], h); err != nil {
		return nil, err
	}
	if _, err := w.Write(fw.buf); err != nil {
		return nil, fmt.Errorf("sampling: write header: %w", err)
	}
	return fw, nil
}

// Write writes g's line. It is an error, and nothing is written, if g's id
// was written before (ErrDuplicateID) or g cannot be encoded.
func (w *Writer) Write(g *Group) error {
	if _, dup := w.seen[g.Item.ID]; dup {
		return fmt.Errorf("sampling: group %q: %w", g.Item.ID, ErrDuplicateID)
	}
	var err error
	if w.buf, err = w.enc.appendGroup(w.buf[:0], g); err != nil {
		return err
	}
	if _, err := w.w.Write(w.buf); err != nil {
		return fmt.Errorf("sampling: write group %q: %w", g.Item.ID, err)
	}
	w.seen[g.Item.ID] = struct{}{}
	return nil
}
