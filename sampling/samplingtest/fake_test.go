package samplingtest_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/samplingtest"
)

func generate(t *testing.T, f *samplingtest.Fake, prompt sampling.Prompt, p *sampling.Params) []sampling.Trace {
	t.Helper()
	tr, err := f.Generate(t.Context(), prompt, p)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestFakeTraces checks the traces' shape: the greedy one first, seeds
// Seed+k, tokens whose texts make up Text, finite numbers in range, an
// end-of-generation token, and parsable answers from the classes.
func TestFakeTraces(t *testing.T) {
	f := &samplingtest.Fake{}
	task := f.Task()
	for _, it := range f.Items(20) {
		prompt, err := task.Prompt(it)
		if err != nil {
			t.Fatal(err)
		}
		traces := generate(t, f, prompt, &sampling.Params{Samples: 4, Seed: 1 << 40})
		if len(traces) != 5 || !traces[0].Greedy || traces[0].Seed != 0 {
			t.Fatalf("%s: %d traces, first %+v", it.ID, len(traces), traces[0])
		}
		for k, tr := range traces {
			if k > 0 && (tr.Greedy || tr.Seed != uint32(k)) { // uint32(1<<40) = 0
				t.Errorf("%s: trace %d: greedy %v seed %d, want false %d", it.ID, k, tr.Greedy, tr.Seed, k)
			}
			if tr.Finish != sampling.FinishEOG {
				t.Errorf("%s: trace %d: finish %s", it.ID, k, tr.Finish)
			}
			var text strings.Builder
			for i, tok := range tr.Tokens {
				if i < len(tr.Tokens)-1 {
					text.WriteString(tok.Text)
				} else if tok.ID != 2 || tok.Text != "<|im_end|>" {
					t.Errorf("%s: trace %d ends with %+v, want the end-of-generation token", it.ID, k, tok)
				}
				if math.IsNaN(tok.LogProb) || tok.LogProb > 0 || tok.LogProb < -4 || math.IsNaN(tok.Entropy) || tok.Entropy < 0 || tok.Entropy > 7.5 {
					t.Errorf("%s: trace %d token %d: log-prob %g, entropy %g out of range", it.ID, k, i, tok.LogProb, tok.Entropy)
				}
			}
			if text.String() != tr.Text {
				t.Errorf("%s: trace %d: tokens make %q, text is %q", it.ID, k, text.String(), tr.Text)
			}
			if a := task.Parse(tr.Text); !a.OK || !strings.HasPrefix(tr.Text, "<think> ") {
				t.Errorf("%s: trace %d: %q parsed as %+v", it.ID, k, tr.Text, a)
			}
		}
	}
}

// TestFakeDeterministic checks that traces are a function of the prompt,
// the params and the seed: the same call gives the same traces; another
// seed other sampled traces and the same greedy one; another prompt
// another greedy one.
func TestFakeDeterministic(t *testing.T) {
	f := &samplingtest.Fake{}
	p := sampling.Chat("", "Question q1.")
	a := generate(t, f, p, &sampling.Params{Samples: 3, Seed: 5})
	b := generate(t, &samplingtest.Fake{}, p, &sampling.Params{Samples: 3, Seed: 5, Temperature: 1.3})
	if !reflect.DeepEqual(a, b) {
		t.Errorf("the same call gave other traces")
	}
	c := generate(t, f, p, &sampling.Params{Samples: 3, Seed: 6})
	if !reflect.DeepEqual(a[0], c[0]) {
		t.Errorf("the greedy trace depends on the seed")
	}
	// Sample k of seed 6 is sample k+1 of seed 5: both draw with seed 6+k.
	if !reflect.DeepEqual(a[2], c[1]) || reflect.DeepEqual(a[1], c[1]) {
		t.Errorf("sampled traces do not follow their draw seed")
	}
	d := generate(t, f, sampling.Chat("", "Question q2."), &sampling.Params{Samples: 3, Seed: 5})
	if d[0].Text == a[0].Text {
		t.Errorf("two prompts gave the same greedy text %q", d[0].Text)
	}
	if ng := generate(t, f, p, &sampling.Params{Samples: 3, Seed: 5, NoGreedy: true}); len(ng) != 3 || ng[0].Greedy || !reflect.DeepEqual(ng[0], a[1]) {
		t.Errorf("NoGreedy: %d traces, first %+v", len(ng), ng[0])
	}
}

// TestFakeScore checks that scoring a trace's text gives the trace's own
// tokens (the end-of-generation token aside).
func TestFakeScore(t *testing.T) {
	f := &samplingtest.Fake{}
	p := sampling.Chat("", "Question q3.")
	traces := generate(t, f, p, &sampling.Params{Samples: 2, Seed: 9})
	var texts []string
	for _, tr := range traces {
		texts = append(texts, tr.Text)
	}
	texts = append(texts, "", "a <b c", "  tail  ")
	scored, err := f.Score(t.Context(), p, texts)
	if err != nil {
		t.Fatal(err)
	}
	for k, tr := range traces {
		if want := tr.Tokens[:len(tr.Tokens)-1]; !reflect.DeepEqual(scored[k], want) {
			t.Errorf("trace %d: scored %d tokens unlike the generated %d", k, len(scored[k]), len(want))
		}
	}
	for i, text := range texts[len(traces):] {
		var b strings.Builder
		for _, tok := range scored[len(traces)+i] {
			b.WriteString(tok.Text)
		}
		if b.String() != text {
			t.Errorf("tokens of %q make %q", text, b.String())
		}
	}
	other, err := f.Score(t.Context(), sampling.Chat("", "Question q4."), texts[:1])
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(other[0], scored[0]) {
		t.Errorf("the log-probabilities do not depend on the prompt")
	}
}

func TestFakeLimits(t *testing.T) {
	f := &samplingtest.Fake{Words: 30}
	p := sampling.Chat("", "Question q5.")
	full := generate(t, f, p, &sampling.Params{})[0]

	short := generate(t, f, p, &sampling.Params{MaxTokens: 7})[0]
	if short.Finish != sampling.FinishLength || len(short.Tokens) != 7 || !reflect.DeepEqual(short.Tokens, full.Tokens[:7]) || !strings.HasPrefix(full.Text, short.Text) {
		t.Errorf("MaxTokens 7: %d tokens, finish %s, text %q", len(short.Tokens), short.Finish, short.Text)
	}
	// A budget that fits the text but not the end-of-generation token.
	exact := generate(t, f, p, &sampling.Params{MaxTokens: len(full.Tokens) - 1})[0]
	if exact.Finish != sampling.FinishLength || exact.Text != full.Text {
		t.Errorf("MaxTokens = text tokens: finish %s", exact.Finish)
	}

	stopped := generate(t, f, p, &sampling.Params{Stop: []string{"nowhere", "k>\n<ans"}})[0]
	if stopped.Finish != sampling.FinishStop || stopped.Stop != "k>\n<ans" || !strings.HasSuffix(stopped.Text, "</think>\n<answer>") {
		t.Errorf("stop string across tokens: finish %s stop %q text %q", stopped.Finish, stopped.Stop, stopped.Text)
	}
}

func TestFakeUnparsable(t *testing.T) {
	f := &samplingtest.Fake{Unparsable: 0.25}
	task := f.Task()
	n, bad := 0, 0
	for _, it := range f.Items(50) {
		prompt, _ := task.Prompt(it)
		for _, tr := range generate(t, f, prompt, &sampling.Params{Samples: 7, Seed: 3}) {
			n++
			if a := task.Parse(tr.Text); !a.OK {
				bad++
			}
		}
	}
	// Binomial(400, 0.25): mean 100, sd ≈ 8.7; 5 sd.
	if bad < 57 || bad > 143 {
		t.Errorf("%d of %d traces unparsable, want about a quarter", bad, n)
	}
}

// TestFakeAgreement checks that self-consistency varies between items, as
// the Fake documents, so that filtering has something to rank.
func TestFakeAgreement(t *testing.T) {
	f := &samplingtest.Fake{}
	task := f.Task()
	low, high := 1.0, 0.0
	for _, it := range f.Items(40) {
		prompt, _ := task.Prompt(it)
		traces := generate(t, f, prompt, &sampling.Params{Samples: 16, Seed: 1})
		first := task.Parse(traces[0].Text).Class
		agree := 0
		for _, tr := range traces[1:] {
			if task.Parse(tr.Text).Class == first {
				agree++
			}
		}
		a := float64(agree) / 16
		low, high = min(low, a), max(high, a)
	}
	if low > 0.5 || high < 0.85 {
		t.Errorf("agreement ranges over [%g, %g], want from below 0.5 to above 0.85", low, high)
	}
}

func TestFakeFailAndDelay(t *testing.T) {
	boom := errors.New("boom")
	f := &samplingtest.Fake{Delay: time.Hour, Fail: func(sampling.Prompt) error { return boom }}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if _, err := f.Generate(ctx, sampling.Prompt{Text: "x"}, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Generate during a long Delay: %v, want the context's error", err)
	}
	if _, err := f.Score(ctx, sampling.Prompt{Text: "x"}, []string{"y"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Score during a long Delay: %v, want the context's error", err)
	}
	f.Delay = 0
	if _, err := f.Generate(t.Context(), sampling.Prompt{Text: "x"}, nil); err != boom {
		t.Errorf("Generate with Fail: %v, want boom", err)
	}
	if f.Calls() != 2 {
		t.Errorf("Calls() = %d, want 2", f.Calls())
	}
	if _, err := f.Generate(t.Context(), sampling.Prompt{Text: "x"}, &sampling.Params{TopP: 3}); err == nil {
		t.Errorf("Generate accepted TopP 3")
	}
}

func TestTaskParse(t *testing.T) {
	task := (&samplingtest.Fake{Classes: []string{"yes", "no"}}).Task()
	tests := []struct {
		text string
		want sampling.Answer
	}{
		{"<think>…</think>\n<answer>yes</answer>", sampling.Answer{Text: "yes", Class: "yes", OK: true}},
		{"<answer> No </answer>", sampling.Answer{Text: "No", Class: "no", OK: true}},
		{"<answer>no</answer> then <answer>yes</answer>", sampling.Answer{Text: "yes", Class: "yes", OK: true}},
		{"<answer>maybe</answer>", sampling.Answer{Text: "maybe"}},
		{"<answer>yes", sampling.Answer{}},
		{"yes", sampling.Answer{}},
	}
	for _, tt := range tests {
		if got := task.Parse(tt.text); got != tt.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.text, got, tt.want)
		}
	}
	if got := task.Classes(); !reflect.DeepEqual(got, []string{"yes", "no"}) {
		t.Errorf("Classes() = %v", got)
	}
	if _, err := task.Prompt(sampling.Item{}); err == nil {
		t.Errorf("Prompt of an item without id succeeded")
	}
	p, err := task.Prompt(sampling.Item{ID: "q7", Fields: map[string]string{"gene": "IRF1", "pert": "STAT1"}})
	if err != nil || !strings.Contains(p.Messages[1].Content, "Question q7. gene=IRF1 pert=STAT1") {
		t.Errorf("Prompt = %+v, %v", p, err)
	}
}
