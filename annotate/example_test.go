package annotate_test

import (
	"fmt"
	"log"
	"math"

	"github.com/labelfree/labelfree/annotate"
)

// The worked example of Wikipedia's "Cohen's kappa" article: two readers of
// 50 grant applications agree on 20 yes and 15 no.
func ExampleCohenKappa() {
	var a, b []string
	add := func(x, y string, n int) {
		for range n {
			a, b = append(a, x), append(b, y)
		}
	}
	add("yes", "yes", 20)
	add("yes", "no", 5)
	add("no", "yes", 10)
	add("no", "no", 15)
	k, err := annotate.CohenKappa(a, b)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("κ = %.2f\n", k)
	// Output: κ = 0.40
}

// Three annotators' soundness ratings of five traces; the third annotator
// skipped the last two. The values agree with testdata/agreement.py
// ("alpha example").
func ExampleKrippendorffAlpha() {
	nan := math.NaN()
	ratings := [][]float64{ // traces × annotators
		{4, 4, 5},
		{2, 1, 2},
		{5, 5, 5},
		{3, 4, nan},
		{1, 1, nan},
	}
	for _, m := range []struct {
		name   string
		metric annotate.Metric
	}{{"nominal", annotate.Nominal}, {"ordinal", annotate.Ordinal}, {"interval", annotate.Interval}} {
		alpha, err := annotate.KrippendorffAlpha(ratings, m.metric)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-8s α = %.3f\n", m.name, alpha)
	}
	// Output:
	// nominal  α = 0.446
	// ordinal  α = 0.880
	// interval α = 0.914
}

// Draw a blinded sample, and pick up where an annotator stopped.
func ExampleResume() {
	var candidates []annotate.Candidate
	for i := range 12 {
		class := []string{"A", "B"}[i%2]
		candidates = append(candidates, annotate.Candidate{ID: fmt.Sprintf("q%02d", i), Class: class, U: float64(i)})
	}
	drawn := annotate.Draw(candidates, 4, 7, 2) // one from each of 2 classes × 2 quantiles
	var ratings []annotate.Rating
	for _, c := range drawn[:3] { // the annotator rated three before the restart
		ratings = append(ratings, annotate.Rating{Annotator: "ann", ID: c.ID})
	}
	i := annotate.Resume(ratings, drawn, "ann")
	fmt.Println(len(drawn), "drawn; resume at", i, "=", drawn[i].ID == drawn[3].ID)
	// Output: 4 drawn; resume at 3 = true
}
