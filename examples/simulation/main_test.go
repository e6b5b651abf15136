package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/perturb"
)

// TestSimulation runs the example as main does and checks the ablation's
// claim: at q = 0.3 global filtering by msp, whose scale is widest for
// "down", keeps a far smaller share of "down" answers than per-class
// filtering, which keeps ⌈0.3·n_c⌉ of every class; self-consistency, whose
// scale is the same for every class, starves "down" much less.
func TestSimulation(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	start := time.Now()
	a, err := run(t.Context(), &out, dir, defaultParams())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ran in %v:\n%s", time.Since(start), out.String())
	if !strings.HasPrefix(out.String(), "SIMULATED DATA") {
		t.Errorf("output does not start by saying the data are simulated:\n%s", out.String())
	}
	index, err := os.ReadFile(filepath.Join(dir, "report", "index.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(index), "SIMULATED DATA") {
		t.Error("the report's index.md does not say the data are simulated")
	}
	for _, pattern := range []string{"tables/*.md", "plots/*.svg"} {
		files, err := filepath.Glob(filepath.Join(dir, "report", pattern))
		if err != nil || len(files) == 0 {
			t.Fatalf("no %s in the report (%v)", pattern, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(b, []byte("SIMULATED: ")) {
				t.Errorf("%s does not say SIMULATED", f)
			}
		}
	}

	down := -1
	for i, l := range a.Labels {
		if l == perturb.Down {
			down = i
		}
	}
	kept := map[string]map[string]float64{} // estimator → strategy → share of down kept
	for _, e := range a.PerEstimator {
		kept[e.Name] = map[string]float64{}
		for _, cu := range e.Curves {
			p := cu.At(0.3)
			kept[e.Name][cu.Strategy] = p.Classes[down].Retained.Value
			if cu.Strategy == filter.NamePerClass {
				for _, c := range p.Classes {
					if want := float64(filter.Size(0.3, c.Eligible)) / float64(c.Eligible); c.Retained.Value != want {
						t.Errorf("%s per-class keeps %v of %s, want ⌈0.3·%d⌉/%d = %v", e.Name, c.Retained.Value, c.Label, c.Eligible, c.Eligible, want)
					}
				}
			}
		}
	}
	if g, p := kept["msp"][filter.NameGlobal], kept["msp"][filter.NamePerClass]; !(g < p/3) {
		t.Errorf("msp at q = 0.3: global keeps %.3f of down, per-class %.3f; want global < per-class/3", g, p)
	}
	if g, m := kept["self-consistency"][filter.NameGlobal], kept["msp"][filter.NameGlobal]; !(g > 2*m) {
		t.Errorf("global at q = 0.3 keeps %.3f of down by self-consistency, %.3f by msp; want the scale-free estimator to starve it less", g, m)
	}
}

// Example_ablation prints the ablation table for the default simulation.
func Example_ablation() {
	dir, err := os.MkdirTemp("", "simulation-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	p := defaultParams()
	a, err := analyze(context.Background(), dir, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	printTable(os.Stdout, a, p)
	// Output:
	// SIMULATED DATA (a simulated teacher, not a model): 3000 questions, K = 8 samples, seed 2510
	// gold classes: up 229 down 199 none 2572; r0 accuracy 0.831, macro-F1 0.688
	// msp scale by r0 class: up 1.5, down 2.2, none 1.0
	//
	//          estimator   strategy     q  kept    up kept  down kept  none kept  balance  accuracy  macro-F1  down F1
	//                msp  per-class  0.30   901  124 (30%)  116 (30%)  661 (30%)     1.00     0.938     0.900    0.871
	//                msp     global  0.30   900    27 (7%)     4 (1%)  869 (39%)     0.03     0.989     0.824    0.533
	//                msp     random  0.30   901  122 (30%)  116 (30%)  663 (30%)     0.98     0.820     0.656    0.571
	//   self-consistency  per-class  0.30   901  124 (30%)  116 (30%)  661 (30%)     1.00     0.949     0.918    0.875
	//   self-consistency     global  0.30   900   69 (17%)   73 (19%)  758 (34%)     0.49     0.982     0.958    0.920
	//   self-consistency     random  0.30   901  122 (30%)  116 (30%)  663 (30%)     0.98     0.820     0.656    0.571
	//
	// per-class keeps the same share of every r0 class; global ranks all groups on one scale and keeps few "down" answers.
}
