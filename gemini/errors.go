package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genai"
)

// ErrNoAPIKey is returned by New when the API key's environment variable
// is unset or empty.
var ErrNoAPIKey = errors.New("gemini: no API key")

// ErrNoLogprobs is wrapped by the errors of a model that rejects
// responseLogprobs, or a response without the log-probabilities it was
// asked for, when Config.RequireLogprobs is set.
var ErrNoLogprobs = errors.New("no log-probabilities")

// ErrMalformed is wrapped by the errors of responses that are not what the
// API specifies.
var ErrMalformed = errors.New("malformed response")

// ErrBlocked is wrapped by the error of a prompt that the API refused
// (promptFeedback.blockReason) without generating anything.
var ErrBlocked = errors.New("prompt blocked")

// errMultipleCandidates marks a model's refusal of candidateCount > 1; the
// Backend falls back to one candidate per request, so it never reaches a
// caller.
var errMultipleCandidates = errors.New("multiple candidates not supported")

// Error is a request that failed: an error status from the API, or no
// usable response, after all retries.
type Error struct {
	// Model is the model the request was for.
	Model string
	// StatusCode is the HTTP status of the last attempt (the error's code
	// as the API reports it); 0 if it got no response.
	StatusCode int
	// Status is the API's status name, e.g. "RESOURCE_EXHAUSTED", if any.
	Status string
	// Message is the API's error message (at most 512 bytes), if any.
	Message string
	// Attempts is how many times the request was sent.
	Attempts int
	// Err is the cause: ErrNoLogprobs for a model that rejects
	// log-probabilities, ErrMalformed for a response that could not be
	// read, a connection error, a timeout or the context's error; nil for
	// any other error status.
	Err error
}

// Error reads "gemini: MODEL: status CODE NAME: MESSAGE: CAUSE (N attempts)",
// leaving out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gemini: %s: ", e.Model)
	switch {
	case e.StatusCode != 0:
		fmt.Fprintf(&b, "status %d", e.StatusCode)
		if e.Status != "" {
			fmt.Fprintf(&b, " %s", e.Status)
		}
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

// redactedError is an error whose message has had the key removed; it
// keeps the original for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// outcome is what one attempt's error means.
type outcome struct {
	status  int    // the API's error code; 0 without an API error
	name    string // the API's status name
	message string // the API's message, cut
	cause   error  // Error.Err
	retry   bool
	wait    time.Duration // the API's retryDelay, 0 if none
}

// classify reads the error of one attempt (not nil). timedOut reports that
// the attempt's own Timeout ended it.
func classify(err error, timedOut bool, timeout time.Duration) outcome {
	var api genai.APIError
	if errors.As(err, &api) {
		o := outcome{status: api.Code, name: api.Status, message: cutMessage(api.Message), wait: retryDelay(api.Details)}
		if strings.HasPrefix(o.name, strconv.Itoa(api.Code)+" ") {
			// A body that was not the API's JSON: the SDK puts the HTTP
			// status line here ("500 Internal Server Error").
			o.name = ""
		}
		o.retry = retryableStatus(api.Code, api.Status)
		if api.Code == http.StatusBadRequest || api.Status == "INVALID_ARGUMENT" {
			switch m := strings.ToLower(api.Message); {
			case strings.Contains(m, "logprobs") && (strings.Contains(m, "not enabled") || strings.Contains(m, "not supported")):
				o.cause = ErrNoLogprobs
			case strings.Contains(m, "multiple candidates") && strings.Contains(m, "not enabled"),
				strings.Contains(m, "only one candidate"),
				strings.Contains(m, "candidatecount must be 1"):
				o.cause = errMultipleCandidates
			}
		}
		return o
	}
	if timedOut {
		return outcome{cause: fmt.Errorf("no response within the Timeout of %v: %w", timeout, context.DeadlineExceeded), retry: true}
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return outcome{cause: fmt.Errorf("%w: %v", ErrMalformed, syntax)}
	case errors.As(err, &typ):
		// The SDK's message quotes the whole body; the decoder's says
		// what was wrong.
		return outcome{cause: fmt.Errorf("%w: %v", ErrMalformed, typ)}
	case errors.Is(err, ErrMalformed):
		return outcome{cause: err}
	}
	var ue *url.Error
	var ne net.Error
	if errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		// The request could not be sent or its response not read.
		return outcome{cause: err, retry: true}
	}
	return outcome{cause: err}
}

// retryableStatus reports whether an error status is worth retrying: 408,
// 429 and 5xx, as the SDK's own (opt-in) retry does, or their status names
// when the body had no code.
func retryableStatus(code int, name string) bool {
	if code != 0 {
		return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
	}
	switch name {
	case "RESOURCE_EXHAUSTED", "UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED":
		return true
	}
	return false
}

// retryDelay reads the wait an API error asks for: the retryDelay of a
// google.rpc.RetryInfo among its details (a protobuf Duration in JSON,
// e.g. "37s"); 0 if none.
func retryDelay(details []map[string]any) time.Duration {
	for _, d := range details {
		if t, _ := d["@type"].(string); t != "type.googleapis.com/google.rpc.RetryInfo" {
			continue
		}
		s, _ := d["retryDelay"].(string)
		if v, err := time.ParseDuration(s); err == nil && v > 0 && v < 24*time.Hour {
			return v
		}
	}
	return 0
}

// wait returns the wait before retry number attempt (1 for the first):
// Backoff·2^(attempt−1), capped at MaxBackoff, drawn from its upper half.
func (s *settings) wait(attempt int) time.Duration {
	d := s.backoff
	for i := 1; i < attempt && d < s.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.maxBackoff)
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// cutMessage returns msg as valid UTF-8, trimmed and cut to 512 bytes.
func cutMessage(msg string) string {
	msg = strings.ToValidUTF8(strings.TrimSpace(msg), "\uFFFD")
	if len(msg) <= 512 {
		return msg
	}
	cut := 512
	for cut > 0 && msg[cut]&0xC0 == 0x80 {
		cut--
	}
	return msg[:cut] + "…"
}
