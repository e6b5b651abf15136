package gemini_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/labelfree/labelfree/gemini"
	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/samplingtest"
)

// TestRun checks the package comment's recipe for sampling.Run:
// RequireLogprobs with sampling.LogProbsTop(0) writes each token's
// log-probability as the API returned it, no entropies, and the seeds the
// requests carried.
func TestRun(t *testing.T) {
	f, srv := newFake(t, simple)
	b := newBackend(t, srv, gemini.Config{RequireLogprobs: true, MaxConcurrency: 3})
	fake := &samplingtest.Fake{}
	items := fake.Items(3)
	out := filepath.Join(t.TempDir(), "traces.jsonl")
	st, err := sampling.Run(t.Context(), &sampling.RunConfig{
		Items:      items,
		Task:       fake.Task(),
		Generators: []sampling.Generator{b, b},
		Params:     &sampling.Params{Samples: 2, Seed: 7},
		Out:        out,
		Model:      "gemini-2.5-pro",
		Backend:    "gemini",
		LogProbs:   sampling.LogProbsTop(0),
		TokenIDs:   true,
		NoSync:     true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Done != 3 {
		t.Fatalf("stats %+v, want 3 groups done", st)
	}
	_, groups, err := sampling.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 3 {
		t.Fatalf("%d groups, want 3", len(groups))
	}
	seeds := make(map[int64]bool)
	for _, r := range f.got() {
		seeds[r.seed()] = true
	}
	for _, g := range groups {
		base := uint32(sampling.GroupSeed(7, g.Item.ID))
		for k, tr := range g.Traces {
			// −0.25 and −0.5 are exact in float32, as the file stores them.
			if tr.LogProbKind != sampling.LogProbsTop(0) || !slices.Equal(tr.LogProbs, []float64{-0.25, -0.5}) ||
				tr.Entropies != nil || !slices.Equal(tr.TokenIDs, []int32{101, 102}) {
				t.Errorf("%s trace %d: kind %q logprobs %v entropies %v ids %v", g.Item.ID, k, tr.LogProbKind, tr.LogProbs, tr.Entropies, tr.TokenIDs)
			}
			if tr.Answer.Class != "up" || tr.Finish != sampling.FinishEOG {
				t.Errorf("%s trace %d: answer %+v finish %q, want up, eog", g.Item.ID, k, tr.Answer, tr.Finish)
			}
			if k > 0 && (tr.Seed != base+uint32(k) || !seeds[int64(int32(tr.Seed))]) {
				t.Errorf("%s trace %d: seed %d, want %d and a request that carried it", g.Item.ID, k, tr.Seed, base+uint32(k))
			}
		}
	}
}
