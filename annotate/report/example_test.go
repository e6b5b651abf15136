package report_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/labelfree/labelfree/annotate/report"
)

// Analyse the fixture's ratings against its score file and write the
// report, as "labelfree annotate report" does. The numbers agree with
// testdata/expected.py.
func Example() {
	ctx := context.Background()
	a, err := report.Load(ctx, "testdata/ratings", "testdata/scores.jsonl", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d items, %d missing from the score file, %d torn line skipped\n", len(a.Items), len(a.Unscored), len(a.Torn))
	fmt.Printf("Krippendorff's alpha: correct %.3f, soundness %.3f\n", a.Correct.Alpha.Value, a.Soundness.Alpha.Value)
	for _, e := range a.Estimators {
		fmt.Printf("%-16s n=%d rho=%.3f AUC(unsound)=%.3f\n", e.Name, e.N, e.Spearman.Value, e.UnsoundAUC.Value)
	}
	dir, err := os.MkdirTemp("", "annotate-report")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := report.Write(ctx, dir, a, &report.Options{Title: "Pilot annotation"}); err != nil {
		log.Fatal(err)
	}
	// Output:
	// 17 items, 1 missing from the score file, 1 torn line skipped
	// Krippendorff's alpha: correct 0.616, soundness 0.822
	// msp              n=16 rho=-0.829 AUC(unsound)=0.921
	// self-consistency n=15 rho=-0.951 AUC(unsound)=1.000
	// log-perplexity   n=16 rho=-0.800 AUC(unsound)=0.937
}
