package perturb_test

import (
	"strings"
	"testing"

	"github.com/labelfree/labelfree/perturb"
)

// BenchmarkLoad reads and checks both files of a cell line, from the
// smallest to the largest (rpe1, 187,089 de rows).
func BenchmarkLoad(b *testing.B) {
	dir := dataDir(b)
	for _, cell := range []string{perturb.K562Set, perturb.K562, perturb.RPE1} {
		b.Run(cell, func(b *testing.B) {
			var rows int
			for b.Loop() {
				qs, err := perturb.Load(dir, cell, "")
				if err != nil {
					b.Fatal(err)
				}
				rows = len(qs)
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkItems converts all of rpe1 to sampling items.
func BenchmarkItems(b *testing.B) {
	qs, err := perturb.Load(dataDir(b), perturb.RPE1, "")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		perturb.Items(qs)
	}
	b.ReportMetric(float64(len(qs))*float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkParse parses a trace of about 1,000 words of reasoning.
func BenchmarkParse(b *testing.B) {
	trace := "<think>\n" + strings.Repeat("AAMP is knocked down, so the answer might be up or down. ", 80) +
		"\n</think>\n\n<answer>Down-regulated</answer>"
	for b.Loop() {
		if a := perturb.Parse(trace); a.Class != perturb.Down {
			b.Fatal(a)
		}
	}
}
