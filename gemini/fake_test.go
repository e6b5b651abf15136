package gemini_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labelfree/labelfree/gemini"
)

// testKey is the API key the tests put in the environment; the fake API
// refuses requests without it.
const testKey = "test-key-7f3a9c1e-not-a-real-key"

// keyEnv is the variable the tests keep the key in, so that a real key in
// GEMINI_API_KEY is never read.
const keyEnv = "LABELFREE_GEMINI_TEST_KEY"

// fakeAPI is a local stand-in for the Gemini API's generateContent method
// (POST /v1beta/models/{model}:generateContent, the JSON of the REST
// reference at ai.google.dev/api/generate-content). It records every
// request and answers with reply.
type fakeAPI struct {
	t *testing.T
	// reply returns the status and body for the n-th request (1-based).
	reply func(n int, r *apiRequest) (int, string)

	mu       sync.Mutex
	requests []*apiRequest
	inFlight int
	maxIn    int
}

// apiRequest is a request as the fake received it.
type apiRequest struct {
	Method, Path, Key string
	Context           context.Context // the request's, done when the client gives up
	Raw               map[string]any  // the whole body
	Body              struct {
		Contents          []content `json:"contents"`
		SystemInstruction *content  `json:"systemInstruction"`
		GenerationConfig  genConfig `json:"generationConfig"`
	}
}

type content struct {
	Role  string `json:"role"`
	Parts []struct {
		Text string `json:"text"`
	} `json:"parts"`
}

// genConfig has pointers so that a test can tell a field's absence.
type genConfig struct {
	CandidateCount   *int      `json:"candidateCount"`
	MaxOutputTokens  *int      `json:"maxOutputTokens"`
	StopSequences    []string  `json:"stopSequences"`
	Temperature      *float64  `json:"temperature"`
	TopP             *float64  `json:"topP"`
	TopK             *float64  `json:"topK"`
	Seed             *int64    `json:"seed"`
	ResponseLogprobs *bool     `json:"responseLogprobs"`
	Logprobs         *int      `json:"logprobs"`
	ThinkingConfig   *thinking `json:"thinkingConfig"`
}

type thinking struct {
	IncludeThoughts *bool `json:"includeThoughts"`
	ThinkingBudget  *int  `json:"thinkingBudget"`
}

// genKeys returns the field names of the request's generationConfig.
func (r *apiRequest) genKeys() []string {
	g, _ := r.Raw["generationConfig"].(map[string]any)
	var ks []string
	for k := range g {
		ks = append(ks, k)
	}
	return ks
}

// wantsLogprobs reports whether the request asks for log-probabilities.
func (r *apiRequest) wantsLogprobs() bool {
	lp := r.Body.GenerationConfig.ResponseLogprobs
	return lp != nil && *lp
}

// seed returns the request's seed, -1 if none.
func (r *apiRequest) seed() int64 {
	if s := r.Body.GenerationConfig.Seed; s != nil {
		return *s
	}
	return -1
}

func newFake(t *testing.T, reply func(n int, r *apiRequest) (int, string)) (*fakeAPI, *httptest.Server) {
	t.Helper()
	f := &fakeAPI{t: t, reply: reply}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r := &apiRequest{Method: req.Method, Path: req.URL.Path, Key: req.Header.Get("x-goog-api-key"), Context: req.Context()}
	if err := json.Unmarshal(body, &r.Raw); err != nil {
		f.t.Errorf("request body is not JSON: %v", err)
	}
	if err := json.Unmarshal(body, &r.Body); err != nil {
		f.t.Errorf("request body: %v", err)
	}
	f.mu.Lock()
	f.requests = append(f.requests, r)
	n := len(f.requests)
	f.inFlight++
	f.maxIn = max(f.maxIn, f.inFlight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()

	if r.Key != testKey {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"error":{"code":403,"message":"Method doesn't allow unregistered callers.","status":"PERMISSION_DENIED"}}`)
		return
	}
	if req.Method != http.MethodPost || !strings.HasPrefix(r.Path, "/v1beta/models/") || !strings.HasSuffix(r.Path, ":generateContent") {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":{"code":404,"message":"not found","status":"NOT_FOUND"}}`)
		return
	}
	status, out := f.reply(n, r)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	io.WriteString(w, out)
}

// got returns the requests received so far.
func (f *fakeAPI) got() []*apiRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*apiRequest(nil), f.requests...)
}

// tok is a token with its log-probability in a response.
type tok struct {
	ID   int32
	Text string
	LP   float32
}

// cand describes one candidate of a response.
type cand struct {
	Index    int
	Thought  string // a thought part before the answer, if not ""
	Text     []string
	Finish   string
	Chosen   []tok
	Top      [][]tok
	NoLogres bool // leave out logprobsResult even if Chosen is empty
}

// response returns a generateContent response body with cs.
func response(cs ...cand) string {
	var out []map[string]any
	for _, c := range cs {
		var parts []map[string]any
		if c.Thought != "" {
			parts = append(parts, map[string]any{"text": c.Thought, "thought": true})
		}
		for _, t := range c.Text {
			parts = append(parts, map[string]any{"text": t})
		}
		m := map[string]any{
			"content":      map[string]any{"role": "model", "parts": parts},
			"finishReason": c.Finish,
		}
		if c.Index != 0 {
			m["index"] = c.Index
		}
		if c.Finish == "" {
			delete(m, "finishReason")
		}
		if !c.NoLogres && (c.Chosen != nil || c.Top != nil) {
			lr := map[string]any{"chosenCandidates": toks(c.Chosen)}
			if c.Top != nil {
				var top []map[string]any
				for _, ts := range c.Top {
					top = append(top, map[string]any{"candidates": toks(ts)})
				}
				lr["topCandidates"] = top
			}
			m["logprobsResult"] = lr
		}
		out = append(out, m)
	}
	b, err := json.Marshal(map[string]any{
		"candidates":    out,
		"usageMetadata": map[string]any{"promptTokenCount": 11, "candidatesTokenCount": 7, "thoughtsTokenCount": 5, "totalTokenCount": 23},
		"modelVersion":  "gemini-2.5-pro",
		"responseId":    "fake",
	})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// toks writes ts as the API does: proto3 JSON leaves out zero values.
func toks(ts []tok) []map[string]any {
	out := []map[string]any{}
	for _, t := range ts {
		m := map[string]any{"token": t.Text}
		if t.ID != 0 {
			m["tokenId"] = t.ID
		}
		if t.LP != 0 {
			m["logProbability"] = t.LP
		}
		out = append(out, m)
	}
	return out
}

// apiError returns the API's error body.
func apiError(code int, status, message string) string {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": message, "status": status}})
	return string(b)
}

// simple answers every request with one candidate per asked candidate,
// with two tokens and their log-probabilities when asked.
func simple(n int, r *apiRequest) (int, string) {
	cc := 1
	if c := r.Body.GenerationConfig.CandidateCount; c != nil {
		cc = *c
	}
	var cs []cand
	for i := range cc {
		c := cand{Index: i, Text: []string{"<answer>up</answer>"}, Finish: "STOP"}
		if r.wantsLogprobs() {
			c.Chosen = []tok{{ID: 101, Text: "<answer>up", LP: -0.25}, {ID: 102, Text: "</answer>", LP: -0.5}}
		}
		cs = append(cs, c)
	}
	return http.StatusOK, response(cs...)
}

// newBackend returns a Backend on srv with c's other settings and fast
// retries.
func newBackend(t *testing.T, srv *httptest.Server, c gemini.Config) *gemini.Backend {
	t.Helper()
	t.Setenv(keyEnv, testKey)
	c.BaseURL = srv.URL
	c.APIKeyEnv = keyEnv
	if c.Backoff == 0 {
		c.Backoff = time.Millisecond
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 4 * time.Millisecond
	}
	b, err := gemini.New(t.Context(), &c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sorted returns a sorted copy of xs.
func sorted(xs []string) []string { return slices.Sorted(slices.Values(xs)) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
