package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/openai"
)

// testKey is the API key of these tests; no error may contain it.
const testKey = "sk-test-5eCr3t-0123456789abcdef"

// okReply is a valid one-token completions reply.
func okReply(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"choices": []any{
		llamaChoice(0, false, "length", []tok{self(tok{id: 1, bytes: "a", lp: -1})}),
	}})
}

// script is a server that answers the i-th request (from 0) with
// handle(i, w, r), and counts requests.
func script(t *testing.T, handle func(i int, w http.ResponseWriter, r *http.Request)) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// With the body read, the server notices when the client goes
		// away (r.Context() is then done).
		io.Copy(io.Discard, r.Body)
		handle(int(n.Add(1))-1, w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// quick is a config with short waits, the key in OPENAI_API_KEY_TEST.
func quick(url string) *openai.Config {
	return &openai.Config{BaseURL: url, APIKeyEnv: "OPENAI_API_KEY_TEST", RequireAPIKey: true,
		MaxRetries: 2, Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, Timeout: 5 * time.Second}
}

// TestErrors checks the error paths against local handlers: which are
// retried and how often, what the error says (the endpoint, the status,
// the server's message) and that it never contains the API key, even when
// the server quotes it.
func TestErrors(t *testing.T) {
	t.Setenv("OPENAI_API_KEY_TEST", testKey)
	greedyOnly := &sampling.Params{MaxTokens: 4}
	for _, tc := range []struct {
		name     string
		handle   func(i int, w http.ResponseWriter, r *http.Request)
		cfg      func(*openai.Config)
		ok       bool
		requests int      // requests the server saw
		status   int      // Error.StatusCode
		contains []string // in the error's text
		is       error
	}{
		{
			name: "429 then success",
			handle: func(i int, w http.ResponseWriter, r *http.Request) {
				if i < 2 {
					http.Error(w, `{"error":{"message":"slow down"}}`, http.StatusTooManyRequests)
					return
				}
				okReply(w)
			},
			ok: true, requests: 3,
		},
		{
			name: "500 then success",
			handle: func(i int, w http.ResponseWriter, r *http.Request) {
				if i == 0 {
					http.Error(w, "boom", http.StatusInternalServerError)
					return
				}
				okReply(w)
			},
			ok: true, requests: 2,
		},
		{
			name: "429 until out of retries",
			handle: func(i int, w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusTooManyRequests)
				w.Write([]byte(`{"error":{"message":"rate limit reached for key ` + testKey + `"}}`))
			},
			requests: 3, status: 429,
			contains: []string{"/v1/completions", "status 429 Too Many Requests", "rate limit reached for key [redacted]", "(3 attempts)"},
		},
		{
			name: "503 with a plain-text body",
			handle: func(i int, w http.ResponseWriter, r *http.Request) {
				http.Error(w, "model is loading", http.StatusServiceUnavailable)
			},
			requests: 3, status: 503, contains: []string{"status 503 Service Unavailable: model is loading"},
		},
		{
			name: "400 is not retried",
			handle: func(i int, w http.ResponseWriter, r *http.Request) {
				http.Error(w, `{"error":{"message":"n must be at most 4"}}`, http.StatusBadRequest)
			},
			requests: 1, status: 400, contains: []string{"status 400 Bad Request: n must be at most 4"},
		},
		{
			name: "401 quoting the key",
			handle: func(i int, w http.ResponseWriter, r *http.Request) {
				http.Error(w, `{"error":"invalid key `+r.Header.Get("Authorization")+`"}`, http.StatusUnauthorized)
			},
			requests: 1, status: 401, contains: []string{"status 401 Unauthorized: invalid key Bearer [redacted]"},
		},
		{
			name: "malformed JSON is not retried",
			handle: func(i int, w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"choices": [{"index": 0, "text": "a`))
			},
			requests: 1, status: 200, is: openai.ErrMalformed, contains: []string{"malformed response"},
		},
		{
			name: "wrong shape",
			handle: func(i int, w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"choices": []}`))
			},
			requests: 1, status: 200, is: openai.ErrMalformed, contains: []string{"malformed response: 0 choices, want 1"},
		},
		{
			name: "no finish reason",
			handle: func(i int, w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"choices": [{"index": 0, "text": "a"}]}`))
			},
			requests: 1, status: 200, is: openai.ErrMalformed, contains: []string{"choice 0: no finish_reason"},
		},
		{
			name: "timeout",
			handle: func(i int, w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(10 * time.Second):
				}
			},
			cfg:      func(c *openai.Config) { c.Timeout = 50 * time.Millisecond },
			requests: 3, is: context.DeadlineExceeded, contains: []string{"no response within the Timeout of 50ms", "(3 attempts)"},
		},
		{
			name: "a body cut short is retried",
			handle: func(i int, w http.ResponseWriter, r *http.Request) {
				if i == 0 {
					w.Header().Set("Content-Length", "1000")
					w.Write([]byte(`{"choices": [`))
					return // the server closes the connection after 13 of 1000 bytes
				}
				okReply(w)
			},
			ok: true, requests: 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := script(t, tc.handle)
			cfg := quick(srv.URL + "/v1")
			if tc.cfg != nil {
				tc.cfg(cfg)
			}
			_, err := newClient(t, cfg).Generate(t.Context(), sampling.Prompt{Text: "p"}, greedyOnly)
			if got := int(n.Load()); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
			if tc.ok {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, testKey) || strings.Contains(msg, testKey[3:15]) {
				t.Errorf("the error contains the key: %s", msg)
			}
			if !strings.HasPrefix(msg, "openai: POST "+srv.URL+"/v1/completions: ") {
				t.Errorf("error %q does not name the endpoint", msg)
			}
			for _, s := range tc.contains {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not contain %q", msg, s)
				}
			}
			var e *openai.Error
			if !errors.As(err, &e) || e.StatusCode != tc.status {
				t.Errorf("error %#v, want an *openai.Error with status %d", err, tc.status)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
		})
	}
}

// TestRetryAfter checks that a 429's Retry-After (seconds) and
// retry-after-ms are waited for even when longer than the backoff, and
// that a wait beyond the context's deadline fails at once.
func TestRetryAfter(t *testing.T) {
	t.Setenv("OPENAI_API_KEY_TEST", testKey)
	for _, tc := range []struct {
		header, value string
		wait          time.Duration
	}{
		{"Retry-After", "1", time.Second},
		{"Retry-After-Ms", "300", 300 * time.Millisecond},
	} {
		t.Run(tc.header, func(t *testing.T) {
			var (
				mu    sync.Mutex
				first time.Time
			)
			srv, _ := script(t, func(i int, w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				if i == 0 {
					first = time.Now()
					w.Header().Set(tc.header, tc.value)
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				if d := time.Since(first); d < tc.wait {
					t.Errorf("retried after %v, want ≥ %v", d, tc.wait)
				}
				okReply(w)
			})
			if _, err := newClient(t, quick(srv.URL)).Generate(t.Context(), sampling.Prompt{Text: "p"}, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("beyond the deadline", func(t *testing.T) {
		srv, n := script(t, func(i int, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(http.StatusTooManyRequests)
		})
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		start := time.Now()
		_, err := newClient(t, quick(srv.URL)).Generate(ctx, sampling.Prompt{Text: "p"}, nil)
		if err == nil || !strings.Contains(err.Error(), "status 429") || !strings.Contains(err.Error(), "outlasts the context's deadline") {
			t.Errorf("error %v", err)
		}
		if d := time.Since(start); d > 2*time.Second || n.Load() != 1 {
			t.Errorf("gave up after %v and %d requests, want at once after 1", d, n.Load())
		}
	})
}

// TestConnectionRefused checks that a server that is not there is retried,
// then reported with the endpoint and the cause.
func TestConnectionRefused(t *testing.T) {
	t.Setenv("OPENAI_API_KEY_TEST", testKey)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String() + "/v1"
	l.Close() // nothing listens there now
	_, err = newClient(t, quick(url)).Generate(t.Context(), sampling.Chat("", "q"), nil)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "openai: POST "+url+"/chat/completions: ") || !strings.Contains(msg, "(3 attempts)") ||
		!errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(msg, testKey) {
		t.Errorf("error %q, want the endpoint, 3 attempts and ECONNREFUSED", msg)
	}
}

// TestCancel checks that cancelling the context ends Generate at once with
// the context's error, without retries, and cancels the other requests.
func TestCancel(t *testing.T) {
	t.Setenv("OPENAI_API_KEY_TEST", testKey)
	started := make(chan struct{}, 8)
	srv, n := script(t, func(i int, w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-started
		cancel()
	}()
	start := time.Now()
	_, err := newClient(t, quick(srv.URL)).Generate(ctx, sampling.Prompt{Text: "p"}, &sampling.Params{Samples: 3})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("returned after %v", d)
	}
	if got := n.Load(); got > 4 {
		t.Errorf("%d requests, want at most the 4 first attempts", got)
	}
}

// TestAPIKey checks that the key is required when asked, sent as a bearer
// token when set, and not sent when unset (nor any Idempotency-Key, which
// only marks requests as safe to resend).
func TestAPIKey(t *testing.T) {
	t.Setenv("OPENAI_API_KEY_TEST", "")
	_, err := openai.New(quick("http://127.0.0.1:1"))
	if !errors.Is(err, openai.ErrNoAPIKey) || !strings.Contains(err.Error(), "OPENAI_API_KEY_TEST") {
		t.Errorf("New without the key: %v, want ErrNoAPIKey naming the variable", err)
	}

	var (
		mu   sync.Mutex
		auth []string
	)
	srv, _ := script(t, func(i int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		if v, ok := r.Header["Idempotency-Key"]; ok {
			t.Errorf("Idempotency-Key %q sent", v)
		}
		okReply(w)
	})
	for _, key := range []string{testKey, ""} {
		t.Setenv("OPENAI_API_KEY_TEST", key)
		cfg := quick(srv.URL)
		cfg.RequireAPIKey = false
		if _, err := newClient(t, cfg).Generate(t.Context(), sampling.Prompt{Text: "p"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(auth) != 2 || auth[0] != "Bearer "+testKey || auth[1] != "" {
		t.Errorf("Authorization headers %q, want the bearer key, then none", auth)
	}
}

// TestConfigErrors checks that bad configurations are refused by New, and
// that a BaseURL's credentials stay out of the error.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  openai.Config
		want string
	}{
		{openai.Config{BaseURL: "ftp://x"}, `openai: BaseURL "ftp://x" is not an http(s) URL`},
		{openai.Config{BaseURL: "//user:pw@x/v1"}, `openai: BaseURL "//x/v1" is not an http(s) URL`},
		{openai.Config{Endpoint: "embeddings"}, `openai: unknown Endpoint "embeddings"`},
		{openai.Config{N: -1}, "openai: N -1 < 0"},
		{openai.Config{MaxConcurrency: -2}, "openai: MaxConcurrency -2 < 0"},
	} {
		if _, err := openai.New(&tc.cfg); err == nil || err.Error() != tc.want {
			t.Errorf("New(%+v): %v, want %q", tc.cfg, err, tc.want)
		}
	}
}
