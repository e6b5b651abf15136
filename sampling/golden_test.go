package sampling_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/samplingtest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.jsonl")

// TestGolden pins the bytes of a small run of the Fake, with token ids, a
// stop string, a length cut and an unparsable trace, in
// testdata/golden.jsonl: a change to the format, the group seeds or the
// Fake shows up here. Rewrite it with go test -run Golden -update, and
// read the diff.
func TestGolden(t *testing.T) {
	f := &samplingtest.Fake{Unparsable: 0.3}
	c := fakeConfig(f, f.Items(3), filepath.Join(t.TempDir(), "out.jsonl"), 2, nil)
	c.Params = &sampling.Params{Samples: 3, Seed: 2025, MaxTokens: 22, Stop: []string{" kinase"}}
	c.Items[1].Label = "" // an item without a label
	if _, err := sampling.Run(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	got := readBytes(t, c.Out)
	golden := filepath.Join("testdata", "golden.jsonl")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := readBytes(t, golden)
	if !bytes.Equal(got, want) {
		t.Errorf("trace file differs from %s (rewrite it with -update if the change is meant):\n%s", golden, got)
	}
	for _, s := range []string{`"finish":"length"`, `"finish":"stop"`, `"ok":false`, `"finish":"eog"`} {
		if !bytes.Contains(want, []byte(s)) {
			t.Errorf("%s has no %s; adjust the run so that it covers one", golden, s)
		}
	}
}
