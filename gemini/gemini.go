package gemini

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/genai"

	"github.com/labelfree/labelfree/sampling"
)

// Backend draws traces from a Gemini model through the Gemini API. It
// implements sampling.Generator. A Backend is safe for concurrent use by
// multiple goroutines; Config.MaxConcurrency bounds its requests in flight
// across all of them.
type Backend struct {
	s      settings
	key    string // never logged, never in an error
	client *genai.Client
	sem    chan struct{}
	// noLogprobs holds, once the model has rejected responseLogprobs (and
	// Config.RequireLogprobs is unset), the API's message; requests ask
	// for no log-probabilities from then on.
	noLogprobs atomic.Pointer[string]
	// oneCandidate is set once the model has rejected candidateCount > 1.
	oneCandidate atomic.Bool
}

var _ sampling.Generator = (*Backend)(nil)

// New returns a Backend configured by c (nil means defaults), reading the
// API key from the environment. It sends no request.
func New(ctx context.Context, c *Config) (*Backend, error) {
	s, err := newSettings(c)
	if err != nil {
		return nil, err
	}
	key, env := apiKey(s.keyEnv)
	if key == "" {
		return nil, fmt.Errorf("%w: set the environment variable %s", ErrNoAPIKey, env)
	}
	var hc *http.Client
	if c != nil {
		hc = c.HTTPClient
	}
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = max(s.concurrency, 2)
		hc = &http.Client{Transport: t}
	}
	b := &Backend{s: s, key: key, sem: make(chan struct{}, s.concurrency)}
	b.client, err = genai.NewClient(ctx, &genai.ClientConfig{
		APIKey:      key,
		Backend:     genai.BackendGeminiAPI,
		HTTPClient:  hc,
		HTTPOptions: genai.HTTPOptions{BaseURL: s.base},
		// HTTPOptions.RetryOptions stays nil: one attempt per call, the
		// retries being this package's (see Config.MaxRetries).
	})
	if err != nil {
		// Some of the SDK's messages print its whole ClientConfig.
		return nil, fmt.Errorf("gemini: %w", b.redactErr(err))
	}
	return b, nil
}

// apiKey reads the key from env, or from GEMINI_API_KEY and then
// GOOGLE_API_KEY when env is "". name says where it was looked for.
func apiKey(env string) (key, name string) {
	if env != "" {
		return strings.TrimSpace(os.Getenv(env)), env
	}
	for _, v := range []string{"GEMINI_API_KEY", "GOOGLE_API_KEY"} {
		if key := strings.TrimSpace(os.Getenv(v)); key != "" {
			return key, v
		}
	}
	return "", "GEMINI_API_KEY (or GOOGLE_API_KEY)"
}

// Usage is what the API counted for the request that produced a trace
// (usageMetadata). A request that asked for several candidates counts all
// of them, and each of its traces carries the same Usage.
type Usage struct {
	PromptTokens  int // promptTokenCount
	OutputTokens  int // candidatesTokenCount: the answers, thoughts excluded
	ThoughtTokens int // thoughtsTokenCount: the model's thinking, summarised or not
}

// Trace is a sampled trace with what its per-token numbers are and what
// the API said of it.
type Trace struct {
	sampling.Trace
	// LogProbKind says what the numbers of Tokens are (see the package
	// comment): sampling.LogProbsTop(n), n = Config.Logprobs, when every
	// token has the log-probability the API returned and an entropy over
	// the at most n alternatives it returned with it, −Σ p log p over them
	// (a lower bound of the full entropy; NaN when n = 0 or the API
	// returned no alternatives, which makes the kind "top-0");
	// sampling.LogProbsNone when the trace has no log-probabilities:
	// Tokens is then nil and Note says why.
	LogProbKind sampling.LogProbKind
	// Note says, when not "", why the trace has no log-probabilities.
	Note string
	// FinishReason is the API's finishReason ("STOP", "MAX_TOKENS",
	// "SAFETY", …) and FinishMessage its finishMessage, if any.
	FinishReason, FinishMessage string
	// Usage is the token count of the request that produced the trace.
	Usage Usage
}

// Finish reasons for a trace the API ended for a reason of its own: the
// sampling package's, named here with what they mean for Gemini.
const (
	// FinishFiltered: one of the API's filters ended the trace
	// (finishReason SAFETY, RECITATION, LANGUAGE for an unsupported
	// language, BLOCKLIST, PROHIBITED_CONTENT, SPII or an image filter);
	// its text is what came before, often nothing.
	FinishFiltered = sampling.FinishFiltered
	// FinishOther: any other finishReason (OTHER, a malformed or
	// unexpected tool call, none at all, or one this package does not
	// know).
	FinishOther = sampling.FinishOther
)

// Generate returns the greedy trace (unless p.NoGreedy) and p.Samples
// sampled ones for prompt, as sampling.Generator asks: GenerateTraces with
// each trace's kind in its sampling.Trace.LogProbKind, so that a
// sampling.Run records what the numbers are trace by trace (a model that
// refuses log-probabilities gives "none" traces without Tokens).
func (b *Backend) Generate(ctx context.Context, prompt sampling.Prompt, p *sampling.Params) ([]sampling.Trace, error) {
	ts, err := b.GenerateTraces(ctx, prompt, p)
	if err != nil {
		return nil, err
	}
	out := make([]sampling.Trace, len(ts))
	for i := range ts {
		out[i] = ts[i].Trace
		out[i].LogProbKind = ts[i].LogProbKind
	}
	return out, nil
}

// GenerateTraces returns the greedy trace (unless p.NoGreedy) and p.Samples
// sampled ones for prompt, each labelled with what its numbers are. The
// greedy trace is one candidate drawn at temperature 0; the sampled ones
// use p's Temperature, TopP and TopK (a TopK < 0 sends none, so the
// model's default applies), in requests of up to Config.CandidateCount
// candidates. Each request carries the seed uint32(p.Seed)+k of its first
// trace, k = 0 for the greedy one. MaxTokens is the API's
// maxOutputTokens, which on thinking models counts thought tokens too.
// p.MinP must be 0: the API has no min-p. Requests run concurrently,
// within Config.MaxConcurrency; the first error cancels the others.
//
// Stop strings are sent as stopSequences: the API ends a trace there and
// drops the string from the text, and its finishReason STOP does not say
// whether a stop sequence or the end of the model's turn ended it. With
// p.Stop set, a trace it ended with STOP is therefore FinishStop with an
// empty Stop; without, FinishEOG. MAX_TOKENS is FinishLength; see
// FinishFiltered and FinishOther for the rest.
//
// Tokens are the API's chosenCandidates: Gemini's token ids and strings,
// with no end-of-generation token. Text is built from the response's text
// parts, not from the tokens, whose strings need not add up to it.
func (b *Backend) GenerateTraces(ctx context.Context, prompt sampling.Prompt, p *sampling.Params) ([]Trace, error) {
	var z sampling.Params
	if p == nil {
		p = &z
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("gemini: %w", err)
	}
	if p.MinP != 0 {
		return nil, fmt.Errorf("gemini: MinP %g: the Gemini API has no min-p sampling; leave MinP 0", p.MinP)
	}
	d := p.WithDefaults()
	if d.MaxTokens > math.MaxInt32 {
		return nil, fmt.Errorf("gemini: MaxTokens %d out of range", d.MaxTokens)
	}
	r, err := newRequest(prompt)
	if err != nil {
		return nil, err
	}

	var jobs []job
	pos := 0
	if !d.NoGreedy {
		jobs = append(jobs, job{first: 0, n: 1, k: 0})
		pos = 1
	}
	for k := 1; k <= d.Samples; k += b.s.candidates {
		n := min(b.s.candidates, d.Samples-k+1)
		jobs = append(jobs, job{first: pos, n: n, k: k})
		pos += n
	}
	traces := make([]Trace, pos)
	g, gctx := errgroup.WithContext(ctx)
	for _, j := range jobs {
		g.Go(func() error { return b.run(gctx, r, &d, j, traces) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return traces, nil
}

// run sends j's request and fills in its traces of out, falling back to no
// log-probabilities or one candidate per request where the model rejects
// them and the Config allows it.
func (b *Backend) run(ctx context.Context, r *request, d *sampling.Params, j job, out []Trace) error {
	if j.n > 1 && b.oneCandidate.Load() {
		return b.split(ctx, r, d, j, out)
	}
	for {
		lp := b.s.logprobs >= 0 && b.noLogprobs.Load() == nil
		resp, err := b.call(ctx, r, func() *genai.GenerateContentConfig { return b.config(r, d, j, lp) })
		var e *Error
		switch {
		case err == nil:
			return b.fill(resp, d, j, lp, out)
		case lp && !b.s.requireLogprobs && errors.Is(err, ErrNoLogprobs) && errors.As(err, &e):
			msg := e.Message
			b.noLogprobs.CompareAndSwap(nil, &msg)
		case j.n > 1 && errors.Is(err, errMultipleCandidates):
			b.oneCandidate.Store(true)
			return b.split(ctx, r, d, j, out)
		default:
			return err
		}
	}
}

// split runs j as one request per trace.
func (b *Backend) split(ctx context.Context, r *request, d *sampling.Params, j job, out []Trace) error {
	for i := range j.n {
		if err := b.run(ctx, r, d, job{first: j.first + i, n: 1, k: j.k + i}, out); err != nil {
			return err
		}
	}
	return nil
}

// call sends a request with retries. config is called for each attempt,
// as the SDK fills in defaults in what it is given.
func (b *Backend) call(ctx context.Context, r *request, config func() *genai.GenerateContentConfig) (*genai.GenerateContentResponse, error) {
	fail := func(attempts int, o outcome) error {
		return &Error{
			Model: b.s.model, StatusCode: o.status, Status: o.name,
			Message: b.redact(o.message), Attempts: attempts, Err: b.redactErr(o.cause),
		}
	}
	for attempt := 1; ; attempt++ {
		resp, timedOut, err := b.attempt(ctx, r, config())
		if ctx.Err() != nil {
			// The caller gave up: no retry, and the context's error is
			// what errors.Is finds.
			return nil, fail(attempt, outcome{cause: ctx.Err()})
		}
		if err == nil {
			return resp, nil
		}
		o := classify(err, timedOut, b.s.timeout)
		if !o.retry || attempt > b.s.maxRetries {
			return nil, fail(attempt, o)
		}
		wait := max(b.s.wait(attempt), o.wait)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			if o.cause == nil {
				o.cause = fmt.Errorf("the retry wait of %v outlasts the context's deadline", wait)
			}
			return nil, fail(attempt, o)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fail(attempt, outcome{cause: ctx.Err()})
		case <-t.C:
		}
	}
}

// attempt sends one request, holding a slot of the semaphore. timedOut
// reports that Config.Timeout ended it.
func (b *Backend) attempt(ctx context.Context, r *request, config *genai.GenerateContentConfig) (resp *genai.GenerateContentResponse, timedOut bool, err error) {
	select {
	case b.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	defer func() { <-b.sem }()
	actx := ctx
	if b.s.timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, b.s.timeout)
		defer cancel()
	}
	defer func() {
		// google.golang.org/genai v1.77.0 panics on some bodies that are
		// JSON but not the API's (e.g. "candidates": "x" or [null]) in its
		// response converter, on this goroutine.
		if v := recover(); v != nil {
			resp, err = nil, fmt.Errorf("%w: the SDK could not convert it: %v", ErrMalformed, v)
		}
	}()
	resp, err = b.client.Models.GenerateContent(actx, b.s.model, r.contents(), config)
	if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
		timedOut = true
	}
	return resp, timedOut, err
}

// redact replaces the API key in s.
func (b *Backend) redact(s string) string {
	return strings.ReplaceAll(s, b.key, "[redacted]")
}

// redactErr returns err, or an error of the same chain whose message has
// the key removed if it had it.
func (b *Backend) redactErr(err error) error {
	if err == nil || !strings.Contains(err.Error(), b.key) {
		return err
	}
	return &redactedError{msg: b.redact(err.Error()), err: err}
}
