package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/score"
)

// fakeServer is a stand-in for an OpenAI-compatible server: it answers
// POST /v1/chat/completions with n choices, each a short PerturbQA-shaped
// trace with every token's log-probability and top_logprobs alternatives,
// as OpenAI's API lays them out. Everything is a function of the messages
// and the seed: the greedy answer (temperature 0) is fixed by the
// messages, and a sampled one (seed s, choice j drawing with s+j) agrees
// with it with a probability the messages fix too.
func fakeServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages    []map[string]string `json:"messages"`
			Temperature float64             `json:"temperature"`
			Seed        uint32              `json:"seed"`
			N           int                 `json:"n"`
			MaxTokens   int                 `json:"max_tokens"`
			Logprobs    bool                `json:"logprobs"`
			TopLogprobs int                 `json:"top_logprobs"`
		}
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Messages) == 0 || req.N < 1 || !req.Logprobs {
			http.Error(w, fmt.Sprintf("bad request (%v)", err), http.StatusBadRequest)
			return
		}
		prompt, err := json.Marshal(req.Messages)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		var choices []any
		for j := range req.N {
			choices = append(choices, fakeChoice(j, string(prompt), req.Temperature == 0, req.Seed+uint32(j), req.MaxTokens, req.TopLogprobs))
		}
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(map[string]any{"object": "chat.completion", "choices": choices}); err != nil {
			t.Errorf("fake server: %v", err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// hash returns a number in [0, 1) from the FNV-1a hash of parts.
func hash(parts ...any) float64 {
	h := fnv.New64a()
	fmt.Fprint(h, parts...)
	return float64(h.Sum64()>>11) / (1 << 53)
}

// fakeChoice is choice index of a reply: the trace for prompt, greedy or
// drawn with seed.
func fakeChoice(index int, prompt string, greedy bool, seed uint32, maxTokens, top int) map[string]any {
	answers := []string{"up", "down", "not differentially expressed"}
	a := int(hash(prompt, "answer") * 3)
	if !greedy && hash(prompt, seed, "agree") > 0.4+0.55*hash(prompt, "agreement") {
		a = (a + 1 + int(hash(prompt, seed, "other")*2)) % 3
	}
	key := any(seed)
	if greedy {
		key = "greedy"
	}
	words := strings.SplitAfter("<think>The knockdown may change the expression of the target gene.</think>\n<answer>"+answers[a]+"</answer>", " ")
	finish := "stop"
	if len(words) > maxTokens {
		words, finish = words[:maxTokens], "length"
	}
	var text strings.Builder
	content := []any{}
	for i, tok := range words {
		text.WriteString(tok)
		// The token's probability p, and alternatives that share 1 − p:
		// half of it, a quarter, …
		lp := -0.02 - 1.5*hash(prompt, key, i)
		alts := []any{map[string]any{"token": tok, "logprob": lp}}
		for k := 1; k < top; k++ {
			alts = append(alts, map[string]any{"token": fmt.Sprintf(" alt%d", k), "logprob": math.Log(-math.Expm1(lp)) - float64(k)*math.Ln2})
		}
		content = append(content, map[string]any{"token": tok, "logprob": lp, "top_logprobs": alts})
	}
	return map[string]any{
		"index":         index,
		"finish_reason": finish,
		"message":       map[string]any{"role": "assistant", "content": text.String()},
		"logprobs":      map[string]any{"content": content},
	}
}

var (
	perts = []string{"STAT1", "GATA1", "MYC", "TP53"}
	genes = []string{"IRF1", "HBG1", "CD38", "NPM1", "CDKN1A", "TAL1", "SOCS3", "MDM2", "KLF1", "GBP1", "LMO2", "RPL3", "BAX"}
)

// writeData writes a PerturbQA-shaped k562 data set of n train pairs
// (every third one differentially expressed, alternately up and down) into
// a new directory under t.TempDir and returns it.
func writeData(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var de, dirCSV bytes.Buffer
	de.WriteString("pert,gene,label,split\n")
	dirCSV.WriteString("pert,gene,label,split\n")
	for i := range n {
		pert, gene := perts[i%len(perts)], genes[i%len(genes)]
		if i%3 == 0 {
			fmt.Fprintf(&de, "%s,%s,1,train\n", pert, gene)
			fmt.Fprintf(&dirCSV, "%s,%s,%d,train\n", pert, gene, i%2)
		} else {
			fmt.Fprintf(&de, "%s,%s,0,train\n", pert, gene)
		}
	}
	for name, b := range map[string][]byte{"k562-de.csv": de.Bytes(), "k562-dir.csv": dirCSV.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// checkRun runs the example against the server at baseURL on six
// questions and checks what it prints and writes.
func checkRun(t *testing.T, baseURL string, extra ...string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	args := append([]string{"-base-url", baseURL, "-data", writeData(t, 12), "-n", "6", "-k", "4", "-max-tokens", "48", "-out", out}, extra...)
	var stdout bytes.Buffer
	if err := run(t.Context(), args, &stdout); err != nil {
		t.Fatal(err)
	}
	t.Logf("output:\n%s", stdout.String())
	lines := strings.Split(stdout.String(), "\n")
	for i, prefix := range []string{"sample: 6 questions (0 already done), r0 + 4 samples each", "score:  6 groups", "", "least uncertain first, by cocoa-ppl:", "rank"} {
		if i >= len(lines) || !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d of the output does not start with %q", i+1, prefix)
		}
	}
	if n := strings.Count(stdout.String(), "\n"); n != 5+6 {
		t.Errorf("%d lines of output, want 11 (a row per question)", n)
	}

	h, groups, err := sampling.ReadFile(filepath.Join(out, "traces.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if h.Backend != "openai" || len(groups) != 6 {
		t.Errorf("trace file: backend %q, %d groups; want openai, 6", h.Backend, len(groups))
	}
	for _, g := range groups {
		if len(g.Traces) != 5 || !g.Traces[0].Greedy {
			t.Errorf("group %s: %d traces; want r0 first and 4 samples", g.Item.ID, len(g.Traces))
			continue
		}
		for i, tr := range g.Traces {
			if tr.LogProbKind != sampling.LogProbsTop(5) || len(tr.LogProbs) == 0 || !tr.Answer.OK || tr.Finish != sampling.FinishStop {
				t.Errorf("group %s, trace %d: kind %q, %d log-probabilities, answer %+v, finish %s; want top-5, some, parsed, stop",
					g.Item.ID, i, tr.LogProbKind, len(tr.LogProbs), tr.Answer, tr.Finish)
			}
		}
	}
	_, recs, err := score.ReadFile(filepath.Join(out, "scores.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if len(r.Errors) > 0 {
			t.Errorf("group %s: estimator errors %v", r.ID, r.Errors)
		}
	}
}

// TestFakeServer runs the example against an in-process stand-in for an
// OpenAI-compatible server.
func TestFakeServer(t *testing.T) {
	checkRun(t, fakeServer(t).URL+"/v1")
}

// TestFlags checks that bad counts are errors.
func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-n", "0"},
		{"-parallel", "0"},
		{"-top-logprobs", "0"},
		{"-base-url", "ftp://example.com"},
	} {
		if err := run(t.Context(), append(args, "-data", t.TempDir()), new(bytes.Buffer)); err == nil {
			t.Errorf("run(%q) succeeded, want an error", args)
		}
	}
}
