package filter_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/samplingtest"
	"github.com/labelfree/labelfree/score"
)

// fakeTraces samples n items from fk into dir/traces.jsonl.
func fakeTraces(tb testing.TB, ctx context.Context, dir string, fk *samplingtest.Fake, n, k int) string {
	tb.Helper()
	name := filepath.Join(dir, "traces.jsonl")
	_, err := sampling.Run(ctx, &sampling.RunConfig{
		Items: fk.Items(n), Task: fk.Task(), Generators: []sampling.Generator{fk},
		Params: &sampling.Params{Samples: k, Seed: 11}, Out: name, NoSync: true,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return name
}

// TestEndToEnd runs the pipeline on a fake model's traces — sample 50
// items, score, filter per class, a random baseline of the same size,
// export — and checks the counts at each step against counts made here
// from the files themselves.
func TestEndToEnd(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	fk := &samplingtest.Fake{Unparsable: 0.15}
	traces := fakeTraces(t, ctx, dir, fk, 50, 4)
	_, groups, err := sampling.ReadFile(traces)
	if err != nil {
		t.Fatal(err)
	}

	scores := filepath.Join(dir, "scores.jsonl")
	st, err := score.File(ctx, traces, scores, nil)
	if err != nil {
		t.Fatal(err)
	}
	unparsable := 0
	for _, g := range groups {
		if !g.Traces[0].Answer.OK {
			unparsable++
		}
	}
	if st.Groups != 50 || st.Unparsable != unparsable || unparsable == 0 {
		t.Fatalf("score stats %+v; %d groups have an unparsable r0", st, unparsable)
	}

	// Per class: ⌈0.5·n_c⌉ of each class's groups with a parsed r0 and a
	// cocoa-ppl score (every one here: K = 4 and full log-probabilities).
	_, recs, err := score.ReadFile(scores)
	if err != nil {
		t.Fatal(err)
	}
	perClass := map[string]int{}
	for _, r := range recs {
		if _, ok := r.Scores["cocoa-ppl"]; ok && r.OK {
			perClass[r.Class]++
		}
	}
	selName := filepath.Join(dir, "selection.jsonl")
	sel, err := filter.File(ctx, scores, selName, filter.PerClass{Estimator: "cocoa-ppl", Fraction: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	wantKept := 0
	for _, c := range sel.Header.Summary.Classes {
		if want := filter.Size(0.5, perClass[c.Class]); c.Kept != want || c.Eligible != perClass[c.Class] {
			t.Errorf("class %s: kept %d of %d eligible, want %d of %d", c.Class, c.Kept, c.Eligible, want, perClass[c.Class])
		}
		wantKept += filter.Size(0.5, perClass[c.Class])
	}
	if len(sel.Records) != wantKept || sel.Header.Summary.Excluded[filter.ReasonUnparsable] != unparsable {
		t.Errorf("kept %d, want %d; excluded %v, want %d unparsable", len(sel.Records), wantKept, sel.Header.Summary.Excluded, unparsable)
	}
	if sum, _ := score.FileSHA256(scores); sel.Header.ScoresSHA256 != sum || sel.Header.Scores != scores {
		t.Errorf("selection names %s %s, want %s %s", sel.Header.Scores, sel.Header.ScoresSHA256, scores, sum)
	}
	if back, err := filter.ReadFile(selName); err != nil || len(back.Records) != wantKept {
		t.Errorf("selection file: %v, %d records", err, len(back.Records))
	}

	// A random baseline the same size per class.
	rnd, err := filter.File(ctx, scores, filepath.Join(dir, "random.jsonl"),
		filter.Random{Seed: 1, PerClass: true, Like: &sel.Header.Summary, Estimator: "cocoa-ppl"})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range rnd.Header.Summary.Classes {
		if c.Kept != sel.Header.Summary.Classes[i].Kept {
			t.Errorf("random kept %d of %s, the selection %d", c.Kept, c.Class, sel.Header.Summary.Classes[i].Kept)
		}
	}

	// Export r0 and the agreeing samples, a fifth of the groups for
	// validation. Expected lines: per kept group, r0 plus the samples
	// whose class is r0's, less repeated texts (the Fake stops every
	// trace at its end token, so none is cut off).
	kept := sel.IDs()
	wantLines := 0
	for _, g := range groups {
		if !kept[g.Item.ID] {
			continue
		}
		texts := map[string]bool{g.Traces[0].Text: true}
		for _, tr := range g.Traces[1:] {
			if tr.Answer.OK && tr.Answer.Class == g.Traces[0].Answer.Class {
				texts[tr.Text] = true
			}
		}
		wantLines += len(texts)
	}
	if _, err := filter.Export(ctx, sel, traces, filepath.Join(dir, "missing"), nil); err == nil {
		t.Fatalf("export into a missing directory succeeded")
	}
	out := t.TempDir()
	ex, err := filter.Export(ctx, sel, traces, out, &filter.ExportConfig{Samples: true, Validation: 0.2, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	train := checkSFT(t, filepath.Join(out, filter.TrainFile))
	val := checkSFT(t, filepath.Join(out, filter.ValidationFile))
	if ex.Train != len(train) || ex.Validation != len(val) || len(train)+len(val) != wantLines || ex.Groups != wantKept {
		t.Errorf("export %+v: %d train + %d validation lines, want %d lines from %d groups", ex, len(train), len(val), wantLines, wantKept)
	}
	if len(val) == 0 || len(train) == 0 {
		t.Errorf("split %d/%d", len(train), len(val))
	}
	inTrain := map[string]bool{}
	for _, e := range train {
		if !kept[e.ID] {
			t.Errorf("exported %s, which was not kept", e.ID)
		}
		inTrain[e.ID] = true
	}
	for _, e := range val {
		if inTrain[e.ID] {
			t.Errorf("group %s is in both train and validation", e.ID)
		}
	}
}

// TestExportSplit checks the train/validation split on 400 groups: about
// a quarter go to validation (400·0.25 = 100, binomial standard deviation
// √(400·0.25·0.75) ≈ 8.7, so we accept 70 to 130), a group's split does
// not depend on what else is selected, and another seed splits otherwise.
func TestExportSplit(t *testing.T) {
	dir := t.TempDir()
	traces := fakeTraces(t, t.Context(), dir, &samplingtest.Fake{Words: 3}, 400, 1)
	var ids []string
	for _, it := range (&samplingtest.Fake{}).Items(400) {
		ids = append(ids, it.ID)
	}
	split := func(seed uint64, ids []string) map[string]bool {
		out := t.TempDir()
		if _, err := filter.Export(t.Context(), selectionOf(t, traces, ids...), traces, out, &filter.ExportConfig{Validation: 0.25, Seed: seed}); err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, e := range checkSFT(t, filepath.Join(out, filter.ValidationFile)) {
			m[e.ID] = true
		}
		return m
	}
	all := split(9, ids)
	if n := len(all); n < 70 || n > 130 {
		t.Errorf("%d of 400 groups in validation, want 70 to 130", n)
	}
	half := split(9, ids[:200])
	for _, id := range ids[:200] {
		if half[id] != all[id] {
			t.Errorf("%s: in validation %v alone, %v among all", id, half[id], all[id])
		}
	}
	other := split(10, ids)
	same := 0
	for _, id := range ids {
		if other[id] == all[id] {
			same++
		}
	}
	// Independent splits agree on a group with probability 0.75² + 0.25² =
	// 0.625: 250 of 400 expected; identical splits would agree on 400.
	if same > 300 {
		t.Errorf("seeds 9 and 10 agree on %d of 400 groups", same)
	}
}
