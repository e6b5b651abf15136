package reference

import (
	"encoding/json"
	"os"
	"testing"
)

// goldenConfig is CONFIG of testdata/forward.py.
var goldenConfig = Config{
	Vocab: 11, Hidden: 16, Layers: 2, FFN: 24, Heads: 4, KVHeads: 2, HeadDim: 6,
	Context: 16, RopeBase: 100, NormEps: float64(float32(1e-5)),
}

// lcgDraw draws the weights of testdata/forward.py: the LCG
// x ← (1664525·x + 1013904223) mod 2³² from seed, u = (x >> 16)/2¹⁶, norm weights
// 0.75 + u/2 and projections 2u − 1, all exact in float32.
func lcgDraw(seed uint32) func(string) float32 {
	x := seed
	return func(kind string) float32 {
		x = 1664525*x + 1013904223
		u := float64(x>>16) / 65536
		if kind == normKind {
			return float32(0.75 + 0.5*u)
		}
		return float32(2*u - 1)
	}
}

// golden is the output of testdata/forward.py.
type golden struct {
	Tokens       []int
	Seed         uint32
	Untied, Tied struct {
		Logits, Logprobs [][]float64
		Entropy          []float64
	}
}

// TestGolden compares the model against testdata/golden.json, written by the
// independent Python forward pass testdata/forward.py (standard library only;
// `python3 testdata/forward.py > testdata/golden.json` regenerates it). The
// model has two layers, grouped-query attention (4 query heads over 2 KV heads),
// 6-dimensional heads whose 24-wide concatenation differs from the hidden size
// 16, and RoPE base 100 so that every rotated pair turns visibly over 8
// positions. Both compute in float64 from the same float32 weights and differ
// only in summation order, hence the tolerance.
func TestGolden(t *testing.T) {
	raw, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	const tol = 1e-12
	for _, tc := range []struct {
		name string
		tied bool
		want *struct {
			Logits, Logprobs [][]float64
			Entropy          []float64
		}
	}{
		{"untied", false, &g.Untied},
		{"tied", true, &g.Tied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := load(t, configKeys(goldenConfig), modelTensors(goldenConfig, tc.tied, lcgDraw(g.Seed)))
			want := goldenConfig
			want.TiedOutput = tc.tied
			if m.Config != want {
				t.Fatalf("Config = %+v, want %+v", m.Config, want)
			}
			logits, err := m.Logits(g.Tokens)
			if err != nil {
				t.Fatal(err)
			}
			logprobs, err := m.LogProbs(g.Tokens)
			if err != nil {
				t.Fatal(err)
			}
			if len(logits) != len(tc.want.Logits) {
				t.Fatalf("%d positions, want %d", len(logits), len(tc.want.Logits))
			}
			for pos := range logits {
				checkVec(t, "logits", logits[pos], tc.want.Logits[pos], tol)
				checkVec(t, "logprobs", logprobs[pos], tc.want.Logprobs[pos], tol)
				if got := Entropy(logprobs[pos]); !near(got, tc.want.Entropy[pos], tol) {
					t.Errorf("position %d: entropy %v, want %v (tolerance %g)", pos, got, tc.want.Entropy[pos], tol)
				}
			}
		})
	}
}
