package score_test

import (
	"io"
	"os"
	"testing"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/samplingtest"
	"github.com/labelfree/labelfree/score"
)

// BenchmarkTraceReader reads one trace file of 20,000 groups (r0 and four
// samples, with token ids) with a sampling.Reader and with a TraceReader,
// in the same process so that the machine's load affects both alike, and
// reports groups/s.
func BenchmarkTraceReader(b *testing.B) {
	const n = 20_000
	name := fakeTraces(b, b.Context(), b.TempDir(), &samplingtest.Fake{Words: 16}, n, true)
	b.Run("sampling.Reader", func(b *testing.B) {
		for b.Loop() {
			f, err := os.Open(name)
			if err != nil {
				b.Fatal(err)
			}
			r, err := sampling.NewReader(f, name)
			if err != nil {
				b.Fatal(err)
			}
			for {
				_, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			f.Close()
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "groups/s")
	})
	b.Run("TraceReader", func(b *testing.B) {
		for b.Loop() {
			r, err := score.OpenTraces(name, 0, nil)
			if err != nil {
				b.Fatal(err)
			}
			for _, err := range r.All(b.Context()) {
				if err != nil {
					b.Fatal(err)
				}
			}
			r.Close()
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "groups/s")
	})
}
