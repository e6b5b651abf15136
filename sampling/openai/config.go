package openai

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Endpoint selects the API a prompt is sent to.
type Endpoint string

// Endpoints.
const (
	// EndpointAuto sends chat prompts to /chat/completions and raw prompts
	// to /completions.
	EndpointAuto Endpoint = ""
	// EndpointChat sends every prompt to /chat/completions; a raw prompt is
	// an error.
	EndpointChat Endpoint = "chat"
	// EndpointCompletions sends every prompt to /completions; a chat prompt
	// is an error (the server's chat template cannot be applied there).
	EndpointCompletions Endpoint = "completions"
)

// Config configures a Client. A nil *Config means the zero value; each
// field documents its zero value.
type Config struct {
	// BaseURL is the API's root, to which /chat/completions and
	// /completions are appended; "" means "http://127.0.0.1:8080/v1"
	// (llama-server's default address).
	BaseURL string
	// Model is sent as the request's model; "" sends none, which servers
	// of one model (llama-server) accept.
	Model string
	// Endpoint selects the API; the zero value is EndpointAuto.
	Endpoint Endpoint
	// APIKeyEnv names the environment variable that holds the API key; ""
	// means "OPENAI_API_KEY". The key is read once, by New.
	APIKeyEnv string
	// RequireAPIKey makes New fail with ErrNoAPIKey when that variable is
	// unset or empty. false sends the key when it is set and no
	// Authorization header otherwise (a local server needs none).
	RequireAPIKey bool
	// HTTPClient sends the requests; nil means a client of its own whose
	// transport keeps MaxConcurrency connections to the server open. Its
	// Timeout, if any, applies besides Timeout.
	HTTPClient *http.Client
	// Timeout bounds each attempt of a request, the whole generation of
	// its traces included; 0 means 10 minutes, negative means no bound
	// (the context's deadline still applies).
	Timeout time.Duration
	// MaxRetries is how many times a request is retried after a response
	// with status 408, 409, 429 or 5xx, a connection error or a timed-out
	// attempt; 0 means 4, negative means none.
	MaxRetries int
	// Backoff is the wait before the first retry, doubled for each further
	// one up to MaxBackoff, each wait drawn uniformly from its upper half
	// (jitter); 0 means 500ms. A Retry-After (or retry-after-ms) header
	// that asks for longer is honoured.
	Backoff time.Duration
	// MaxBackoff caps the exponential backoff (not Retry-After); 0 means
	// 30s.
	MaxBackoff time.Duration
	// MaxConcurrency bounds the requests in flight across all goroutines
	// that use the Client (waits between retries do not count); 0 means 4.
	// Set it to the server's parallel slots (llama-server -np).
	MaxConcurrency int
	// N is the most traces asked for in one request (OpenAI's n); 0 means
	// 1: one request per sampled trace, trace k drawing with seed
	// uint32(Params.Seed)+k, which any server that honours seed
	// reproduces. With N > 1 the sampled traces go in batches of up to N,
	// each request carrying the seed of its first trace: llama-server
	// draws choice j of a request with seed+j (tools/server/server-task.h,
	// add_child), which is exactly trace k's seed, and needs N ≤ its
	// parallel slots; other servers seed a request's choices their own way,
	// so the traces are reproducible with the same N but Trace.Seed then
	// only names the trace.
	N int
	// TopLogprobs is how many most likely alternatives are asked for with
	// each token's log-probability; 0 means 5, negative asks for no
	// log-probabilities at all (traces of kind "none"). llama-server
	// returns no log-probabilities when asked for none.
	TopLogprobs int
	// Standard restricts requests to the fields of OpenAI's API reference,
	// for endpoints that reject others: top_k and min_p are not sent (the
	// server's own defaults apply) and a NoThinking prompt is an error.
	// false (the default) also sends top_k, min_p and, for NoThinking,
	// chat_template_kwargs {"enable_thinking": false}, which llama-server,
	// vLLM and SGLang accept.
	Standard bool
	// ServerStop sends stop strings to the server, which ends a trace there
	// instead of generating on to its end-of-generation token or
	// MaxTokens. Servers drop the stop string from the text (and
	// llama-server the tokens that made it), so the trace is cut short of
	// it: Text lacks it, Finish is FinishStop and Stop names it only when
	// the server says which (vLLM's stop_reason, SGLang's matched_stop).
	// false (the default) applies stop strings here, exactly as the llama
	// package does, at the cost of generating past them.
	ServerStop bool
	// ExtraBody holds fields added to every request body, e.g.
	// {"reasoning_format": "none"} for llama-server or {"logit_bias": …};
	// they replace fields of the same name that this package sets.
	ExtraBody map[string]any
}

// settings is a Config with defaults applied, validated.
type settings struct {
	base        string // BaseURL without trailing slashes
	model       string
	endpoint    Endpoint
	keyEnv      string
	timeout     time.Duration // ≤ 0: none
	maxRetries  int
	backoff     time.Duration
	maxBackoff  time.Duration
	concurrency int
	n           int
	top         int // < 0: no logprobs
	standard    bool
	serverStop  bool
	extra       map[string]any
}

func newSettings(c *Config) (settings, error) {
	var z Config
	if c == nil {
		c = &z
	}
	s := settings{
		base:        strings.TrimRight(c.BaseURL, "/"),
		model:       c.Model,
		endpoint:    c.Endpoint,
		keyEnv:      c.APIKeyEnv,
		timeout:     c.Timeout,
		maxRetries:  c.MaxRetries,
		backoff:     c.Backoff,
		maxBackoff:  c.MaxBackoff,
		concurrency: c.MaxConcurrency,
		n:           c.N,
		top:         c.TopLogprobs,
		standard:    c.Standard,
		serverStop:  c.ServerStop,
		extra:       c.ExtraBody,
	}
	if s.base == "" {
		s.base = "http://127.0.0.1:8080/v1"
	}
	if s.keyEnv == "" {
		s.keyEnv = "OPENAI_API_KEY"
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
		s.backoff = 500 * time.Millisecond
	}
	if s.maxBackoff == 0 {
		s.maxBackoff = 30 * time.Second
	}
	if s.concurrency == 0 {
		s.concurrency = 4
	}
	if s.n == 0 {
		s.n = 1
	}
	if s.top == 0 {
		s.top = 5
	}
	switch {
	case s.endpoint != EndpointAuto && s.endpoint != EndpointChat && s.endpoint != EndpointCompletions:
		return s, fmt.Errorf("openai: unknown Endpoint %q", string(s.endpoint))
	case s.backoff < 0 || s.maxBackoff < 0:
		return s, fmt.Errorf("openai: negative Backoff or MaxBackoff")
	case s.concurrency < 0:
		return s, fmt.Errorf("openai: MaxConcurrency %d < 0", s.concurrency)
	case s.n < 0:
		return s, fmt.Errorf("openai: N %d < 0", s.n)
	}
	u, err := url.Parse(s.base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return s, fmt.Errorf("openai: BaseURL %q is not an http(s) URL", redactURL(s.base))
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
