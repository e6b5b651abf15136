package openai_test

import (
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/openai"
)

// fake is an OpenAI-compatible server for tests: it records the request
// bodies and answers each with reply.
type fake struct {
	t     *testing.T
	mu    sync.Mutex
	reqs  []map[string]any
	paths []string
	auth  []string
	reply func(req map[string]any) any
}

func newFake(t *testing.T, reply func(req map[string]any) any) (*fake, *httptest.Server) {
	f := &fake{t: t, reply: reply}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading the request: %v", err)
			return
		}
		var req map[string]any
		if err := json.Unmarshal(b, &req); err != nil {
			t.Errorf("request body %q: %v", b, err)
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, req)
		f.paths = append(f.paths, r.URL.Path)
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(f.reply(req))
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

// tok is a token of a llama-server style reply.
type tok struct {
	id    int32
	bytes string
	lp    float64
	alts  []tok // top_logprobs
}

func entryJSON(tk tok) map[string]any {
	b := make([]int, len(tk.bytes))
	for i := range len(tk.bytes) {
		b[i] = int(tk.bytes[i])
	}
	e := map[string]any{"id": tk.id, "token": strings.ToValidUTF8(tk.bytes, ""), "bytes": b, "logprob": tk.lp}
	alts := []map[string]any{}
	for _, a := range tk.alts {
		alts = append(alts, entryJSON(a))
	}
	e["top_logprobs"] = alts
	return e
}

// llamaChoice is a choice the way llama-server writes it, for the chat
// endpoint if chat, else for the completions one.
func llamaChoice(index int, chat bool, finish string, toks []tok) map[string]any {
	var text strings.Builder
	content := []map[string]any{}
	for _, tk := range toks {
		text.WriteString(tk.bytes)
		content = append(content, entryJSON(tk))
	}
	c := map[string]any{"index": index, "finish_reason": finish, "logprobs": map[string]any{"content": content}}
	if chat {
		c["message"] = map[string]any{"role": "assistant", "content": text.String()}
	} else {
		c["text"] = text.String()
	}
	return c
}

// self returns tk with itself as its only alternative, as the greedy token
// of a reply with top_logprobs 1 is.
func self(tk tok) tok {
	tk.alts = []tok{{id: tk.id, bytes: tk.bytes, lp: tk.lp}}
	return tk
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}

func newClient(t *testing.T, cfg *openai.Config) *openai.Client {
	t.Helper()
	c, err := openai.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRequests checks the fields of the requests for a chat prompt and a
// raw one: the greedy trace at temperature 0 without a seed, sampled trace
// k with seed uint32(Seed)+k, Params mapped, non-standard fields only
// when not Standard, ExtraBody last.
func TestRequests(t *testing.T) {
	ans := []tok{self(tok{id: 65, bytes: "A", lp: -0.5})}
	f, srv := newFake(t, func(req map[string]any) any {
		_, chat := req["messages"]
		n := int(num(req["n"]))
		var cs []any
		for i := range n {
			cs = append(cs, llamaChoice(i, chat, "stop", ans))
		}
		return map[string]any{"choices": cs}
	})
	seed := uint64(1)<<32 + 7 // uint32(Seed) = 7
	params := &sampling.Params{Samples: 2, MaxTokens: 50, Temperature: 0.7, TopK: -1, TopP: 0.9, MinP: 0.1, Seed: seed,
		Stop: []string{"</answer>"}}
	chat := sampling.Chat("sys", "q?")
	chat.NoThinking = true

	for _, tc := range []struct {
		name     string
		cfg      openai.Config
		prompt   sampling.Prompt
		path     string
		want     map[string]any // fields every request has
		absent   []string
		greedy   map[string]any
		sampled  []map[string]any
		wantErr  string
		nRequest int
	}{
		{
			name:   "chat",
			cfg:    openai.Config{Model: "qwen3", TopLogprobs: 3, ExtraBody: map[string]any{"reasoning_format": "none", "top_p": 0.5}},
			prompt: chat,
			path:   "/v1/chat/completions",
			want: map[string]any{"model": "qwen3", "max_tokens": 50.0, "top_p": 0.5, "top_k": -1.0, "min_p": 0.1,
				"logprobs": true, "top_logprobs": 3.0, "stream": false, "n": 1.0, "reasoning_format": "none",
				"chat_template_kwargs": map[string]any{"enable_thinking": false},
				"messages":             []any{map[string]any{"role": "system", "content": "sys"}, map[string]any{"role": "user", "content": "q?"}}},
			absent:   []string{"stop", "prompt"},
			greedy:   map[string]any{"temperature": 0.0},
			sampled:  []map[string]any{{"temperature": 0.7, "seed": 8.0}, {"temperature": 0.7, "seed": 9.0}},
			nRequest: 3,
		},
		{
			name:     "completions, standard, server stop",
			cfg:      openai.Config{Standard: true, ServerStop: true, N: 2},
			prompt:   sampling.Prompt{Text: "Q: why?\nA:"},
			path:     "/v1/completions",
			want:     map[string]any{"prompt": "Q: why?\nA:", "logprobs": 5.0, "top_p": 0.9, "stop": []any{"</answer>"}},
			absent:   []string{"top_k", "min_p", "model", "messages", "top_logprobs", "chat_template_kwargs"},
			greedy:   map[string]any{"temperature": 0.0, "n": 1.0},
			sampled:  []map[string]any{{"temperature": 0.7, "seed": 8.0, "n": 2.0}},
			nRequest: 2,
		},
		{
			name:    "no thinking when standard",
			cfg:     openai.Config{Standard: true},
			prompt:  chat,
			wantErr: "openai: NoThinking needs chat_template_kwargs",
		},
		{
			name:    "chat prompt to the completions endpoint",
			cfg:     openai.Config{Endpoint: openai.EndpointCompletions},
			prompt:  sampling.Chat("", "q"),
			wantErr: "openai: a chat prompt, but the Endpoint is completions",
		},
		{
			name:    "raw prompt to the chat endpoint",
			cfg:     openai.Config{Endpoint: openai.EndpointChat},
			prompt:  sampling.Prompt{Text: "q"},
			wantErr: "openai: a raw prompt, but the Endpoint is chat",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.mu.Lock()
			f.reqs, f.paths = nil, nil
			f.mu.Unlock()
			cfg := tc.cfg
			cfg.BaseURL = srv.URL + "/v1/"
			traces, err := newClient(t, &cfg).GenerateTraces(t.Context(), tc.prompt, params)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				if len(f.reqs) != 0 {
					t.Errorf("%d requests sent", len(f.reqs))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(f.reqs) != tc.nRequest {
				t.Fatalf("%d requests, want %d", len(f.reqs), tc.nRequest)
			}
			var greedy []map[string]any
			var sampled []map[string]any
			for i, r := range f.reqs {
				if f.paths[i] != tc.path {
					t.Errorf("request %d to %s, want %s", i, f.paths[i], tc.path)
				}
				for k, v := range tc.want {
					if !reflect.DeepEqual(r[k], v) {
						t.Errorf("request %d: %s = %#v, want %#v", i, k, r[k], v)
					}
				}
				for _, k := range tc.absent {
					if _, ok := r[k]; ok {
						t.Errorf("request %d has %s", i, k)
					}
				}
				if _, ok := r["seed"]; ok {
					sampled = append(sampled, r)
				} else {
					greedy = append(greedy, r)
				}
			}
			if len(greedy) != 1 {
				t.Fatalf("%d requests without a seed, want 1 (the greedy trace)", len(greedy))
			}
			for k, v := range tc.greedy {
				if !reflect.DeepEqual(greedy[0][k], v) {
					t.Errorf("greedy request: %s = %#v, want %#v", k, greedy[0][k], v)
				}
			}
			slices.SortFunc(sampled, func(a, b map[string]any) int { return int(num(a["seed"]) - num(b["seed"])) })
			if len(sampled) != len(tc.sampled) {
				t.Fatalf("%d sampled requests, want %d", len(sampled), len(tc.sampled))
			}
			for i, want := range tc.sampled {
				for k, v := range want {
					if !reflect.DeepEqual(sampled[i][k], v) {
						t.Errorf("sampled request %d: %s = %#v, want %#v", i, k, sampled[i][k], v)
					}
				}
			}
			var seeds []uint32
			for i, tr := range traces {
				if tr.Greedy != (i == 0) {
					t.Errorf("trace %d: Greedy %v", i, tr.Greedy)
				}
				seeds = append(seeds, tr.Seed)
			}
			if want := []uint32{0, 8, 9}; !slices.Equal(seeds, want) {
				t.Errorf("seeds %v, want %v", seeds, want)
			}
		})
	}
}

// TestBatches checks that with N = 3, K = 7 sampled traces go in requests
// of n = 3, 3, 1 with the seeds of their first traces, and that the traces
// come back in order with their own seeds.
func TestBatches(t *testing.T) {
	_, srv := newFake(t, func(req map[string]any) any {
		n := int(num(req["n"]))
		var cs []any
		for i := range n {
			// Each choice says which seed llama-server would draw it with.
			s := "g"
			if v, ok := req["seed"]; ok {
				s = string(rune('a' + int(num(v)) + i))
			}
			// Reversed, to check that choices are put in index order.
			cs = append([]any{llamaChoice(i, false, "length", []tok{self(tok{id: 1, bytes: s, lp: -1})})}, cs...)
		}
		return map[string]any{"choices": cs}
	})
	c := newClient(t, &openai.Config{BaseURL: srv.URL, N: 3})
	traces, err := c.GenerateTraces(t.Context(), sampling.Prompt{Text: "x"}, &sampling.Params{Samples: 7})
	if err != nil {
		t.Fatal(err)
	}
	var texts string
	var seeds []uint32
	for _, tr := range traces {
		texts += tr.Text
		seeds = append(seeds, tr.Seed)
	}
	if want := "gbcdefgh"; texts != want {
		t.Errorf("texts %q, want %q", texts, want)
	}
	if want := []uint32{0, 1, 2, 3, 4, 5, 6, 7}; !slices.Equal(seeds, want) {
		t.Errorf("seeds %v, want %v", seeds, want)
	}
}

// TestTokens checks what traces are made of: tokens with ids, raw bytes,
// log-probabilities, entropies over the alternatives and the kind; the
// interface's Generate with NaN entropies.
func TestTokens(t *testing.T) {
	// "é" as two byte tokens would be a llama-server gap; here it is one
	// token, which its alternatives confirm.
	toks := []tok{
		{id: 10, bytes: "\xc3\xa9", lp: -0.1, alts: []tok{{id: 10, bytes: "\xc3\xa9", lp: -0.1}, {id: 11, bytes: "e", lp: -2.5}}},
		{id: 12, bytes: "t", lp: -1e30, alts: []tok{{id: 13, bytes: "x", lp: -0.2}}},
		{id: 2, bytes: "", lp: -0.3, alts: []tok{{id: 2, bytes: "", lp: -0.3}, {id: 5, bytes: "y", lp: -3.4e38}}},
	}
	_, srv := newFake(t, func(req map[string]any) any {
		return map[string]any{"choices": []any{llamaChoice(0, true, "stop", toks)}, "usage": map[string]any{"completion_tokens": 3}}
	})
	c := newClient(t, &openai.Config{BaseURL: srv.URL, TopLogprobs: 2})
	traces, err := c.GenerateTraces(t.Context(), sampling.Chat("", "q"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(traces) != 1 {
		t.Fatalf("%d traces, want 1", len(traces))
	}
	tr := traces[0]
	h := func(lps ...float64) float64 {
		s := 0.0
		for _, l := range lps {
			s -= math.Exp(l) * l
		}
		return s
	}
	want := openai.Trace{
		Trace: sampling.Trace{Greedy: true, Text: "ét", Finish: sampling.FinishEOG, Tokens: []sampling.Token{
			{ID: 10, Text: "é", LogProb: -0.1, Entropy: h(-0.1, -2.5)},
			{ID: 12, Text: "t", LogProb: math.Inf(-1), Entropy: h(-0.2)},
			{ID: 2, Text: "", LogProb: -0.3, Entropy: h(-0.3)},
		}},
		LogProbKind: sampling.LogProbsTop(2),
	}
	if !reflect.DeepEqual(tr, want) {
		t.Errorf("trace\n%+v\nwant\n%+v", tr, want)
	}

	plain, err := c.Generate(t.Context(), sampling.Chat("", "q"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := plain[0]; !reflect.DeepEqual(got.Tokens, want.Tokens) || got.LogProbKind != want.LogProbKind {
		t.Errorf("Generate: %+v (kind %q), want GenerateTraces' tokens and kind %q", got.Tokens, got.LogProbKind, want.LogProbKind)
	}
}

// TestIncomplete checks that a trace whose tokens did not all get a
// log-probability (llama-server skips tokens that end inside a UTF-8
// character) has kind "none", no tokens and the text, unless the tokens
// without one come after the trace's stop string.
func TestIncomplete(t *testing.T) {
	a := self(tok{id: 1, bytes: "a", lp: -1})
	merged := tok{id: 76, bytes: "\xcdL", lp: -2, alts: []tok{{id: 76, bytes: "L", lp: -2}}} // 0xCD had no entry
	for _, tc := range []struct {
		name      string
		toks      []tok
		generated int
		stop      []string
		note      string // "" for a complete trace
		text      string
	}{
		{"merged", []tok{a, merged}, 0, nil, "token 1 (id 76) came with the bytes", "a\xcdL"},
		{"unverifiable", []tok{{id: 76, bytes: "\xcdL", lp: -2, alts: []tok{{id: 5, bytes: "q", lp: -1}}}}, 0, nil, "not known to be its own", "\xcdL"},
		{"missing at the end", []tok{a}, 3, nil, "the server generated 3 tokens but returned log-probabilities for 1", "a"},
		{"merged after the stop", []tok{a, merged}, 0, []string{"a"}, "", "a"},
		{"merged at the stop", []tok{a, merged}, 0, []string{"L"}, "token 1 (id 76) came with the bytes", "a\xcdL"},
		{"missing after the stop", []tok{a}, 3, []string{"a"}, "", "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, srv := newFake(t, func(req map[string]any) any {
				r := map[string]any{"choices": []any{llamaChoice(0, false, "length", tc.toks)}}
				if tc.generated > 0 {
					r["usage"] = map[string]any{"completion_tokens": tc.generated}
				}
				return r
			})
			traces, err := newClient(t, &openai.Config{BaseURL: srv.URL}).GenerateTraces(t.Context(), sampling.Prompt{Text: "p"},
				&sampling.Params{Stop: tc.stop})
			if err != nil {
				t.Fatal(err)
			}
			tr := traces[0]
			if tc.note == "" {
				if tr.LogProbKind != "top-5" || concat(tr.Tokens) != tc.text || tr.Text != tc.text || tr.Note != "" {
					t.Errorf("kind %q, tokens %q, text %q, note %q; want top-5, text %q", tr.LogProbKind, concat(tr.Tokens), tr.Text, tr.Note, tc.text)
				}
				return
			}
			if tr.LogProbKind != sampling.LogProbsNone || tr.Tokens != nil || tr.Text != tc.text || !strings.Contains(tr.Note, tc.note) {
				t.Errorf("kind %q, %d tokens, text %q, note %q; want none, 0, %q, %q", tr.LogProbKind, len(tr.Tokens), tr.Text, tr.Note, tc.text, tc.note)
			}
		})
	}
}

func concat(toks []sampling.Token) string {
	var s string
	for _, tk := range toks {
		s += tk.Text
	}
	return s
}

// TestNoLogprobs checks traces from a server that returns no
// log-probabilities, or a client that asks for none: kind "none", the text
// and the separate reasoning of a chat reply.
func TestNoLogprobs(t *testing.T) {
	f, srv := newFake(t, func(req map[string]any) any {
		return map[string]any{"choices": []any{map[string]any{"index": 0, "finish_reason": "length", "logprobs": nil,
			"message": map[string]any{"content": "<answer>up</answer>", "reasoning_content": "because"}}}}
	})
	for _, top := range []int{0, -1} {
		traces, err := newClient(t, &openai.Config{BaseURL: srv.URL, TopLogprobs: top}).GenerateTraces(t.Context(), sampling.Chat("", "q"), nil)
		if err != nil {
			t.Fatal(err)
		}
		tr := traces[0]
		if tr.LogProbKind != sampling.LogProbsNone || tr.Tokens != nil || tr.Text != "<answer>up</answer>" || tr.Reasoning != "because" || tr.Finish != sampling.FinishLength {
			t.Errorf("TopLogprobs %d: %+v", top, tr)
		}
		req := f.reqs[len(f.reqs)-1]
		if _, ok := req["logprobs"]; ok != (top >= 0) {
			t.Errorf("TopLogprobs %d: logprobs in the request: %v", top, ok)
		}
	}
}

// TestLegacyLogprobs checks the legacy completions format (vLLM, OpenAI):
// no ids, text tokens with "bytes:" escapes.
func TestLegacyLogprobs(t *testing.T) {
	_, srv := newFake(t, func(req map[string]any) any {
		return map[string]any{"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "text": "a\xe2\x82\xac",
			"logprobs": map[string]any{
				"tokens":         []string{"a", `bytes:\xe2\x82`, `bytes:\xac`},
				"token_logprobs": []float64{-0.5, -9999, -0.25},
				"top_logprobs":   []map[string]float64{{"a": -0.5, "b": -1}, {"x": -0.1}, nil},
			}}}}
	})
	traces, err := newClient(t, &openai.Config{BaseURL: srv.URL, TopLogprobs: 2}).GenerateTraces(t.Context(), sampling.Prompt{Text: "p"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := traces[0]
	want := []sampling.Token{
		{ID: -1, Text: "a", LogProb: -0.5, Entropy: 0.5*math.Exp(-0.5) + math.Exp(-1)},
		{ID: -1, Text: "\xe2\x82", LogProb: math.Inf(-1), Entropy: 0.1 * math.Exp(-0.1)},
		{ID: -1, Text: "\xac", LogProb: -0.25, Entropy: 0},
	}
	if tr.Text != "a€" || tr.LogProbKind != "top-2" || len(tr.Tokens) != 3 {
		t.Fatalf("trace %+v", tr)
	}
	for i := range want {
		g, w := tr.Tokens[i], want[i]
		if g.ID != w.ID || g.Text != w.Text || g.LogProb != w.LogProb || math.Abs(g.Entropy-w.Entropy) > 1e-12 {
			t.Errorf("token %d: %+v, want %+v", i, g, w)
		}
	}
}

// TestStops checks stop strings applied here, as the llama package applies
// them (whole tokens, the stop string kept, the first in Params.Stop's
// order), on tokens and on text alone, and the server's stops.
func TestStops(t *testing.T) {
	pieces := []string{"<ans", "wer>up</an", "swer>", "\n", ""}
	var toks []tok
	for i, p := range pieces {
		toks = append(toks, self(tok{id: int32(i), bytes: p, lp: -1}))
	}
	newSrv := func(finish string, extra map[string]any) string {
		_, srv := newFake(t, func(req map[string]any) any {
			c := llamaChoice(0, false, finish, toks)
			if _, ok := req["logprobs"]; !ok {
				delete(c, "logprobs")
			}
			for k, v := range extra {
				c[k] = v
			}
			return map[string]any{"choices": []any{c}}
		})
		return srv.URL
	}
	plain := newSrv("stop", nil)
	for _, tc := range []struct {
		name     string
		url      string
		cfg      openai.Config
		stop     []string
		text     string
		ntok     int
		finish   sampling.FinishReason
		stopText string
	}{
		{"none", plain, openai.Config{}, nil, "<answer>up</answer>\n", 5, sampling.FinishEOG, ""},
		{"first in order", plain, openai.Config{}, []string{"</an", "up"}, "<answer>up</an", 2, sampling.FinishStop, "</an"},
		{"earliest token", plain, openai.Config{}, []string{"\n", "</answer>"}, "<answer>up</answer>", 3, sampling.FinishStop, "</answer>"},
		{"text only", plain, openai.Config{TopLogprobs: -1}, []string{"\n", "up"}, "<answer>up", 0, sampling.FinishStop, "up"},
		{"never", plain, openai.Config{}, []string{"down"}, "<answer>up</answer>\n", 5, sampling.FinishEOG, ""},
		{"server: vLLM stop_reason", newSrv("stop", map[string]any{"stop_reason": "</answer>"}), openai.Config{ServerStop: true}, []string{"</answer>"},
			"<answer>up</answer>\n", 5, sampling.FinishStop, "</answer>"},
		{"server: vLLM end of sequence", newSrv("stop", map[string]any{"stop_reason": nil}), openai.Config{ServerStop: true}, []string{"x"},
			"<answer>up</answer>\n", 5, sampling.FinishEOG, ""},
		{"server: SGLang token", newSrv("stop", map[string]any{"matched_stop": 151645}), openai.Config{ServerStop: true}, []string{"x"},
			"<answer>up</answer>\n", 5, sampling.FinishEOG, ""},
		{"server: last token has no text", plain, openai.Config{ServerStop: true}, []string{"x"}, "<answer>up</answer>\n", 5, sampling.FinishEOG, ""},
		{"server: unknown", newSrv("stop", nil), openai.Config{ServerStop: true, TopLogprobs: -1}, []string{"x"}, "<answer>up</answer>\n", 0, sampling.FinishStop, ""},
		{"server: length", newSrv("length", nil), openai.Config{ServerStop: true}, []string{"up"}, "<answer>up</answer>\n", 5, sampling.FinishLength, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.BaseURL = tc.url
			traces, err := newClient(t, &cfg).GenerateTraces(t.Context(), sampling.Prompt{Text: "p"}, &sampling.Params{Stop: tc.stop})
			if err != nil {
				t.Fatal(err)
			}
			tr := traces[0]
			if tr.Text != tc.text || len(tr.Tokens) != tc.ntok || tr.Finish != tc.finish || tr.Stop != tc.stopText {
				t.Errorf("text %q, %d tokens, finish %s, stop %q; want %q, %d, %s, %q",
					tr.Text, len(tr.Tokens), tr.Finish, tr.Stop, tc.text, tc.ntok, tc.finish, tc.stopText)
			}
		})
	}
}

// TestConcurrencyBound checks that MaxConcurrency bounds the requests in
// flight across concurrent Generate calls.
func TestConcurrencyBound(t *testing.T) {
	var mu sync.Mutex
	inFlight, most := 0, 0
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"choices": []any{llamaChoice(0, false, "length", []tok{self(tok{id: 1, bytes: "a", lp: -1})})}})
	}))
	defer srv.Close()
	c := newClient(t, &openai.Config{BaseURL: srv.URL, MaxConcurrency: 3})
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if _, err := c.Generate(t.Context(), sampling.Prompt{Text: "p"}, &sampling.Params{Samples: 4}); err != nil {
				t.Error(err)
			}
		})
	}
	// 15 requests in all: once 3 are held in the handler, give them a
	// moment to exceed the bound if they could, then let all through.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := inFlight
		mu.Unlock()
		if n >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if most != 3 {
		t.Errorf("at most %d requests in flight, want 3", most)
	}
}
