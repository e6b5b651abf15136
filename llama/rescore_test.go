//go:build cgo

package llama_test

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/labelfree/labelfree/internal/testmodel"
	"github.com/labelfree/labelfree/llama"
	"github.com/labelfree/labelfree/perturb"
	"github.com/labelfree/labelfree/sampling"
)

// toyModel writes the toy reasoner (testmodel.WriteToy, seed 7), whose
// traces are clean text such as "<think>The knockdown may …</think>\n<answer>up</answer>".
func toyModel(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "toy.gguf")
	if err := testmodel.WriteToy(p, 7); err != nil {
		t.Fatal(err)
	}
	return p
}

// toyTask asks a short chat question per item (the toy's vocabulary is
// byte-level, so PerturbQA's full prompt would take ~600 tokens) and reads
// answers as PerturbQA does.
type toyTask struct{ perturb.Task }

func (toyTask) Prompt(it sampling.Item) (sampling.Prompt, error) {
	return sampling.Chat("", fmt.Sprintf("Does knocking down %s change %s?", it.Fields["pert"], it.Fields["gene"])), nil
}

// toyItems returns n questions whose genes differ, so that the toy's
// answers do.
func toyItems(n int) []sampling.Item {
	perts := []string{"STAT1", "MYC", "GATA1", "TP53", "IRF1", "SPI1"}
	items := make([]sampling.Item, n)
	for i := range items {
		items[i] = sampling.Item{ID: fmt.Sprintf("q%d", i),
			Fields: map[string]string{"pert": perts[i%len(perts)], "gene": fmt.Sprintf("GENE%d", i)}}
	}
	return items
}

// TestRescoreMatchesGeneration is the rescoring guarantee on a real model:
// traces generated on the toy reasoner and recorded without
// log-probabilities (LogProbsNone), then rescored by the same model through
// sampling.Rescore and the Generator's Scorer, carry the token ids that
// generation produced and the log-probabilities and entropies it recorded,
// within 1e-4 (scoring decodes the tokens in other batches than generation
// did, so float32 sums differ in the last bits). RescoreConfig.EndText
// "<|im_end|>" (parsed as the special token) gives the end-of-generation
// token its number, as generation does. The toy's traces are text that
// tokenizes back into the same tokens; a random model's would not (see
// TestGeneratorAdapter).
func TestRescoreMatchesGeneration(t *testing.T) {
	m := load(t, toyModel(t))
	s := exactSession(t, m, 5)
	g := llama.NewGenerator(s)
	dir := t.TempDir()
	run := func(name string, kind sampling.LogProbKind) string {
		c := &sampling.RunConfig{
			Items: toyItems(6), Task: toyTask{}, Generators: []sampling.Generator{g},
			Params: &sampling.Params{Samples: 4, MaxTokens: 16, Seed: 3},
			Out:    filepath.Join(dir, name), Backend: "llama", LogProbs: kind, TokenIDs: kind == sampling.LogProbsFull,
		}
		if _, err := sampling.Run(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		return c.Out
	}
	full, none := run("full.jsonl", sampling.LogProbsFull), run("none.jsonl", sampling.LogProbsNone)
	rescored := filepath.Join(dir, "rescored.jsonl")
	st, err := sampling.Rescore(t.Context(), none, rescored, g, &sampling.RescoreConfig{Name: "llama:toy", EndText: "<|im_end|>"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Rescored != 6*5 {
		t.Errorf("stats %+v, want 30 traces rescored", st)
	}
	_, want, err := sampling.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	h, got, err := sampling.ReadFile(rescored)
	if err != nil {
		t.Fatal(err)
	}
	if h.Backend != "llama+rescored:llama:toy" {
		t.Errorf("header backend %q", h.Backend)
	}
	var maxLP, maxH float64
	tokens, eog, length := 0, 0, 0
	for i := range want {
		for k := range want[i].Traces {
			w, r := &want[i].Traces[k], &got[i].Traces[k]
			if r.Text != w.Text {
				t.Fatalf("group %d trace %d: generation is not deterministic: %q, then %q", i, k, w.Text, r.Text)
			}
			if r.LogProbKind != sampling.LogProbsFull || !slicesEqual(r.TokenIDs, w.TokenIDs) {
				t.Fatalf("group %d trace %d (%q, %s): rescored kind %s, token ids %v, generated %v",
					i, k, w.Text, w.Finish, r.LogProbKind, r.TokenIDs, w.TokenIDs)
			}
			for j := range w.LogProbs {
				maxLP = math.Max(maxLP, math.Abs(r.LogProbs[j]-w.LogProbs[j]))
				maxH = math.Max(maxH, math.Abs(r.Entropies[j]-w.Entropies[j]))
			}
			tokens += len(w.LogProbs)
			switch w.Finish {
			case sampling.FinishEOG:
				eog++
			case sampling.FinishLength:
				length++
			}
		}
	}
	t.Logf("%d tokens in %d traces (%d ended by <|im_end|>, %d by the budget): max |Δ log-prob| %.2g, max |Δ entropy| %.2g",
		tokens, 6*5, eog, length, maxLP, maxH)
	if maxLP > 1e-4 || maxH > 1e-4 {
		t.Errorf("rescored numbers differ from generation's by up to %.2g (log-prob), %.2g (entropy); want ≤ 1e-4", maxLP, maxH)
	}
	if eog == 0 || length == 0 {
		t.Errorf("%d traces ended with the end-of-generation token, %d with the budget; the test wants both", eog, length)
	}
	if a := want[0].Traces[0].Answer; !a.OK {
		t.Errorf("greedy trace of q0 %q has no answer", want[0].Traces[0].Text)
	}
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
