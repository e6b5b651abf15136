package gemini_test

import (
	"bytes"
	"context"
	"errors"
	"log"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labelfree/labelfree/gemini"
	"github.com/labelfree/labelfree/sampling"
)

// TestRequestMapping checks the JSON the SDK sends for a chat prompt with
// every setting: the path, the key header, the system instruction, the
// turns and each generationConfig field, for the greedy and the sampled
// requests.
func TestRequestMapping(t *testing.T) {
	f, srv := newFake(t, simple)
	b := newBackend(t, srv, gemini.Config{Logprobs: 3, IncludeThoughts: true, ThinkingBudget: 128})
	prompt := sampling.Prompt{Messages: []sampling.Message{
		{Role: "system", Content: "Be brief."},
		{Role: "user", Content: "Is IRF1 up?"},
		{Role: "assistant", Content: "Which cell line?"},
		{Role: "user", Content: "K562."},
	}}
	p := &sampling.Params{Samples: 2, MaxTokens: 300, Temperature: 0.7, TopK: 40, TopP: 0.9, Seed: 5, Stop: []string{"</answer>"}}
	traces, err := b.Generate(t.Context(), prompt, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(traces) != 3 {
		t.Fatalf("got %d traces, want 3", len(traces))
	}
	reqs := f.got()
	if len(reqs) != 3 {
		t.Fatalf("got %d requests, want 3", len(reqs))
	}
	bySeed := make(map[int64]*apiRequest)
	for _, r := range reqs {
		if r.Method != http.MethodPost || r.Path != "/v1beta/models/gemini-2.5-pro:generateContent" {
			t.Errorf("request %s %s, want POST /v1beta/models/gemini-2.5-pro:generateContent", r.Method, r.Path)
		}
		if r.Key != testKey {
			t.Errorf("x-goog-api-key %q, want the key from %s", r.Key, keyEnv)
		}
		if s := r.Body.SystemInstruction; s == nil || len(s.Parts) != 1 || s.Parts[0].Text != "Be brief." {
			t.Errorf("systemInstruction %+v, want one part %q", s, "Be brief.")
		}
		var turns []string
		for _, c := range r.Body.Contents {
			if len(c.Parts) != 1 {
				t.Fatalf("content with %d parts, want 1", len(c.Parts))
			}
			turns = append(turns, c.Role+": "+c.Parts[0].Text)
		}
		if want := []string{"user: Is IRF1 up?", "model: Which cell line?", "user: K562."}; !slices.Equal(turns, want) {
			t.Errorf("contents %q, want %q", turns, want)
		}
		g := r.Body.GenerationConfig
		if g.MaxOutputTokens == nil || *g.MaxOutputTokens != 300 {
			t.Errorf("maxOutputTokens %v, want 300", g.MaxOutputTokens)
		}
		if !slices.Equal(g.StopSequences, []string{"</answer>"}) {
			t.Errorf("stopSequences %q", g.StopSequences)
		}
		if !r.wantsLogprobs() || g.Logprobs == nil || *g.Logprobs != 3 {
			t.Errorf("responseLogprobs %v, logprobs %v; want true, 3", g.ResponseLogprobs, g.Logprobs)
		}
		if tc := g.ThinkingConfig; tc == nil || tc.IncludeThoughts == nil || !*tc.IncludeThoughts || tc.ThinkingBudget == nil || *tc.ThinkingBudget != 128 {
			t.Errorf("thinkingConfig %+v, want includeThoughts true, thinkingBudget 128", tc)
		}
		if g.CandidateCount == nil || *g.CandidateCount != 1 {
			t.Errorf("candidateCount %v, want 1", g.CandidateCount)
		}
		bySeed[r.seed()] = r
	}

	// The greedy request: seed uint32(Seed)+0, temperature 0 and nothing
	// else that samples.
	greedy := bySeed[5]
	if greedy == nil {
		t.Fatalf("no request with seed 5 (the greedy one); seeds %v", slices.Collect(maps.Keys(bySeed)))
	}
	g := greedy.Body.GenerationConfig
	if g.Temperature == nil || *g.Temperature != 0 || g.TopP != nil || g.TopK != nil {
		t.Errorf("greedy request: temperature %v, topP %v, topK %v; want 0, absent, absent", g.Temperature, g.TopP, g.TopK)
	}
	wantKeys := []string{"candidateCount", "logprobs", "maxOutputTokens", "responseLogprobs", "seed", "stopSequences", "temperature", "thinkingConfig"}
	if keys := sorted(greedy.genKeys()); !slices.Equal(keys, wantKeys) {
		t.Errorf("greedy generationConfig fields %q, want %q", keys, wantKeys)
	}
	// Sampled trace k: seed uint32(Seed)+k, p's temperature, topP and topK
	// (float32 on the wire: compared to 1e-6).
	for _, k := range []int64{1, 2} {
		r := bySeed[5+k]
		if r == nil {
			t.Fatalf("no request with seed %d", 5+k)
		}
		g := r.Body.GenerationConfig
		for _, c := range []struct {
			name string
			got  *float64
			want float64
		}{{"temperature", g.Temperature, 0.7}, {"topP", g.TopP, 0.9}, {"topK", g.TopK, 40}} {
			if c.got == nil || math.Abs(*c.got-c.want) > 1e-6 {
				t.Errorf("sample %d: %s %v, want %g", k, c.name, c.got, c.want)
			}
		}
		if keys := sorted(r.genKeys()); !slices.Equal(keys, sorted(append(wantKeys, "topK", "topP"))) {
			t.Errorf("sample %d: generationConfig fields %q", k, keys)
		}
	}
	for i, tr := range traces {
		wantSeed := uint32(0)
		if i > 0 {
			wantSeed = 5 + uint32(i)
		}
		if tr.Greedy != (i == 0) || tr.Seed != wantSeed {
			t.Errorf("trace %d: greedy %v, seed %d; want %v, %d", i, tr.Greedy, tr.Seed, i == 0, wantSeed)
		}
	}
}

// TestRawPromptAndDefaults checks a raw prompt, nil Params, Logprobs 0
// (chosen tokens only), TopK < 0, NoThinking and another model.
func TestRawPromptAndDefaults(t *testing.T) {
	f, srv := newFake(t, simple)
	b := newBackend(t, srv, gemini.Config{Model: "gemini-2.0-flash"})
	if _, err := b.Generate(t.Context(), sampling.Prompt{Text: "Continue: 1, 2, 3,"}, nil); err != nil {
		t.Fatal(err)
	}
	reqs := f.got()
	if len(reqs) != 1 {
		t.Fatalf("nil Params: %d requests, want 1 (the greedy trace)", len(reqs))
	}
	r := reqs[0]
	if r.Path != "/v1beta/models/gemini-2.0-flash:generateContent" {
		t.Errorf("path %s", r.Path)
	}
	if len(r.Body.Contents) != 1 || r.Body.Contents[0].Role != "user" || r.Body.Contents[0].Parts[0].Text != "Continue: 1, 2, 3," {
		t.Errorf("contents %+v, want one user turn with the text", r.Body.Contents)
	}
	if r.Body.SystemInstruction != nil {
		t.Errorf("systemInstruction %+v, want none", r.Body.SystemInstruction)
	}
	g := r.Body.GenerationConfig
	if g.MaxOutputTokens == nil || *g.MaxOutputTokens != 1024 {
		t.Errorf("maxOutputTokens %v, want Params' default 1024", g.MaxOutputTokens)
	}
	if !r.wantsLogprobs() || g.Logprobs != nil {
		t.Errorf("responseLogprobs %v, logprobs %v; want true and absent", g.ResponseLogprobs, g.Logprobs)
	}
	if g.ThinkingConfig != nil {
		t.Errorf("thinkingConfig %+v, want none", g.ThinkingConfig)
	}

	_, err := b.Generate(t.Context(), sampling.Prompt{Messages: []sampling.Message{{Role: "user", Content: "hi"}}, NoThinking: true},
		&sampling.Params{Samples: 1, NoGreedy: true, TopK: -1, TopP: 1})
	if err != nil {
		t.Fatal(err)
	}
	r = f.got()[1]
	g = r.Body.GenerationConfig
	if g.TopK != nil || g.TopP == nil || *g.TopP != 1 {
		t.Errorf("TopK −1, TopP 1: topK %v, topP %v; want absent, 1", g.TopK, g.TopP)
	}
	if tc := g.ThinkingConfig; tc == nil || tc.ThinkingBudget == nil || *tc.ThinkingBudget != 0 || tc.IncludeThoughts != nil {
		t.Errorf("NoThinking: thinkingConfig %+v, want thinkingBudget 0 only", tc)
	}
	if g.Temperature == nil || math.Abs(*g.Temperature-0.6) > 1e-6 {
		t.Errorf("temperature %v, want Params' default 0.6", g.Temperature)
	}
}

// TestResponseMapping checks a response with a thought summary, text in
// two parts, log-probabilities with alternatives (one token's
// logProbability left out, as proto3 JSON does for 0) and usage.
func TestResponseMapping(t *testing.T) {
	top := [][]tok{
		{{ID: 7, Text: "<answer>", LP: -0.125}, {ID: 8, Text: "The", LP: -2.5}},
		{{ID: 9, Text: "up", LP: 0}, {ID: 10, Text: "down", LP: -20}},
		{{ID: 11, Text: "</answer>", LP: -0.0625}},
	}
	chosen := []tok{{ID: 7, Text: "<answer>", LP: -0.125}, {ID: 9, Text: "up", LP: 0}, {ID: 11, Text: "</answer>", LP: -0.0625}}
	_, srv := newFake(t, func(n int, r *apiRequest) (int, string) {
		return http.StatusOK, response(cand{Thought: "**Weighing** the evidence.", Text: []string{"<answer>up", "</answer>"}, Finish: "STOP", Chosen: chosen, Top: top})
	})
	b := newBackend(t, srv, gemini.Config{Logprobs: 2, IncludeThoughts: true})
	ts, err := b.GenerateTraces(t.Context(), sampling.Chat("", "Is IRF1 up?"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 {
		t.Fatalf("%d traces, want 1", len(ts))
	}
	tr := ts[0]
	if want := "<think>\n**Weighing** the evidence.\n</think>\n\n<answer>up</answer>"; tr.Text != want {
		t.Errorf("Text %q, want %q", tr.Text, want)
	}
	if tr.LogProbKind != sampling.LogProbsTop(2) || tr.Note != "" {
		t.Errorf("kind %q note %q, want top-2 and no note", tr.LogProbKind, tr.Note)
	}
	if tr.Finish != sampling.FinishEOG || tr.FinishReason != "STOP" || !tr.Greedy || tr.Seed != 0 {
		t.Errorf("finish %q (%q), greedy %v, seed %d; want eog (STOP), true, 0", tr.Finish, tr.FinishReason, tr.Greedy, tr.Seed)
	}
	if want := (gemini.Usage{PromptTokens: 11, OutputTokens: 7, ThoughtTokens: 5}); tr.Usage != want {
		t.Errorf("usage %+v, want %+v", tr.Usage, want)
	}
	if len(tr.Tokens) != len(chosen) {
		t.Fatalf("%d tokens, want %d", len(tr.Tokens), len(chosen))
	}
	for i, tok := range tr.Tokens {
		c := chosen[i]
		// The values are float32s on the wire and in the SDK: exact.
		if tok.ID != c.ID || tok.Text != c.Text || tok.LogProb != float64(c.LP) {
			t.Errorf("token %d: %+v, want id %d %q logprob %g", i, tok, c.ID, c.Text, c.LP)
		}
		// The entropy over the returned alternatives, −Σ p log p, from
		// the float32 values.
		h := 0.0
		for _, a := range top[i] {
			l := float64(a.LP)
			h -= math.Exp(l) * l
		}
		if math.Abs(tok.Entropy-h) > 1e-12 {
			t.Errorf("token %d: entropy %.15g, want %.15g", i, tok.Entropy, h)
		}
	}

	// Generate: the same tokens, the kind carried on the sampling.Trace.
	gs, err := b.Generate(t.Context(), sampling.Chat("", "Is IRF1 up?"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gs[0].Tokens, ts[0].Tokens) || gs[0].LogProbKind != ts[0].LogProbKind {
		t.Errorf("Generate: %+v (kind %q), want GenerateTraces' tokens and kind %q", gs[0].Tokens, gs[0].LogProbKind, ts[0].LogProbKind)
	}

	// Without IncludeThoughts a thought part the API sent anyway is left
	// out; with Logprobs 0 the alternatives are ignored and the entropy
	// is NaN (kind top-0).
	b = newBackend(t, srv, gemini.Config{})
	ts, err = b.GenerateTraces(t.Context(), sampling.Chat("", "Is IRF1 up?"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ts[0].Text != "<answer>up</answer>" || ts[0].LogProbKind != sampling.LogProbsTop(0) || !math.IsNaN(ts[0].Tokens[0].Entropy) {
		t.Errorf("Logprobs 0: text %q kind %q entropy %g; want the answer, top-0, NaN", ts[0].Text, ts[0].LogProbKind, ts[0].Tokens[0].Entropy)
	}
}

// TestCandidates checks batches of candidates: their seeds, their order
// by index, and the fall-back to one candidate per request when the model
// refuses more.
func TestCandidates(t *testing.T) {
	// Candidates come back in reverse order of index; each says its index.
	reply := func(n int, r *apiRequest) (int, string) {
		cc := *r.Body.GenerationConfig.CandidateCount
		var cs []cand
		for i := cc - 1; i >= 0; i-- {
			cs = append(cs, cand{Index: i, Text: []string{string(rune('a' + i))}, Finish: "STOP", Chosen: []tok{{ID: 1, Text: "x", LP: -1}}})
		}
		return http.StatusOK, response(cs...)
	}
	f, srv := newFake(t, reply)
	b := newBackend(t, srv, gemini.Config{CandidateCount: 2})
	ts, err := b.Generate(t.Context(), sampling.Chat("", "q"), &sampling.Params{Samples: 3, Seed: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	// uint32(1<<40) is 0: trace k has seed k.
	var got []string
	for _, tr := range ts {
		got = append(got, tr.Text+"/"+itoa(int64(tr.Seed)))
	}
	if want := []string{"a/0", "a/1", "b/2", "a/3"}; !slices.Equal(got, want) {
		t.Errorf("traces (text/seed) %q, want %q", got, want)
	}
	var reqs []string
	for _, r := range f.got() {
		reqs = append(reqs, "seed "+itoa(r.seed())+" n "+itoa(int64(*r.Body.GenerationConfig.CandidateCount)))
	}
	if want := []string{"seed 0 n 1", "seed 1 n 2", "seed 3 n 1"}; !slices.Equal(sorted(reqs), want) {
		t.Errorf("requests %q, want %q", sorted(reqs), want)
	}

	// A model that refuses more than one candidate, as Gemini 3 models do
	// (googleapis/js-genai#1609).
	refused := 0
	f, srv = newFake(t, func(n int, r *apiRequest) (int, string) {
		if *r.Body.GenerationConfig.CandidateCount > 1 {
			refused++
			return http.StatusBadRequest, apiError(400, "INVALID_ARGUMENT", "Multiple candidates is not enabled for this model")
		}
		return reply(n, r)
	})
	b = newBackend(t, srv, gemini.Config{CandidateCount: 4, MaxConcurrency: 1})
	for range 2 {
		ts, err = b.Generate(t.Context(), sampling.Chat("", "q"), &sampling.Params{Samples: 3, Seed: 10, NoGreedy: true})
		if err != nil {
			t.Fatal(err)
		}
		for i, tr := range ts {
			if tr.Seed != 11+uint32(i) || tr.Text != "a" {
				t.Errorf("trace %d: seed %d text %q, want %d, a", i, tr.Seed, tr.Text, 11+i)
			}
		}
	}
	if refused != 1 {
		t.Errorf("%d refused requests over two calls, want 1 (the fall-back is remembered)", refused)
	}
	if n := len(f.got()); n != 1+3+3 {
		t.Errorf("%d requests, want 7", n)
	}
}

// TestFinishReasons checks how each finishReason maps.
func TestFinishReasons(t *testing.T) {
	for _, c := range []struct {
		reason string
		stop   []string
		want   sampling.FinishReason
	}{
		{"STOP", nil, sampling.FinishEOG},
		{"STOP", []string{"</answer>"}, sampling.FinishStop},
		{"MAX_TOKENS", nil, sampling.FinishLength},
		{"MAX_TOKENS", []string{"</answer>"}, sampling.FinishLength},
		{"CONTINUATION", nil, sampling.FinishLength},
		{"SAFETY", nil, gemini.FinishFiltered},
		{"RECITATION", nil, gemini.FinishFiltered},
		{"PROHIBITED_CONTENT", nil, gemini.FinishFiltered},
		{"OTHER", nil, gemini.FinishOther},
		{"MALFORMED_FUNCTION_CALL", nil, gemini.FinishOther},
		{"", nil, gemini.FinishOther},
		{"SOMETHING_NEW", nil, gemini.FinishOther},
	} {
		t.Run(c.reason+"/"+strings.Join(c.stop, ","), func(t *testing.T) {
			_, srv := newFake(t, func(n int, r *apiRequest) (int, string) {
				return http.StatusOK, response(cand{Text: []string{"partial"}, Finish: c.reason, Chosen: []tok{{ID: 3, Text: "partial", LP: -1}}})
			})
			b := newBackend(t, srv, gemini.Config{})
			ts, err := b.GenerateTraces(t.Context(), sampling.Chat("", "q"), &sampling.Params{Stop: c.stop})
			if err != nil {
				t.Fatal(err)
			}
			if ts[0].Finish != c.want || ts[0].Stop != "" || ts[0].FinishReason != c.reason {
				t.Errorf("finish %q stop %q reason %q, want %q, \"\", %q", ts[0].Finish, ts[0].Stop, ts[0].FinishReason, c.want, c.reason)
			}
		})
	}
}

// rejectLogprobs answers like the Gemini API for a model without
// log-probabilities (mscraftsman/generative-ai#135 quotes the error).
func rejectLogprobs(n int, r *apiRequest) (int, string) {
	if r.wantsLogprobs() {
		return http.StatusBadRequest, apiError(400, "INVALID_ARGUMENT", "Logprobs is not enabled for models/gemini-2.5-pro")
	}
	return simple(n, r)
}

// TestLogprobsRejected checks a model that rejects responseLogprobs: the
// request is sent again without, the traces say they have none and why,
// later calls do not ask; with RequireLogprobs it is an error.
func TestLogprobsRejected(t *testing.T) {
	f, srv := newFake(t, rejectLogprobs)
	b := newBackend(t, srv, gemini.Config{Logprobs: 5})
	ts, err := b.GenerateTraces(t.Context(), sampling.Chat("", "q"), &sampling.Params{Samples: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i, tr := range ts {
		if tr.LogProbKind != sampling.LogProbsNone || tr.Tokens != nil || tr.Text != "<answer>up</answer>" ||
			!strings.Contains(tr.Note, "Logprobs is not enabled for models/gemini-2.5-pro") {
			t.Errorf("trace %d: kind %q tokens %v text %q note %q; want none, no tokens, the text, a note quoting the API",
				i, tr.LogProbKind, tr.Tokens, tr.Text, tr.Note)
		}
	}
	first := len(f.got())
	if _, err := b.Generate(t.Context(), sampling.Chat("", "q"), &sampling.Params{Samples: 2}); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.got()[first:] {
		if r.wantsLogprobs() {
			t.Errorf("a request after the rejection asks for log-probabilities again")
		}
	}
	if n := len(f.got()) - first; n != 3 {
		t.Errorf("second call: %d requests, want 3", n)
	}

	f, srv = newFake(t, rejectLogprobs)
	b = newBackend(t, srv, gemini.Config{RequireLogprobs: true})
	_, err = b.Generate(t.Context(), sampling.Chat("", "q"), nil)
	var e *gemini.Error
	if !errors.Is(err, gemini.ErrNoLogprobs) || !errors.As(err, &e) || e.StatusCode != 400 || e.Status != "INVALID_ARGUMENT" || e.Attempts != 1 {
		t.Fatalf("RequireLogprobs: error %v (%+v), want ErrNoLogprobs in an *Error of status 400 INVALID_ARGUMENT after 1 attempt", err, e)
	}
	if n := len(f.got()); n != 1 {
		t.Errorf("RequireLogprobs: %d requests, want 1 (no retry of a 400)", n)
	}
}

// TestLogprobsMissing checks a response without the log-probabilities it
// was asked for, and Logprobs < 0.
func TestLogprobsMissing(t *testing.T) {
	f, srv := newFake(t, func(n int, r *apiRequest) (int, string) {
		return http.StatusOK, response(cand{Text: []string{"up"}, Finish: "STOP"})
	})
	b := newBackend(t, srv, gemini.Config{})
	ts, err := b.GenerateTraces(t.Context(), sampling.Chat("", "q"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ts[0].LogProbKind != sampling.LogProbsNone || ts[0].Tokens != nil || ts[0].Note == "" {
		t.Errorf("kind %q tokens %v note %q, want none, nil, a note", ts[0].LogProbKind, ts[0].Tokens, ts[0].Note)
	}

	b = newBackend(t, srv, gemini.Config{RequireLogprobs: true})
	if _, err := b.Generate(t.Context(), sampling.Chat("", "q"), nil); !errors.Is(err, gemini.ErrNoLogprobs) {
		t.Errorf("RequireLogprobs: error %v, want ErrNoLogprobs", err)
	}

	b = newBackend(t, srv, gemini.Config{Logprobs: -1})
	first := len(f.got())
	ts, err = b.GenerateTraces(t.Context(), sampling.Chat("", "q"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := f.got()[first]; r.Body.GenerationConfig.ResponseLogprobs != nil || r.Body.GenerationConfig.Logprobs != nil {
		t.Errorf("Logprobs −1: request asks for log-probabilities")
	}
	if ts[0].LogProbKind != sampling.LogProbsNone || ts[0].Text != "up" {
		t.Errorf("Logprobs −1: kind %q text %q, want none, up", ts[0].LogProbKind, ts[0].Text)
	}
}

// TestRetries checks 429 then success (honouring the API's retryDelay),
// 503 then success, 500 until the retries run out, and no retry of a 400.
func TestRetries(t *testing.T) {
	const delay = 80 * time.Millisecond
	quota := `{"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"0.08s"}]}}`
	f, srv := newFake(t, func(n int, r *apiRequest) (int, string) {
		if n == 1 {
			return http.StatusTooManyRequests, quota
		}
		return simple(n, r)
	})
	b := newBackend(t, srv, gemini.Config{})
	start := time.Now()
	ts, err := b.Generate(t.Context(), sampling.Chat("", "q"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Backoff is 1ms (newBackend): only the retryDelay explains the wait.
	if el := time.Since(start); el < delay {
		t.Errorf("429 with retryDelay %v: retried after %v", delay, el)
	}
	if len(f.got()) != 2 || ts[0].Text != "<answer>up</answer>" {
		t.Errorf("429 then 200: %d requests, text %q; want 2, the answer", len(f.got()), ts[0].Text)
	}

	f, srv = newFake(t, func(n int, r *apiRequest) (int, string) {
		if n == 1 {
			return http.StatusServiceUnavailable, apiError(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
		}
		return simple(n, r)
	})
	b = newBackend(t, srv, gemini.Config{})
	if _, err := b.Generate(t.Context(), sampling.Chat("", "q"), nil); err != nil || len(f.got()) != 2 {
		t.Errorf("503 then 200: error %v, %d requests; want nil, 2", err, len(f.got()))
	}

	f, srv = newFake(t, func(n int, r *apiRequest) (int, string) {
		return http.StatusInternalServerError, apiError(500, "INTERNAL", "An internal error has occurred.")
	})
	b = newBackend(t, srv, gemini.Config{MaxRetries: 2})
	_, err = b.Generate(t.Context(), sampling.Chat("", "q"), nil)
	var e *gemini.Error
	if !errors.As(err, &e) || e.StatusCode != 500 || e.Status != "INTERNAL" || e.Attempts != 3 || e.Message != "An internal error has occurred." {
		t.Fatalf("500s: error %v (%+v), want status 500 INTERNAL after 3 attempts", err, e)
	}
	if len(f.got()) != 3 {
		t.Errorf("500s with MaxRetries 2: %d requests, want 3", len(f.got()))
	}
	if want := "gemini: gemini-2.5-pro: status 500 INTERNAL: An internal error has occurred. (3 attempts)"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}

	f, srv = newFake(t, func(n int, r *apiRequest) (int, string) {
		return http.StatusBadRequest, apiError(400, "INVALID_ARGUMENT", "Budget 0 is invalid. This model only works in thinking mode.")
	})
	b = newBackend(t, srv, gemini.Config{})
	_, err = b.Generate(t.Context(), sampling.Prompt{Text: "q", NoThinking: true}, nil)
	if !errors.As(err, &e) || e.StatusCode != 400 || e.Attempts != 1 || len(f.got()) != 1 || errors.Is(err, gemini.ErrNoLogprobs) {
		t.Errorf("400: error %v, %d requests; want one attempt, not ErrNoLogprobs", err, len(f.got()))
	}
}

// TestMalformed checks bodies that are not the API's JSON: each is an
// error wrapping ErrMalformed, not retried, and none panics (the SDK does
// on some; see attempt).
func TestMalformed(t *testing.T) {
	for _, c := range []struct{ name, body string }{
		{"not JSON", `{"candidates": [`},
		{"text", `Service temporarily unavailable`},
		{"array", `[]`},
		{"empty", ``},
		{"no candidates", `{"usageMetadata": {"promptTokenCount": 3}}`},
		{"candidates a string", `{"candidates": "x"}`},
		{"null candidate", `{"candidates": [null]}`},
		{"null part", `{"candidates": [{"content": {"parts": [null]}, "finishReason": "STOP"}]}`},
		{"logprob a string", `{"candidates": [{"finishReason": "STOP", "logprobsResult": {"chosenCandidates": [{"token": "a", "logProbability": "high"}]}}]}`},
		{"null chosen", `{"candidates": [{"finishReason": "STOP", "logprobsResult": {"chosenCandidates": [null]}}]}`},
		{"top and chosen differ", `{"candidates": [{"content": {"parts": [{"text": "ab"}]}, "finishReason": "STOP", "logprobsResult": {"chosenCandidates": [{"token": "a"}, {"token": "b"}], "topCandidates": [{"candidates": [{"token": "a"}]}]}}]}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, srv := newFake(t, func(n int, r *apiRequest) (int, string) { return http.StatusOK, c.body })
			b := newBackend(t, srv, gemini.Config{Logprobs: 1})
			_, err := b.Generate(t.Context(), sampling.Chat("", "q"), nil)
			if !errors.Is(err, gemini.ErrMalformed) {
				t.Fatalf("error %v, want ErrMalformed", err)
			}
			if len(f.got()) != 1 {
				t.Errorf("%d requests, want 1", len(f.got()))
			}
			if len(err.Error()) > 600 {
				t.Errorf("error of %d bytes: %.200s…", len(err.Error()), err)
			}
		})
	}
}

// TestBlocked checks a prompt the API refuses.
func TestBlocked(t *testing.T) {
	_, srv := newFake(t, func(n int, r *apiRequest) (int, string) {
		return http.StatusOK, `{"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "usageMetadata": {"promptTokenCount": 3}}`
	})
	b := newBackend(t, srv, gemini.Config{})
	_, err := b.Generate(t.Context(), sampling.Chat("", "q"), nil)
	if !errors.Is(err, gemini.ErrBlocked) || !strings.Contains(err.Error(), "PROHIBITED_CONTENT") {
		t.Errorf("error %v, want ErrBlocked naming PROHIBITED_CONTENT", err)
	}
}

// TestCancellation checks that cancelling the context ends a call whose
// request is in flight, with the context's error, and that Timeout ends
// an attempt and is retried.
func TestCancellation(t *testing.T) {
	arrived := make(chan struct{}, 8)
	f, srv := newFake(t, func(n int, r *apiRequest) (int, string) {
		arrived <- struct{}{}
		<-r.Context.Done() // until the client hangs up
		return http.StatusOK, response(cand{Text: []string{"late"}, Finish: "STOP"})
	})
	b := newBackend(t, srv, gemini.Config{})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	start := time.Now()
	_, err := b.Generate(ctx, sampling.Chat("", "q"), &sampling.Params{Samples: 3})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("returned %v after the cancellation", el)
	}
	if n := len(f.got()); n > 4 {
		t.Errorf("%d requests, want at most 4 (no retries after the cancellation)", n)
	}

	f, srv = newFake(t, func(n int, r *apiRequest) (int, string) {
		<-r.Context.Done()
		return http.StatusOK, "{}"
	})
	b = newBackend(t, srv, gemini.Config{Timeout: 20 * time.Millisecond, MaxRetries: 1})
	_, err = b.Generate(t.Context(), sampling.Chat("", "q"), nil)
	var e *gemini.Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &e) || e.Attempts != 2 || !strings.Contains(err.Error(), "Timeout of 20ms") {
		t.Errorf("Timeout: error %v, want DeadlineExceeded naming the Timeout after 2 attempts", err)
	}
	if len(f.got()) != 2 {
		t.Errorf("Timeout with MaxRetries 1: %d requests, want 2", len(f.got()))
	}
}

// TestConcurrency checks that MaxConcurrency bounds the requests in
// flight.
func TestConcurrency(t *testing.T) {
	f, srv := newFake(t, func(n int, r *apiRequest) (int, string) {
		time.Sleep(20 * time.Millisecond)
		return simple(n, r)
	})
	b := newBackend(t, srv, gemini.Config{MaxConcurrency: 2})
	if _, err := b.Generate(t.Context(), sampling.Chat("", "q"), &sampling.Params{Samples: 7}); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.maxIn != 2 || len(f.requests) != 8 {
		t.Errorf("%d requests, at most %d at once; want 8, 2", len(f.requests), f.maxIn)
	}
}

// TestKeyNeverShown checks that the key reaches the API in its header and
// nowhere else: not in errors (also when the API quotes it, or no server
// answers) and not in the log.
func TestKeyNeverShown(t *testing.T) {
	var logged bytes.Buffer
	prev, flags := log.Writer(), log.Flags()
	log.SetOutput(&logged)
	t.Cleanup(func() { log.SetOutput(prev); log.SetFlags(flags) })
	// Both of the variables the SDK looks at, so that it logs its warning.
	t.Setenv("GOOGLE_API_KEY", testKey)
	t.Setenv("GEMINI_API_KEY", testKey)

	f, srv := newFake(t, func(n int, r *apiRequest) (int, string) {
		return http.StatusBadRequest, apiError(400, "INVALID_ARGUMENT", "API key not valid: "+r.Key+". Please pass a valid API key.")
	})
	b := newBackend(t, srv, gemini.Config{})
	_, err := b.Generate(t.Context(), sampling.Chat("", "q"), nil)
	if err == nil || strings.Contains(err.Error(), testKey) || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("error %q: want one with the key redacted", err)
	}
	if got := f.got(); len(got) != 1 || got[0].Key != testKey {
		t.Errorf("the API did not get the key in x-goog-api-key")
	}

	srv.Close() // connection refused from now on
	b = newBackend(t, srv, gemini.Config{MaxRetries: 1})
	_, err = b.Generate(t.Context(), sampling.Chat("", "q"), nil)
	var e *gemini.Error
	if !errors.As(err, &e) || e.StatusCode != 0 || e.Attempts != 2 || strings.Contains(err.Error(), testKey) {
		t.Errorf("no server: error %v, want a connection error after 2 attempts, without the key", err)
	}
	if strings.Contains(logged.String(), testKey) {
		t.Errorf("the key was logged: %q", logged.String())
	}
}

// TestAPIKeyEnv checks where New finds the key.
func TestAPIKeyEnv(t *testing.T) {
	for _, c := range []struct {
		name           string
		gemini, google string
		env            string // Config.APIKeyEnv
		want           string // the key sent, "" for ErrNoAPIKey
	}{
		{"GEMINI_API_KEY", "g1", "", "", "g1"},
		{"GEMINI_API_KEY first", "g1", "g2", "", "g1"},
		{"GOOGLE_API_KEY fallback", "", "g2", "", "g2"},
		{"none", "", "", "", ""},
		{"APIKeyEnv only", "g1", "g2", "MY_KEY", "mine"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("GEMINI_API_KEY", c.gemini)
			t.Setenv("GOOGLE_API_KEY", c.google)
			t.Setenv("MY_KEY", "mine")
			var sent string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sent = r.Header.Get("x-goog-api-key")
				w.Write([]byte(response(cand{Text: []string{"ok"}, Finish: "STOP"})))
			}))
			defer srv.Close()
			b, err := gemini.New(t.Context(), &gemini.Config{BaseURL: srv.URL, APIKeyEnv: c.env, Logprobs: -1})
			if c.want == "" {
				if !errors.Is(err, gemini.ErrNoAPIKey) || !strings.Contains(err.Error(), "GEMINI_API_KEY") {
					t.Errorf("error %v, want ErrNoAPIKey naming GEMINI_API_KEY", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Generate(t.Context(), sampling.Chat("", "q"), nil); err != nil {
				t.Fatal(err)
			}
			if sent != c.want {
				t.Errorf("sent key %q, want %q", sent, c.want)
			}
		})
	}
}

// TestBadInput checks the errors of settings and prompts the API cannot
// take, before any request.
func TestBadInput(t *testing.T) {
	f, srv := newFake(t, simple)
	b := newBackend(t, srv, gemini.Config{})
	for _, c := range []struct {
		name   string
		prompt sampling.Prompt
		p      *sampling.Params
		want   string
	}{
		{"MinP", sampling.Chat("", "q"), &sampling.Params{MinP: 0.05}, "gemini: MinP 0.05"},
		{"Samples", sampling.Chat("", "q"), &sampling.Params{Samples: -1}, "gemini: sampling: Samples -1 < 0"},
		{"empty prompt", sampling.Prompt{}, nil, "gemini: empty prompt"},
		{"unknown role", sampling.Prompt{Messages: []sampling.Message{{Role: "tool", Content: "x"}}}, nil, `gemini: message 0: unknown role "tool"`},
		{"late system", sampling.Prompt{Messages: []sampling.Message{{Role: "user", Content: "x"}, {Role: "system", Content: "y"}}}, nil, "gemini: message 1: a system message"},
		{"system only", sampling.Prompt{Messages: []sampling.Message{{Role: "system", Content: "y"}}}, nil, "gemini: a chat prompt with no user message"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := b.Generate(t.Context(), c.prompt, c.p)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("error %v, want one starting %q", err, c.want)
			}
		})
	}
	if n := len(f.got()); n != 0 {
		t.Errorf("%d requests for bad input, want 0", n)
	}

	t.Setenv(keyEnv, testKey)
	for _, c := range []struct {
		name string
		c    gemini.Config
		want string
	}{
		{"Logprobs", gemini.Config{Logprobs: 21}, "gemini: Logprobs 21 > 20, the API's maximum"},
		{"BaseURL", gemini.Config{BaseURL: "ftp://user:pw@example.com"}, `gemini: BaseURL "ftp://example.com" is not an http(s) URL`},
		{"CandidateCount", gemini.Config{CandidateCount: -2}, "gemini: CandidateCount -2 out of range"},
		{"ThinkingBudget", gemini.Config{ThinkingBudget: -1}, "gemini: ThinkingBudget -1 out of range"},
		{"MaxConcurrency", gemini.Config{MaxConcurrency: -1}, "gemini: MaxConcurrency -1 < 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.c.APIKeyEnv = keyEnv
			_, err := gemini.New(t.Context(), &c.c)
			if err == nil || err.Error() != c.want {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}
