package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/labelfree/labelfree/eval"
)

// evalSummary is what `labelfree eval` reports: the greedy answers'
// classification metrics against the gold labels and how well each
// estimator's uncertainty ranks their correctness.
type evalSummary struct {
	Groups     int            `json:"groups"`
	Unlabelled int            `json:"unlabelled"`
	Unparsed   int            `json:"unparsed"`
	Accuracy   float64        `json:"accuracy"`
	MacroF1    float64        `json:"macro_f1"`
	Classes    []evalClass    `json:"classes"`
	Estimators []evalEstimate `json:"estimators"`
}

type evalClass struct {
	Label     string  `json:"label"`
	Support   int     `json:"support"`
	Predicted int     `json:"predicted"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

// evalEstimate holds an estimator's quality; a nil metric is undefined
// (every greedy answer right, or every one wrong).
type evalEstimate struct {
	Name          string   `json:"name"`
	Scored        int      `json:"scored"`
	Failed        int      `json:"failed"`
	NormalizedPRR *float64 `json:"normalized_prr"`
	ROCAUC        *float64 `json:"roc_auc"`
}

func defined(n eval.Number) *float64 {
	if !n.Defined {
		return nil
	}
	return &n.Value
}

// evalStage computes the metrics; it writes no file.
func evalStage(ctx context.Context, c *Config) (*result, error) {
	in, err := eval.Load(ctx, c.path(scoresFile), c.path(tracesFile))
	if err != nil {
		return nil, err
	}
	a, err := eval.Analyze(ctx, in, &eval.Config{Seed: c.Filter.Seed, Fractions: []float64{1}})
	if err != nil {
		return nil, err
	}
	cl := a.Classification
	s := evalSummary{Groups: a.Groups, Unlabelled: a.Unlabelled, Unparsed: cl.Unparsed,
		Accuracy: cl.Accuracy, MacroF1: cl.MacroF1}
	for _, m := range cl.PerClass {
		s.Classes = append(s.Classes, evalClass{m.Label, m.Support, m.Predicted, m.Precision, m.Recall, m.F1})
	}
	for _, e := range a.PerEstimator {
		es := evalEstimate{Name: e.Name, Scored: e.Scored, Failed: e.Failed}
		if e.Quality != nil {
			es.NormalizedPRR, es.ROCAUC = defined(e.Quality.NormalizedPRR), defined(e.Quality.ROCAUC)
		}
		s.Estimators = append(s.Estimators, es)
	}
	return &result{Stage: "eval", Output: c.path(scoresFile), Detail: s, line: s.String()}, nil
}

// String renders s as two aligned tables.
func (s evalSummary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d groups (%d without a label), greedy answers: accuracy %.3f, macro-F1 %.3f, %d unparsed\n",
		s.Groups, s.Unlabelled, s.Accuracy, s.MacroF1, s.Unparsed)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\tgold\tpredicted\tprecision\trecall\tF1\t")
	for _, c := range s.Classes {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t%.3f\t%.3f\t\n", c.Label, c.Support, c.Predicted, c.Precision, c.Recall, c.F1)
	}
	tw.Flush()
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "estimator\tscored\tfailed\tnormalised PRR\tROC-AUC\t")
	num := func(p *float64) string {
		if p == nil {
			return "undefined"
		}
		return fmt.Sprintf("%.3f", *p)
	}
	for _, e := range s.Estimators {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t\n", e.Name, e.Scored, e.Failed, num(e.NormalizedPRR), num(e.ROCAUC))
	}
	tw.Flush()
	return strings.TrimRight(b.String(), "\n")
}
