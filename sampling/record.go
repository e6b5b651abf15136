package sampling

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// FileVersion is the version of the trace file format that this package
// writes and reads.
const FileVersion = 1

// Header is the first line of a trace file: what produced its groups. It
// holds no wall-clock time, so a resumed run writes the same bytes as an
// uninterrupted one.
type Header struct {
	// Model is the model's name or path as the user gave it.
	Model string
	// ModelSHA256 is the hex SHA-256 of the model file, "" if unknown.
	ModelSHA256 string
	// Backend names the Generator's implementation, e.g. "llama" or
	// "openai".
	Backend string
	// Task names the Task, e.g. "perturbqa/k562".
	Task string
	// Params are the sampling settings with defaults applied. Params.Seed is
	// the run's base seed; each group draws with GroupSeed(Params.Seed, id).
	Params Params
	// Shard is the part of the input the file covers; zero for all of it.
	Shard Shard
}

// diff lists where h and run differ, as `field: "a" in hName, "b" in
// runName`. Shards are compared only if withShard.
func (h *Header) diff(run *Header, withShard bool, hName, runName string) []string {
	var d []string
	add := func(field string, a, b any) {
		d = append(d, fmt.Sprintf("%s: %q in %s, %q in %s", field, fmt.Sprint(a), hName, fmt.Sprint(b), runName))
	}
	if h.Model != run.Model {
		add("model", h.Model, run.Model)
	}
	if h.ModelSHA256 != run.ModelSHA256 {
		add("model sha256", h.ModelSHA256, run.ModelSHA256)
	}
	if h.Backend != run.Backend {
		add("backend", h.Backend, run.Backend)
	}
	if h.Task != run.Task {
		add("task", h.Task, run.Task)
	}
	a, b := &h.Params, &run.Params
	for _, f := range []struct {
		name string
		a, b any
	}{
		{"samples", a.Samples, b.Samples},
		{"no_greedy", a.NoGreedy, b.NoGreedy},
		{"max_tokens", a.MaxTokens, b.MaxTokens},
		{"temperature", a.Temperature, b.Temperature},
		{"top_k", a.TopK, b.TopK},
		{"top_p", a.TopP, b.TopP},
		{"min_p", a.MinP, b.MinP},
		{"seed", a.Seed, b.Seed},
	} {
		if f.a != f.b {
			add(f.name, f.a, f.b)
		}
	}
	if !slices.Equal(a.Stop, b.Stop) {
		add("stop", a.Stop, b.Stop)
	}
	if withShard && h.Shard != run.Shard {
		add("shard", h.Shard, run.Shard)
	}
	return d
}

// Group is one line of a trace file after the header: an item, the prompt
// it was given as, and its traces (the greedy one first unless the run's
// Params.NoGreedy).
type Group struct {
	Item   Item
	Prompt Prompt
	Traces []TraceRecord
}

// LogProbKind says what the per-token numbers of a trace are, as backends
// differ in what they return.
//
//   - LogProbsFull: log-probabilities of the generated tokens and entropies
//     of the full raw distribution (the llama backend; see the package
//     comment).
//   - LogProbsTop(n), written "top-n": log-probabilities of the generated
//     tokens as an API returned them along with its n most likely
//     alternatives; entropies, when n > 0, are over those n alternatives
//     only (an API that gives the top n says nothing of the rest), and are
//     absent when n = 0.
//   - LogProbsNone: the backend returned no log-probabilities; the trace has
//     text only and can be rescored by a Scorer (see Rescore).
type LogProbKind string

// Kinds of per-token numbers.
const (
	LogProbsFull LogProbKind = "full"
	LogProbsNone LogProbKind = "none"
)

// LogProbsTop returns the kind "top-n". It panics if n < 0.
func LogProbsTop(n int) LogProbKind {
	if n < 0 {
		panic("sampling: LogProbsTop of a negative n")
	}
	return LogProbKind("top-" + strconv.Itoa(n))
}

// TopN returns n and true for a kind "top-n", 0 and false otherwise.
func (k LogProbKind) TopN() (n int, ok bool) {
	s, ok := strings.CutPrefix(string(k), "top-")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || strconv.Itoa(n) != s {
		return 0, false
	}
	return n, true
}

func (k LogProbKind) validate() error {
	if _, ok := k.TopN(); ok || k == LogProbsFull || k == LogProbsNone {
		return nil
	}
	return fmt.Errorf("unknown logprobs_kind %q", string(k))
}

// hasLogProbs reports whether a trace of kind k has log-probabilities.
func (k LogProbKind) hasLogProbs() bool { return k != LogProbsNone }

// hasEntropies reports whether a trace of kind k has entropies.
func (k LogProbKind) hasEntropies() bool {
	n, ok := k.TopN()
	return k == LogProbsFull || ok && n > 0
}

// TraceRecord is a trace as a trace file stores it. The per-token arrays
// are parallel: LogProbs[t], Entropies[t] and TokenIDs[t] belong to the
// trace's token t, end-of-generation token included. A file stores each
// number as a float32 (see the Writer), so values read back are float32
// values.
type TraceRecord struct {
	Greedy bool
	Seed   uint32 // the draw's seed; 0 for the greedy trace
	Text   string // the trace's text; a file stores it as UTF-8 (see the Writer)
	Answer Answer // the Task's reading of Text
	Finish FinishReason
	Stop   string // the stop string that ended the trace, if any
	// LogProbKind says what LogProbs and Entropies are.
	LogProbKind LogProbKind
	// LogProbs are the tokens' natural-log probabilities; nil when
	// LogProbKind is LogProbsNone. A token the backend gave probability zero
	// has −Inf.
	LogProbs []float64
	// Entropies are the per-token entropies in nats; nil when LogProbKind
	// has none.
	Entropies []float64
	// TokenIDs are the model's token ids; nil when not recorded.
	TokenIDs []int32
}

// NewTraceRecord returns the record of t with its answer a, whose per-token
// numbers are of kind ("" means LogProbsFull): the arrays kind has are
// copied from t.Tokens, the others left nil. TokenIDs are always copied
// when t has tokens; a caller that does not want them sets them to nil.
func NewTraceRecord(t *Trace, a Answer, kind LogProbKind) TraceRecord {
	if kind == "" {
		kind = LogProbsFull
	}
	r := TraceRecord{
		Greedy:      t.Greedy,
		Seed:        t.Seed,
		Text:        t.Text,
		Answer:      a,
		Finish:      t.Finish,
		Stop:        t.Stop,
		LogProbKind: kind,
	}
	n := len(t.Tokens)
	if n == 0 {
		return r
	}
	r.TokenIDs = make([]int32, n)
	if kind.hasLogProbs() {
		r.LogProbs = make([]float64, n)
	}
	if kind.hasEntropies() {
		r.Entropies = make([]float64, n)
	}
	for i, tok := range t.Tokens {
		r.TokenIDs[i] = tok.ID
		if r.LogProbs != nil {
			r.LogProbs[i] = tok.LogProb
		}
		if r.Entropies != nil {
			r.Entropies[i] = tok.Entropy
		}
	}
	return r
}

// errArrays is wrapped by the errors of validate.
var errArrays = errors.New("per-token arrays do not fit the logprobs_kind")

// validate reports a record the file format cannot hold or that contradicts
// itself. It does not look at the numbers (the encoder does).
func (r *TraceRecord) validate() error {
	if err := r.LogProbKind.validate(); err != nil {
		return err
	}
	switch r.Finish {
	case FinishEOG, FinishStop, FinishLength, FinishContext, FinishFiltered, FinishOther:
	default:
		return fmt.Errorf("unknown finish reason %q", string(r.Finish))
	}
	if r.Greedy && r.Seed != 0 {
		return fmt.Errorf("greedy trace with seed %d", r.Seed)
	}
	n := -1 // the token count, -1 while unknown
	switch {
	case r.LogProbKind.hasLogProbs():
		n = len(r.LogProbs)
	case r.LogProbs != nil:
		return fmt.Errorf("%w: logprobs with kind %s", errArrays, r.LogProbKind)
	}
	switch {
	case r.LogProbKind.hasEntropies():
		if len(r.Entropies) != n {
			return fmt.Errorf("%w: %d entropies for %d logprobs", errArrays, len(r.Entropies), n)
		}
	case r.Entropies != nil:
		return fmt.Errorf("%w: entropies with kind %s", errArrays, r.LogProbKind)
	}
	if r.TokenIDs != nil && n >= 0 && len(r.TokenIDs) != n {
		return fmt.Errorf("%w: %d token ids for %d logprobs", errArrays, len(r.TokenIDs), n)
	}
	return nil
}
