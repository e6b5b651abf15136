package filter_test

import (
	"fmt"
	"log"

	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/score"
	"github.com/labelfree/labelfree/uncertainty"
)

func ExampleSelect() {
	h := &score.Header{Estimators: []string{"cocoa-ppl"}}
	r := func(id, class string, u float64) score.Record {
		return score.Record{ID: id, Class: class, OK: class != "",
			Scores: map[string]uncertainty.Score{"cocoa-ppl": {Value: u}}}
	}
	// "down" answers are rarer and scored lower; keep the most confident
	// half of each class.
	recs := []score.Record{
		r("a", "up", 0.9), r("b", "up", 0.2), r("c", "up", 0.4), r("d", "up", 0.7),
		r("e", "down", 0.05), r("f", "down", 0.1), r("g", "", 0.01),
	}
	sel, err := filter.Select(h, score.Records(recs), filter.PerClass{Estimator: "cocoa-ppl", Fraction: 0.5})
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range sel.Records {
		fmt.Printf("%s %s u=%.2f rank %d\n", k.Class, k.ID, k.U, k.Rank)
	}
	for _, c := range sel.Header.Summary.Classes {
		fmt.Printf("%s: kept %d of %d, cut at %.2f\n", c.Class, c.Kept, c.Eligible, *c.Threshold)
	}
	fmt.Println("unparsable:", sel.Header.Summary.Excluded[filter.ReasonUnparsable])
	// Output:
	// down e u=0.05 rank 1
	// up b u=0.20 rank 1
	// up c u=0.40 rank 2
	// down: kept 1 of 2, cut at 0.05
	// up: kept 2 of 4, cut at 0.40
	// unparsable: 1
}

func ExampleSize() {
	// ⌈q·n⌉, without floating point's 0.3·10 = 3.0000000000000004.
	fmt.Println(filter.Size(0.5, 5), filter.Size(0.3, 10), filter.Size(0.01, 3))
	// Output: 3 3 1
}
