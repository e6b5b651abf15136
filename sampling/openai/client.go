package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/labelfree/labelfree/sampling"
)

// ErrNoAPIKey is returned by New when Config.RequireAPIKey is set and the
// key's environment variable is unset or empty.
var ErrNoAPIKey = errors.New("openai: no API key")

// ErrMalformed is wrapped by the errors of responses that are not the JSON
// the API specifies.
var ErrMalformed = errors.New("malformed response")

// Error is a request that failed: an error status from the server, or no
// usable response, after all retries.
type Error struct {
	// Endpoint is the URL the request was posted to (without credentials).
	Endpoint string
	// StatusCode is the HTTP status of the last attempt; 0 if it got no
	// response.
	StatusCode int
	// Message is the server's error message (at most 512 bytes), if any.
	Message string
	// Attempts is how many times the request was sent.
	Attempts int
	// Err is the cause when there was no status to report (a connection
	// error, a timeout, a malformed body), else nil.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "openai: POST %s: ", e.Endpoint)
	switch {
	case e.StatusCode != 0:
		fmt.Fprintf(&b, "status %d %s", e.StatusCode, http.StatusText(e.StatusCode))
		if e.Message != "" {
			fmt.Fprintf(&b, ": %s", e.Message)
		}
		if e.Err != nil {
			fmt.Fprintf(&b, ": %v", e.Err)
		}
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		b.WriteString("failed")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (%d attempts)", e.Attempts)
	}
	return b.String()
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// Client draws traces from an OpenAI-compatible server. It implements
// sampling.Generator. A Client is safe for concurrent use by multiple
// goroutines; Config.MaxConcurrency bounds its requests in flight across
// all of them.
type Client struct {
	s    settings
	key  string // never logged, never in an error
	http *http.Client
	sem  chan struct{}
}

var _ sampling.Generator = (*Client)(nil)

// New returns a Client configured by c (nil means defaults), reading the
// API key from the environment.
func New(c *Config) (*Client, error) {
	s, err := newSettings(c)
	if err != nil {
		return nil, err
	}
	key := strings.TrimSpace(os.Getenv(s.keyEnv))
	if key == "" && c != nil && c.RequireAPIKey {
		return nil, fmt.Errorf("%w: set the environment variable %s", ErrNoAPIKey, s.keyEnv)
	}
	hc := (*http.Client)(nil)
	if c != nil {
		hc = c.HTTPClient
	}
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = max(s.concurrency, 2)
		hc = &http.Client{Transport: t}
	}
	return &Client{s: s, key: key, http: hc, sem: make(chan struct{}, s.concurrency)}, nil
}

// CloseIdleConnections closes the connections to the server that the
// Client keeps open between requests, as http.Client.CloseIdleConnections
// does. A server with a fixed pool of connection threads (llama-server)
// can spend them on idle connections: call it when done with a Client
// that is not the last.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// redact replaces the API key in s.
func (c *Client) redact(s string) string {
	if c.key == "" {
		return s
	}
	return strings.ReplaceAll(s, c.key, "[redacted]")
}

// redactedError is an error whose message has had the key removed; it
// keeps the original for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// post sends body to path with retries and decodes the JSON reply into
// out. It returns how many times it sent the request.
func (c *Client) post(ctx context.Context, path string, body []byte, out any) (attempts int, err error) {
	endpoint := c.redact(redactURL(c.s.base + path))
	fail := func(n, status int, msg string, err error) error {
		if err != nil && c.key != "" && strings.Contains(err.Error(), c.key) {
			err = &redactedError{msg: c.redact(err.Error()), err: err}
		}
		return &Error{Endpoint: endpoint, StatusCode: status, Message: c.redact(msg), Attempts: n, Err: err}
	}
	for attempt := 1; ; attempt++ {
		res, err := c.attempt(ctx, path, body)
		if ctx.Err() != nil {
			// The caller gave up: no retry, and the context's error is
			// what errors.Is finds.
			return attempt, fail(attempt, 0, "", ctx.Err())
		}
		if err == nil && res.status/100 == 2 {
			if err := json.Unmarshal(res.body, out); err != nil {
				return attempt, fail(attempt, res.status, "", fmt.Errorf("%w: %v", ErrMalformed, err))
			}
			return attempt, nil
		}
		retry := err != nil || retryable(res.status)
		if !retry || attempt > c.s.maxRetries {
			if err != nil {
				return attempt, fail(attempt, 0, "", err)
			}
			return attempt, fail(attempt, res.status, errorMessage(res.body), nil)
		}
		wait := c.backoff(attempt)
		if err == nil && res.retryAfter > wait {
			wait = res.retryAfter
		}
		if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
			if err != nil {
				return attempt, fail(attempt, 0, "", err)
			}
			return attempt, fail(attempt, res.status, errorMessage(res.body), fmt.Errorf("the retry wait of %v outlasts the context's deadline", wait))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return attempt, fail(attempt, 0, "", ctx.Err())
		case <-t.C:
		}
	}
}

// reply is one attempt's response.
type reply struct {
	status     int
	body       []byte
	retryAfter time.Duration
}

// attempt sends one request, holding a slot of the semaphore. Its error is
// one without a usable status: the request could not be sent, or the body
// could not be read.
func (c *Client) attempt(ctx context.Context, path string, body []byte) (reply, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return reply{}, ctx.Err()
	}
	defer func() { <-c.sem }()
	if c.s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.s.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.s.base+path, bytes.NewReader(body))
	if err != nil {
		return reply{}, err
	}
	// A request may be sent twice (its seed makes it so): this lets the
	// transport resend it at once when a kept-alive connection turns out
	// to have been closed by the server. A nil value sends no header.
	req.Header["Idempotency-Key"] = nil
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	res, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return reply{}, fmt.Errorf("no response within the Timeout of %v: %w", c.s.timeout, err)
		}
		return reply{}, err
	}
	defer res.Body.Close()
	r := reply{status: res.StatusCode, retryAfter: retryAfter(res.Header)}
	if r.status/100 == 2 {
		r.body, err = io.ReadAll(res.Body)
	} else {
		// An error's body only matters for its message.
		r.body, err = io.ReadAll(io.LimitReader(res.Body, 64<<10))
	}
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
			return reply{}, fmt.Errorf("reading the response: no complete response within the Timeout of %v: %w", c.s.timeout, err)
		}
		return reply{}, fmt.Errorf("reading the response: %w", err)
	}
	return r, nil
}

// retryable reports whether a response with status is worth retrying (as
// OpenAI's own clients do).
func retryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusConflict ||
		status == http.StatusTooManyRequests || status >= 500
}

// backoff returns the wait before retry number attempt (1 for the first):
// Backoff·2^(attempt−1), capped at MaxBackoff, drawn from its upper half.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.s.backoff
	for i := 1; i < attempt && d < c.s.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.s.maxBackoff)
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// retryAfter reads the wait a response asks for: retry-after-ms
// (OpenAI's), else Retry-After in seconds or as an HTTP date; 0 if none.
func retryAfter(h http.Header) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms < 1e9 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s > 0 && s < 1e6 {
			return time.Duration(s * float64(time.Second))
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t))
	}
	return 0
}

// errorMessage extracts the message of an error body: OpenAI's
// {"error": {"message": …}}, {"error": "…"}, {"message": "…"} or the text
// itself, cut to 512 bytes.
func errorMessage(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	msg := ""
	if json.Unmarshal(body, &v) == nil {
		var inner struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(v.Error, &inner) == nil && inner.Message != "":
			msg = inner.Message
		case json.Unmarshal(v.Error, &s) == nil && s != "":
			msg = s
		default:
			msg = v.Message
		}
	}
	if msg == "" {
		msg = strings.TrimSpace(string(body))
	}
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	if len(msg) > 512 {
		cut := 512
		for cut > 0 && !utf8RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
