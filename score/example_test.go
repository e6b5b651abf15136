package score_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/samplingtest"
	"github.com/labelfree/labelfree/score"
)

func ExampleFile() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "score-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// A trace file of three questions from a fake model: r0 and four
	// samples each.
	fk := &samplingtest.Fake{}
	traces := filepath.Join(dir, "traces.jsonl")
	if _, err := sampling.Run(ctx, &sampling.RunConfig{
		Items: fk.Items(3), Task: fk.Task(), Generators: []sampling.Generator{fk},
		Params: &sampling.Params{Samples: 4, Seed: 1}, Out: traces, NoSync: true,
	}); err != nil {
		log.Fatal(err)
	}

	out := filepath.Join(dir, "scores.jsonl")
	c := &score.Config{Estimators: []string{"self-consistency", "cocoa-ppl"}}
	st, err := score.File(ctx, traces, out, c)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("scored", st.Groups, "groups")
	_, recs, err := score.ReadFile(out)
	if err != nil {
		log.Fatal(err)
	}
	// Under answer match, CoCoA-PPL is r0's log-perplexity (the tie-break)
	// times the share of samples that disagree with r0 (self-consistency).
	for _, r := range recs {
		sc, cp := r.Scores["self-consistency"], r.Scores["cocoa-ppl"]
		fmt.Printf("%s r0=%s self-consistency %.2f cocoa-ppl %.3f (tie %.3f)\n", r.ID, r.Class, sc.Value, cp.Value, cp.Tiebreak)
	}
	ok, err := score.UpToDate(out, traces, c)
	fmt.Println("up to date:", ok, err)
	// Output:
	// scored 3 groups
	// q0000 r0=up self-consistency 0.25 cocoa-ppl 0.126 (tie 0.506)
	// q0001 r0=none self-consistency 0.25 cocoa-ppl 0.252 (tie 1.006)
	// q0002 r0=down self-consistency 0.75 cocoa-ppl 0.731 (tie 0.975)
	// up to date: true <nil>
}
