package web

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labelfree/labelfree/annotate"
	"github.com/labelfree/labelfree/sampling"
)

// testItems returns n items; item 1's texts hold markup, which must show
// as text.
func testItems(n int) []Item {
	items := make([]Item, n)
	for i := range items {
		p, h := 0.25, 1.5
		items[i] = Item{
			ID: fmt.Sprintf("k562/GENE%d/TARGET%d", i+1, i+1), Question: fmt.Sprintf("Does knocking down GENE%d change TARGET%d?", i+1, i+1),
			Reasoning: "GENE binds the promoter.", Answer: "<answer>up</answer>", Class: "up",
			Estimator: "cocoa-ppl", U: 0.123456 + float64(i), Quantile: i % 4,
			Spans: []Span{{Text: "<think>", P: &p, H: &h}, {Text: "\nGENE binds"}},
		}
	}
	items[0].Question = `<script>window.pwned = 1</script> & "quoted"`
	items[0].Reasoning = `<img src=x onerror="window.pwned = 2"> reasoning`
	return items
}

// newTestServer returns a Server on dir with n items and a fixed clock.
func newTestServer(t *testing.T, dir string, n int) *Server {
	t.Helper()
	clock := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	s, err := New(Config{Items: testItems(n), Dir: dir, Quantiles: 4, Now: func() time.Time {
		clock = clock.Add(time.Second)
		return clock
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// do sends a request to s and returns the response's status and body.
func do(t *testing.T, s http.Handler, method, target string, form url.Values, header map[string]string) (int, string, http.Header) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if !strings.HasPrefix(target, "http") {
		req.Host = "127.0.0.1:8377"
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String(), rec.Header()
}

func rating(id, correct, soundness, comment string) url.Values {
	return url.Values{"id": {id}, "correct": {correct}, "soundness": {soundness}, "comment": {comment}}
}

var jsonAccept = map[string]string{"Accept": "application/json"}

func TestRateAndResume(t *testing.T) {
	dir := t.TempDir()
	s := newTestServer(t, dir, 6)
	items := testItems(6)
	for i := range 3 {
		code, body, _ := do(t, s, "POST", fmt.Sprintf("/a/alice/%d/rating", i+1), rating(items[i].ID, "yes", fmt.Sprint(i+2), "ok"), jsonAccept)
		if code != http.StatusOK || !strings.Contains(body, `"saved"`) {
			t.Fatalf("rating %d: %d %s", i+1, code, body)
		}
	}
	// A changed mind: item 2 again, as a new line.
	if code, body, _ := do(t, s, "POST", "/a/alice/2/rating", rating(items[1].ID, "no", "1", "changed"), jsonAccept); code != http.StatusOK {
		t.Fatalf("second rating: %d %s", code, body)
	}
	// Without JavaScript the form redirects to the next item.
	if code, _, h := do(t, s, "POST", "/a/bob/1/rating", rating(items[0].ID, "no", "3", ""), nil); code != http.StatusSeeOther || h.Get("Location") != "/a/bob/2" {
		t.Errorf("form post: %d to %q, want 303 to /a/bob/2", code, h.Get("Location"))
	}
	s.Close()

	// The file holds every line; the latest rating of item 2 wins.
	ratings, torn, err := annotate.ReadFile(filepath.Join(dir, "alice.jsonl"))
	if err != nil || torn != nil {
		t.Fatal(err, torn)
	}
	if len(ratings) != 3 || ratings[1].Soundness != 1 || ratings[1].Correct || ratings[1].Comment != "changed" {
		t.Errorf("latest ratings = %+v", ratings)
	}
	if _, err := os.Stat(filepath.Join(dir, "bob.jsonl")); err != nil {
		t.Errorf("bob's ratings are not in their own file: %v", err)
	}

	// A restarted server resumes each annotator where they stopped.
	s2 := newTestServer(t, dir, 6)
	for _, c := range []struct{ who, want string }{{"alice", "/a/alice/4"}, {"bob", "/a/bob/2"}, {"carol", "/a/carol/1"}} {
		if code, _, h := do(t, s2, "GET", "/a/"+c.who+"/", nil, nil); code != http.StatusSeeOther || h.Get("Location") != c.want {
			t.Errorf("%s resumes at %d %q, want %q", c.who, code, h.Get("Location"), c.want)
		}
	}
	// The page of a rated item shows the rating.
	_, body, _ := do(t, s2, "GET", "/a/alice/2", nil, nil)
	for _, want := range []string{`value="no" checked`, `value="1" required checked`, ">changed</textarea>"} {
		if !strings.Contains(body, want) {
			t.Errorf("item 2's page lacks %q", want)
		}
	}
	// The start page lists who rated how much.
	_, body, _ = do(t, s2, "GET", "/", nil, nil)
	if !strings.Contains(body, "<td>3 of 6</td>") || !strings.Contains(body, "<td>1 of 6</td>") {
		t.Errorf("start page progress missing:\n%s", body)
	}
}

func TestResumeAfterAllRated(t *testing.T) {
	s := newTestServer(t, t.TempDir(), 2)
	for i, it := range testItems(2) {
		do(t, s, "POST", fmt.Sprintf("/a/al/%d/rating", i+1), rating(it.ID, "yes", "5", ""), jsonAccept)
	}
	if _, _, h := do(t, s, "GET", "/a/al/", nil, nil); h.Get("Location") != "/a/al/2" {
		t.Errorf("all rated: resumes at %q, want the last item", h.Get("Location"))
	}
}

func TestTornLineIsCut(t *testing.T) {
	dir := t.TempDir()
	s := newTestServer(t, dir, 5)
	items := testItems(5)
	for i := range 3 {
		do(t, s, "POST", fmt.Sprintf("/a/alice/%d/rating", i+1), rating(items[i].ID, "yes", "4", ""), jsonAccept)
	}
	s.Close()
	// A crash in the middle of a write leaves a torn last line.
	f, err := os.OpenFile(filepath.Join(dir, "alice.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"annotator":"alice","id":"` + items[3].ID + `","corr`)
	f.Close()
	s2 := newTestServer(t, dir, 5)
	if _, _, h := do(t, s2, "GET", "/a/alice/", nil, nil); h.Get("Location") != "/a/alice/4" {
		t.Errorf("after a torn line: resumes at %q, want /a/alice/4", h.Get("Location"))
	}
	if code, body, _ := do(t, s2, "POST", "/a/alice/4/rating", rating(items[3].ID, "no", "2", ""), jsonAccept); code != http.StatusOK {
		t.Fatalf("rating after repair: %d %s", code, body)
	}
	s2.Close()
	ratings, torn, err := annotate.ReadFile(filepath.Join(dir, "alice.jsonl"))
	if err != nil || torn != nil || len(ratings) != 4 {
		t.Errorf("after repair: %d ratings, torn %v, err %v; want 4 clean", len(ratings), torn, err)
	}
}

func TestBlind(t *testing.T) {
	s := newTestServer(t, t.TempDir(), 3)
	items := testItems(3)
	_, page, _ := do(t, s, "GET", "/a/alice/2", nil, nil)
	for _, secret := range []string{"1.123456", "cocoa-ppl", "0.25"} {
		if strings.Contains(page, secret) {
			t.Errorf("the unrated page shows %q", secret)
		}
	}
	if !strings.Contains(page, `id="toggle" disabled`) {
		t.Error("the shading toggle is enabled before rating")
	}
	if code, _, _ := do(t, s, "GET", "/a/alice/2/tokens", nil, nil); code != http.StatusForbidden {
		t.Errorf("tokens before rating: %d, want 403", code)
	}
	do(t, s, "POST", "/a/alice/2/rating", rating(items[1].ID, "yes", "4", ""), jsonAccept)
	code, body, _ := do(t, s, "GET", "/a/alice/2/tokens", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("tokens after rating: %d %s", code, body)
	}
	var got tokensReply
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.U != items[1].U || got.Quantile != 2 || got.Quantiles != 4 || got.Estimator != "cocoa-ppl" || len(got.Spans) != 2 || *got.Spans[0].P != 0.25 {
		t.Errorf("tokens = %+v", got)
	}
	// Another annotator's rating reveals nothing to bob.
	if code, _, _ := do(t, s, "GET", "/a/bob/2/tokens", nil, nil); code != http.StatusForbidden {
		t.Errorf("bob's tokens after alice rated: %d, want 403", code)
	}
}

func TestEscapesTraceText(t *testing.T) {
	s := newTestServer(t, t.TempDir(), 2)
	items := testItems(2)
	do(t, s, "POST", "/a/alice/1/rating", rating(items[0].ID, "yes", "4", `</textarea><script>window.pwned = 3</script>`), jsonAccept)
	_, page, h := do(t, s, "GET", "/a/alice/1", nil, nil)
	for _, bad := range []string{"<script>window", "<img src=x", "</textarea><script>"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page holds raw markup %q", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;window.pwned = 1&lt;/script&gt; &amp; &#34;quoted&#34;", "&lt;img src=x onerror=&#34;window.pwned = 2&#34;&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks the escaped text %q", want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
}

func TestRejectsMalformedPosts(t *testing.T) {
	dir := t.TempDir()
	s := newTestServer(t, dir, 3)
	id := testItems(3)[1].ID
	good := rating(id, "yes", "4", "fine")
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range good {
			f[kk] = vv
		}
		f.Set(k, v)
		return f
	}
	without := func(k string) url.Values {
		f := with("x", "")
		f.Del("x")
		f.Del(k)
		return f
	}
	twice := with("soundness", "4")
	twice.Add("soundness", "5")
	tests := []struct {
		name   string
		target string
		form   url.Values
		header map[string]string
		code   int
		says   string
	}{
		{"no id", "/a/alice/2/rating", without("id"), nil, 400, `no field "id"`},
		{"another item's id", "/a/alice/2/rating", with("id", testItems(3)[0].ID), nil, 400, "reload the page"},
		{"correct maybe", "/a/alice/2/rating", with("correct", "maybe"), nil, 400, "want yes or no"},
		{"no correct", "/a/alice/2/rating", without("correct"), nil, 400, `no field "correct"`},
		{"soundness 0", "/a/alice/2/rating", with("soundness", "0"), nil, 400, "want 1 to 5"},
		{"soundness 6", "/a/alice/2/rating", with("soundness", "6"), nil, 400, "want 1 to 5"},
		{"soundness text", "/a/alice/2/rating", with("soundness", "four"), nil, 400, "want 1 to 5"},
		{"soundness twice", "/a/alice/2/rating", twice, nil, 400, "given 2 times"},
		{"unknown field", "/a/alice/2/rating", with("u", "0.1"), nil, 400, `unknown field "u"`},
		{"comment too long", "/a/alice/2/rating", with("comment", strings.Repeat("x", annotate.MaxComment+1)), nil, 400, "at most 4000 bytes"},
		{"comment not UTF-8", "/a/alice/2/rating", with("comment", "\xff\xfe"), nil, 400, "UTF-8"},
		{"body too large", "/a/alice/2/rating", with("comment", strings.Repeat("é", maxBody)), nil, 413, "too large"},
		{"JSON body", "/a/alice/2/rating", good, map[string]string{"Content-Type": "application/json"}, 415, "x-www-form-urlencoded"},
		{"no such item", "/a/alice/9/rating", good, nil, 404, "items are 1 to 3"},
		{"item zero", "/a/alice/0/rating", good, nil, 404, "items are 1 to 3"},
		{"bad annotator name", "/a/..%2Fetc/2/rating", good, nil, 400, "annotator name"},
		{"cross-site post", "/a/alice/2/rating", good, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 403, "cross-origin"},
		{"another host", "http://evil.example/a/alice/2/rating", good, nil, 421, "evil.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body, _ := do(t, s, "POST", tt.target, tt.form, tt.header)
			if code != tt.code || !strings.Contains(body, tt.says) {
				t.Errorf("status %d %q, want %d saying %q", code, strings.TrimSpace(body), tt.code, tt.says)
			}
		})
	}
	if code, _, _ := do(t, s, "GET", "/a/alice/2/rating", nil, nil); code != http.StatusMethodNotAllowed {
		t.Errorf("GET of the rating URL: %d, want 405", code)
	}
	// Nothing of the above was saved.
	b, _ := os.ReadFile(filepath.Join(dir, "alice.jsonl"))
	if len(b) != 0 {
		t.Errorf("rejected posts wrote %q", b)
	}
	// The good post is accepted, also when named by the other loopback names.
	for _, host := range []string{"127.0.0.1:8377", "localhost", "[::1]:80"} {
		req := httptest.NewRequest("POST", "/a/alice/2/rating", strings.NewReader(good.Encode()))
		req.Host = host
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther {
			t.Errorf("host %s: %d %s", host, rec.Code, rec.Body)
		}
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o644)
	dup := testItems(2)
	dup[1].ID = dup[0].ID
	for _, c := range []Config{
		{Dir: dir},
		{Items: testItems(1), Dir: filepath.Join(dir, "missing")},
		{Items: testItems(1), Dir: file},
		{Items: dup, Dir: dir},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%d items, %s) did not fail", len(c.Items), c.Dir)
		}
	}
}

// pieces is a TokenTexter over a fixed table.
type pieces map[int32]string

func (p pieces) TokenText(t int32) (string, error) {
	s, ok := p[t]
	if !ok {
		return "", fmt.Errorf("no token %d", t)
	}
	return s, nil
}

func TestSpans(t *testing.T) {
	// "é" is 0xC3 0xA9: tokens 2 and 3 each hold one byte of it.
	tt := pieces{1: "caf", 2: "\xc3", 3: "\xa9", 4: " <b>", 5: "x"}
	tr := &sampling.TraceRecord{Text: "café <b>", TokenIDs: []int32{1, 2, 3, 4},
		LogProbs: []float64{-0.1, -0.2, -0.3, math.Inf(-1)}, Entropies: []float64{0.5, 2, 1, 0}}
	spans, why, err := Spans(tr, tt)
	if err != nil || why != "" {
		t.Fatal(err, why)
	}
	want := []struct {
		text string
		p, h float64
	}{{"caf", math.Exp(-0.1), 0.5}, {"é", math.Exp(-0.5), 2}, {" <b>", 0, 0}}
	if len(spans) != len(want) {
		t.Fatalf("%d spans, want %d: %+v", len(spans), len(want), spans)
	}
	for i, w := range want {
		s := spans[i]
		if s.Text != w.text || math.Abs(*s.P-w.p) > 1e-15 || *s.H != w.h {
			t.Errorf("span %d = %q p %v h %v, want %q p %v h %v", i, s.Text, *s.P, *s.H, w.text, w.p, w.h)
		}
	}
	for _, c := range []struct {
		name string
		tr   sampling.TraceRecord
		tt   TokenTexter
		why  string
	}{
		{"no tokenizer", *tr, nil, "no tokenizer"},
		{"no ids", sampling.TraceRecord{Text: "x", LogProbs: []float64{0}}, tt, "no token ids"},
		{"no log-probabilities", sampling.TraceRecord{Text: "x", TokenIDs: []int32{5}}, tt, "no log-probabilities"},
		{"another tokenizer", sampling.TraceRecord{Text: "y", TokenIDs: []int32{5}, LogProbs: []float64{0}}, tt, "do not make up"},
	} {
		spans, why, err := Spans(&c.tr, c.tt)
		if err != nil || spans != nil || !strings.Contains(why, c.why) {
			t.Errorf("%s: %v, %q, %v; want no spans because %q", c.name, spans, why, err, c.why)
		}
	}
	if _, _, err := Spans(&sampling.TraceRecord{Text: "x", TokenIDs: []int32{7}, LogProbs: []float64{0}}, tt); err == nil {
		t.Error("a token the tokenizer lacks is not an error")
	}
}

func TestNewItem(t *testing.T) {
	g := &sampling.Group{Item: sampling.Item{ID: "g1"}, Prompt: sampling.Chat("Be careful.", "Does A change B?"),
		Traces: []sampling.TraceRecord{
			{Seed: 3, Text: "<think>no</think>down"},
			{Greedy: true, Text: "<think>\nA binds B.\n</think>\n\n<answer>up</answer>", Answer: sampling.Answer{Class: "up", OK: true}},
		}}
	it, err := NewItem(g, annotate.Candidate{ID: "g1", Class: "up", U: 0.5}, "ppl", 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if it.System != "Be careful." || it.Question != "Does A change B?" || it.Reasoning != "A binds B." ||
		it.Answer != "<answer>up</answer>" || it.Unclosed || it.Class != "up" || it.U != 0.5 || it.Quantile != 2 || it.Estimator != "ppl" {
		t.Errorf("item = %+v", it)
	}
	g.Traces[1].Text = "no reasoning block"
	if it, _ := NewItem(g, annotate.Candidate{ID: "g1"}, "ppl", 0, nil); !it.Unclosed || it.Answer != "no reasoning block" || it.Reasoning != "" {
		t.Errorf("unclosed item = %+v", it)
	}
	g.Traces[1].Greedy = false
	if _, err := NewItem(g, annotate.Candidate{ID: "g1"}, "ppl", 0, nil); err == nil {
		t.Error("a group without r0 is not an error")
	}
}
