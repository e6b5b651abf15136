package gemini

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"time"
)

// Config configures a Backend. A nil *Config means the zero value; each
// field documents its zero value.
type Config struct {
	// Model is the model to call, e.g. "gemini-2.5-flash"; "" means
	// "gemini-2.5-pro", the paper's teacher.
	Model string
	// APIKeyEnv names the environment variable that holds the API key. ""
	// means GEMINI_API_KEY, or GOOGLE_API_KEY when GEMINI_API_KEY is unset
	// or empty. The key is read once, by New, and sent in the
	// x-goog-api-key header; it is never logged and never part of an
	// error (a server message that quotes it is redacted).
	APIKeyEnv string
	// BaseURL is the API's root, to which "v1beta/models/{model}:generateContent"
	// is appended; "" means the SDK's default,
	// https://generativelanguage.googleapis.com/ (which the SDK lets the
	// environment variable GOOGLE_GEMINI_BASE_URL override). Tests point it
	// at a local server.
	BaseURL string
	// HTTPClient sends the requests; nil means a client of its own whose
	// transport keeps MaxConcurrency connections open. Its Timeout, if any,
	// applies besides Timeout.
	HTTPClient *http.Client

	// Logprobs is how many most likely alternatives the API is asked for
	// with each chosen token's log-probability (generationConfig.logprobs,
	// at most 20). 0 asks for the chosen tokens' log-probabilities only
	// (responseLogprobs without logprobs); negative asks for none at all,
	// for models that do not return them (traces of kind "none").
	Logprobs int
	// RequireLogprobs makes a model that rejects responseLogprobs, or a
	// response without log-probabilities for a trace with text, an error
	// (wrapping ErrNoLogprobs). false instead sends the request again
	// without asking for log-probabilities, asks for none from then on, and
	// labels those traces sampling.LogProbsNone (see GenerateTraces).
	RequireLogprobs bool
	// CandidateCount is the most sampled traces asked for in one request
	// (generationConfig.candidateCount); 0 means 1: one request per sampled
	// trace, trace k drawing with seed uint32(Params.Seed)+k. With
	// CandidateCount > 1 the sampled traces go in batches, each request
	// carrying the seed of its first trace; the API does not document how it
	// seeds the other candidates of a request, so Trace.Seed then only
	// names the trace. A model that rejects more than one candidate is sent
	// one request per trace from then on.
	CandidateCount int
	// IncludeThoughts asks a thinking model for summaries of its thoughts
	// (thinkingConfig.includeThoughts); a trace's Text is then
	// "<think>\n" + summary + "\n</think>\n\n" + answer. The summaries are
	// what the API returns, not the model's raw chain of thought, and have
	// no log-probabilities. false leaves them out; the model still thinks.
	IncludeThoughts bool
	// ThinkingBudget caps a thinking model's thought tokens
	// (thinkingConfig.thinkingBudget); 0 sends none, so the model's
	// default applies (a dynamic budget for the 2.5 models). A prompt with
	// NoThinking sends a budget of 0, which turns thinking off where the
	// model allows it (Gemini 2.5 Pro does not, and the API says so).
	ThinkingBudget int

	// Timeout bounds each attempt of a request; 0 means 10 minutes,
	// negative means no bound (the context's deadline still applies).
	Timeout time.Duration
	// MaxRetries is how many times a request is retried after a response
	// with status 408, 429 or 5xx, a connection error or a timed-out
	// attempt; 0 means 4, negative means none. The SDK itself retries
	// nothing: New leaves its retry options unset, which in
	// google.golang.org/genai v1.77.0 means a single attempt.
	MaxRetries int
	// Backoff is the wait before the first retry, doubled for each further
	// one up to MaxBackoff, each wait drawn uniformly from its upper half;
	// 0 means 1s. A longer wait that the API asks for (the retryDelay of a
	// google.rpc.RetryInfo in the error's details, as quota errors carry)
	// is honoured.
	Backoff time.Duration
	// MaxBackoff caps the exponential backoff (not the API's retryDelay);
	// 0 means 60s.
	MaxBackoff time.Duration
	// MaxConcurrency bounds the requests in flight across all goroutines
	// that use the Backend (waits between retries do not count); 0 means 4.
	MaxConcurrency int
}

// maxLogprobs is the API's limit on generationConfig.logprobs ("[1-20]",
// GoogleCloudPlatform/generative-ai gemini/logprobs/intro_logprobs.ipynb).
const maxLogprobs = 20

// settings is a Config with defaults applied, validated.
type settings struct {
	model           string
	keyEnv          string // "" means the GEMINI_API_KEY, GOOGLE_API_KEY pair
	base            string
	logprobs        int // < 0: none requested
	requireLogprobs bool
	candidates      int
	thoughts        bool
	budget          int
	timeout         time.Duration // 0: none
	maxRetries      int
	backoff         time.Duration
	maxBackoff      time.Duration
	concurrency     int
}

func newSettings(c *Config) (settings, error) {
	var z Config
	if c == nil {
		c = &z
	}
	s := settings{
		model:           c.Model,
		keyEnv:          c.APIKeyEnv,
		base:            c.BaseURL,
		logprobs:        c.Logprobs,
		requireLogprobs: c.RequireLogprobs,
		candidates:      c.CandidateCount,
		thoughts:        c.IncludeThoughts,
		budget:          c.ThinkingBudget,
		timeout:         c.Timeout,
		maxRetries:      c.MaxRetries,
		backoff:         c.Backoff,
		maxBackoff:      c.MaxBackoff,
		concurrency:     c.MaxConcurrency,
	}
	if s.model == "" {
		s.model = "gemini-2.5-pro"
	}
	switch {
	case s.timeout == 0:
		s.timeout = 10 * time.Minute
	case s.timeout < 0:
		s.timeout = 0
	}
	switch {
	case s.maxRetries == 0:
		s.maxRetries = 4
	case s.maxRetries < 0:
		s.maxRetries = 0
	}
	if s.backoff == 0 {
		s.backoff = time.Second
	}
	if s.maxBackoff == 0 {
		s.maxBackoff = 60 * time.Second
	}
	if s.concurrency == 0 {
		s.concurrency = 4
	}
	if s.candidates == 0 {
		s.candidates = 1
	}
	switch {
	case s.logprobs > maxLogprobs:
		return s, fmt.Errorf("gemini: Logprobs %d > %d, the API's maximum", s.logprobs, maxLogprobs)
	case s.candidates < 0 || s.candidates > math.MaxInt32:
		return s, fmt.Errorf("gemini: CandidateCount %d out of range", c.CandidateCount)
	case s.budget < 0 || s.budget > math.MaxInt32:
		return s, fmt.Errorf("gemini: ThinkingBudget %d out of range", s.budget)
	case s.backoff < 0 || s.maxBackoff < 0:
		return s, fmt.Errorf("gemini: negative Backoff or MaxBackoff")
	case s.concurrency < 0:
		return s, fmt.Errorf("gemini: MaxConcurrency %d < 0", s.concurrency)
	}
	if s.base != "" {
		u, err := url.Parse(s.base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return s, fmt.Errorf("gemini: BaseURL %q is not an http(s) URL", redactURL(s.base))
		}
	}
	return s, nil
}

// redactURL returns raw with any user:password removed.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}
