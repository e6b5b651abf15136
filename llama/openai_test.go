//go:build cgo

package llama_test

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labelfree/labelfree/internal/gguf"
	"github.com/labelfree/labelfree/llama"
	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/openai"
)

// llama-server is llama.cpp's OpenAI-compatible server, built from the same
// pinned source against the same libraries as this package by
// `scripts/llamacpp-bench.sh --linked server`; `make test` builds it and
// sets LABELFREE_LLAMA_SERVER to it.

// llamaServer returns the llama-server binary named by
// LABELFREE_LLAMA_SERVER, and skips the test when that is unset.
func llamaServer(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("LABELFREE_LLAMA_SERVER")
	if bin == "" {
		t.Skip("set LABELFREE_LLAMA_SERVER to a llama-server binary (`make test` builds one with scripts/llamacpp-bench.sh --linked server)")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("LABELFREE_LLAMA_SERVER: %v", err)
	}
	return bin
}

// startLlamaServer starts llama-server bin on a free loopback port with the
// model at path in the exact configuration (F32 KV cache, flash attention
// off), one thread, slots parallel slots of 512 tokens each, and returns its
// API's base URL once /health answers.
func startLlamaServer(t *testing.T, bin, path string, slots int) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	logPath := filepath.Join(t.TempDir(), "llama-server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-m", path, "--host", "127.0.0.1", "--port", port,
		"-t", "1", "-tb", "1", "-c", strconv.Itoa(512*slots), "-np", strconv.Itoa(slots),
		"-ctk", "f32", "-ctv", "f32", "-fa", "off")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logFile.Close() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	logTail := func() string {
		b, _ := os.ReadFile(logPath)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		return strings.Join(lines[max(0, len(lines)-20):], "\n")
	}
	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("llama-server exited (%v):\n%s", err, logTail())
		default:
		}
		if res, err := http.Get(base + "/health"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base + "/v1"
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("llama-server did not become healthy within 60s:\n%s", logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// asciiOnly is a logit_bias that bans the tokens of bytes ≥ 0x80, so that
// the tiny model writes ASCII: llama-server gives no log-probability to a
// token after which the text ends inside a UTF-8 character (the client
// then reports the trace as kind "none"), and the random model writes
// such bytes all the time. The bias acts on sampling only: the returned
// log-probabilities stay those of the raw logits.
func asciiOnly() map[string]any {
	bias := make(map[string]any)
	for b := 0x80; b < 0x100; b++ {
		bias[strconv.Itoa(b)] = false
	}
	return bias
}

// TestOpenAIServerLogProbs checks that llama-server's log-probabilities
// agree with this package's: for raw and chat prompts, the greedy trace
// and three sampled ones, every token's log-probability as the server
// returned it, and its entropy over the alternatives (all of the
// vocabulary's), are compared with Session.Score on the same prompt and
// tokens, both in the exact configuration, to 1e-4 (they agree to a few
// 1e-6: the same code on both sides, but the server takes the log of a
// float32 probability).
func TestOpenAIServerLogProbs(t *testing.T) {
	bin := llamaServer(t)
	path := tinyModel(t, gguf.F32)
	base := startLlamaServer(t, bin, path, 2)
	m := load(t, path)
	s := exactSession(t, m, 1)
	const tol = 1e-4
	c, err := openai.New(&openai.Config{BaseURL: base, MaxConcurrency: 2, TopLogprobs: m.VocabSize(),
		ExtraBody: map[string]any{"logit_bias": asciiOnly()}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	params := &sampling.Params{Samples: 3, MaxTokens: 24, Seed: 7}
	worstLP, worstH, n := 0.0, 0.0, 0
	for _, tc := range []struct {
		name   string
		prompt sampling.Prompt
	}{
		{"raw", sampling.Prompt{Text: genPrompt}},
		{"chat", sampling.Chat("Be brief.", "Is IRF1 up when STAT1 is knocked down?")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := tc.prompt.Text
			if len(tc.prompt.Messages) > 0 {
				if text, err = m.ChatTemplate(tc.prompt.Messages, nil); err != nil {
					t.Fatal(err)
				}
			}
			prompt, err := m.Tokenize(text, true)
			if err != nil {
				t.Fatal(err)
			}
			traces, err := c.GenerateTraces(t.Context(), tc.prompt, params)
			if err != nil {
				t.Fatal(err)
			}
			if len(traces) != 1+params.Samples {
				t.Fatalf("%d traces, want %d", len(traces), 1+params.Samples)
			}
			for i, tr := range traces {
				if tr.LogProbKind != sampling.LogProbsTop(m.VocabSize()) || len(tr.Tokens) == 0 {
					t.Fatalf("trace %d: kind %q with %d tokens (%s)", i, tr.LogProbKind, len(tr.Tokens), tr.Note)
				}
				ids := make([]int32, len(tr.Tokens))
				for j, tok := range tr.Tokens {
					ids[j] = tok.ID
				}
				// The text is the tokens' pieces (an end-of-generation
				// token renders as nothing on both sides).
				if want, _ := m.Detokenize(ids, false); tr.Text != want {
					t.Errorf("trace %d: text %q, want the tokens' %q", i, tr.Text, want)
				}
				got, err := s.Score(t.Context(), []llama.ScoreRequest{{Prompt: prompt, Continuation: ids}})
				if err != nil {
					t.Fatal(err)
				}
				for j, want := range got[0] {
					tok := tr.Tokens[j]
					dLP, dH := math.Abs(tok.LogProb-want.LogProb), math.Abs(tok.Entropy-want.Entropy)
					worstLP, worstH, n = max(worstLP, dLP), max(worstH, dH), n+1
					if !(dLP <= tol && dH <= tol) {
						t.Errorf("trace %d token %d (id %d): server log-probability %.7f entropy %.7f, local %.7f %.7f",
							i, j, tok.ID, tok.LogProb, tok.Entropy, want.LogProb, want.Entropy)
					}
				}
			}
		})
	}
	t.Logf("%d tokens: largest differences %.2g in log-probability, %.2g in entropy", n, worstLP, worstH)
}

// TestOpenAIServerTraces checks traces drawn by llama-server against those
// of this package's Generate with the same Params: the server's sampling
// chain (no-op penalties, top-k, top-p, min-p, temperature, a draw seeded
// with the request's seed) is the one Generate builds, so the greedy trace
// and sampled trace k (seed uint32(Seed)+k, sent one per request or as
// n > 1 choices of one request, which llama-server seeds seed, seed+1, …)
// must come out the same, text and finish. The random model writes
// arbitrary bytes, so many traces end tokens inside UTF-8 characters;
// a trace the client labels with the server's log-probabilities must have
// them all (same tokens, same numbers), and one labelled "none" must be one
// that had such a token, so the labelling is exact.
func TestOpenAIServerTraces(t *testing.T) {
	bin := llamaServer(t)
	path := tinyModel(t, gguf.F32)
	base := startLlamaServer(t, bin, path, 4)
	m := load(t, path)
	s := exactSession(t, m, 9)
	// The stop strings occur in the traces of this model and seed.
	for _, stop := range [][]string{nil, {"^\xa0", ">\x12", "</think>"}} {
		params := &sampling.Params{Samples: 8, MaxTokens: 16, Seed: 3, Stop: stop}
		local, err := llama.NewGenerator(s).Generate(t.Context(), sampling.Prompt{Text: genPrompt}, params)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 4} {
			t.Run(fmt.Sprintf("N=%d,stop=%q", n, stop), func(t *testing.T) {
				c, err := openai.New(&openai.Config{BaseURL: base, N: n, TopLogprobs: m.VocabSize()})
				if err != nil {
					t.Fatal(err)
				}
				defer c.CloseIdleConnections()
				traces, err := c.GenerateTraces(t.Context(), sampling.Prompt{Text: genPrompt}, params)
				if err != nil {
					t.Fatal(err)
				}
				compareTraces(t, traces, local)
			})
		}
	}
}

// compareTraces compares traces from llama-server with those Generate drew
// locally.
func compareTraces(t *testing.T, traces []openai.Trace, local []sampling.Trace) {
	t.Helper()
	if len(traces) != len(local) {
		t.Fatalf("%d traces, locally %d", len(traces), len(local))
	}
	none, compared := 0, 0
	for i, tr := range traces {
		want := local[i]
		text, wantText := tr.Text, want.Text
		if tr.LogProbKind == sampling.LogProbsNone {
			// Its text may be the server's, which has bytes that are
			// not UTF-8 replaced by U+FFFD.
			text, wantText = validRunes(text), validRunes(wantText)
		}
		if tr.Greedy != want.Greedy || tr.Seed != want.Seed || text != wantText || tr.Finish != want.Finish || tr.Stop != want.Stop {
			t.Errorf("trace %d: greedy %v seed %d text %q finish %s stop %q; locally %v %d %q %s %q",
				i, tr.Greedy, tr.Seed, tr.Text, tr.Finish, tr.Stop, want.Greedy, want.Seed, want.Text, want.Finish, want.Stop)
			continue
		}
		split := splitsCharacter(want.Tokens)
		switch {
		case tr.LogProbKind == sampling.LogProbsNone:
			none++
			if !split {
				t.Errorf("trace %d: kind none (%s), but no token ends inside a character", i, tr.Note)
			}
		case split:
			t.Errorf("trace %d: kind %s, but a token ends inside a character", i, tr.LogProbKind)
		case len(tr.Tokens) != len(want.Tokens):
			t.Errorf("trace %d: %d tokens, locally %d", i, len(tr.Tokens), len(want.Tokens))
		default:
			for j, tok := range tr.Tokens {
				w := want.Tokens[j]
				compared++
				if tok.ID != w.ID || math.Abs(tok.LogProb-w.LogProb) > 1e-4 || math.Abs(tok.Entropy-w.Entropy) > 1e-4 {
					t.Errorf("trace %d token %d: %+v, locally %+v", i, j, tok, w)
				}
			}
		}
	}
	t.Logf("%d of %d traces have a token ending inside a UTF-8 character (kind none); %d tokens of the others compared",
		none, len(traces), compared)
}

// splitsCharacter reports whether, after some token of a trace, its text
// ends inside a UTF-8 character by llama-server's test (validate_utf8 in
// tools/server/server-common.cpp: a lead byte among the last four bytes
// without the bytes its character needs).
func splitsCharacter(toks []sampling.Token) bool {
	var text []byte
	for _, tok := range toks {
		text = append(text, tok.Text...)
		for i := 1; i <= 4 && i <= len(text); i++ {
			c := text[len(text)-i]
			need := 0
			switch {
			case c&0xE0 == 0xC0:
				need = 2
			case c&0xF0 == 0xE0:
				need = 3
			case c&0xF8 == 0xF0:
				need = 4
			}
			if need > 0 && i < need {
				return true
			}
		}
	}
	return false
}

// validRunes returns s without invalid UTF-8 and U+FFFD.
func validRunes(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\uFFFD", "")
}
