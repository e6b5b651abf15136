package report

import (
	"slices"
	"strings"

	"github.com/labelfree/labelfree/eval"
	"github.com/labelfree/labelfree/filter"
)

// tableSpec is one table of the report: its file name (without
// extension), its title and what it shows, and how to build it.
type tableSpec struct {
	name, title, about string
	build              func(c cells) *table
}

// tables returns the report's tables for a, in the order of the index.
func tables(a *eval.Analysis, sels []*filter.Selection) []tableSpec {
	ts := []tableSpec{
		{"classification", "Classification of the greedy answer r0",
			"Per-class precision, recall and F1 of r0's answer against the gold label, with macro means and accuracy " +
				"(sklearn's zero_division=0: a ratio with a zero denominator is 0; macro means run over every class of the label set).",
			func(c cells) *table { return classificationTable(a, c) }},
		{"confusion", "Confusion matrix of r0",
			"Rows are gold labels, columns r0's answers; the column \"unparsed\" counts answers that could not be parsed.",
			func(c cells) *table { return confusionTable(a) }},
	}
	if a.AUC != nil {
		ts = append(ts,
			tableSpec{"auc_per_gene", "PerturbQA auc_per_gene",
				"PerturbQA's official metric: ROC-AUC per downstream gene across perturbations, genes with a single label skipped, " +
					"then the mean over genes. " + aucScoreNote(a),
				func(c cells) *table { return aucTable(a, c) }},
			tableSpec{"auc_genes", "PerturbQA ROC-AUC of each gene",
				"The per-gene ROC-AUCs whose mean is auc_per_gene (key: cell/gene).",
				func(c cells) *table { return aucGenesTable(a, c) }})
	}
	ts = append(ts,
		tableSpec{"estimators", "How well each uncertainty tracks r0's correctness",
			"Quality = 1 when r0 is right, 0 when wrong or unparsed. PRR: mean accuracy of the k least uncertain groups averaged over k " +
				"(higher is better); normalised PRR: 0 random, 1 oracle; ROC-AUC: probability that a wrong answer is more uncertain than a right one; " +
				"RC-AUC: area under the risk–coverage curve (lower is better). Blank: undefined (every r0 right or every one wrong).",
			func(c cells) *table { return estimatorTable(a, c) }},
		tableSpec{"reliability", "Reliability: accuracy of r0 by uncertainty bin",
			"Groups sorted by uncertainty and cut into equal-count bins, bin 1 the least uncertain.",
			func(c cells) *table { return reliabilityTable(a, c) }},
		tableSpec{"retention", "Retention curves",
			"For each estimator, strategy and retained fraction q: what was kept and how good it is. The class is r0's answer. " +
				"kept share = kept/eligible of the class; accuracy = share of the kept groups answering the class whose gold label is that class; " +
				"F1 = the class's F1 on the kept set. Per-class keeps ⌈q·n_c⌉ of each class, global ⌈q·n⌉ overall, random as many as per-class, at random.",
			func(c cells) *table { return retentionTable(a, c) }},
		tableSpec{"filter_summary", "Filter summary",
			"What each strategy kept and left out at the summary fraction, per class (r0's answer), with the uncertainty threshold it cut at.",
			func(c cells) *table { return summaryTable(a, sels, c) }},
	)
	return ts
}

func aucScoreNote(a *eval.Analysis) string {
	if a.AUCFromVotes {
		return "Scores ranked: DE task P(DE) = share of a group's parsed answers (r0 and its samples) saying up or down; " +
			"direction task (gold up or down only) P(up | DE) = share of up among the answers saying up or down."
	}
	return "Scores ranked: r0's answer alone (no trace file was read), so each AUC is that of a hard 0/1 prediction."
}

func classificationTable(a *eval.Analysis, c cells) *table {
	t := &table{header: []string{"class", "support", "predicted", "precision", "recall", "f1"}}
	cl := a.Classification
	for _, m := range cl.PerClass {
		t.add(m.Label, itoa(m.Support), itoa(m.Predicted), c.f(m.Precision), c.f(m.Recall), c.f(m.F1))
	}
	t.add("macro", itoa(cl.N), itoa(cl.N-cl.Unparsed), c.f(cl.MacroPrecision), c.f(cl.MacroRecall), c.f(cl.MacroF1))
	t.add("accuracy", itoa(cl.N), "", "", "", c.f(cl.Accuracy))
	return t
}

func confusionTable(a *eval.Analysis) *table {
	cm := a.Classification.Confusion
	t := &table{header: []string{"gold \\ r0"}}
	t.header = append(t.header, cm.Labels...)
	t.header = append(t.header, "unparsed", "total")
	for i, row := range cm.Counts {
		r := []string{cm.Labels[i]}
		sum := 0
		for _, v := range row {
			r = append(r, itoa(v))
			sum += v
		}
		t.add(append(r, itoa(sum))...)
	}
	return t
}

func aucTable(a *eval.Analysis, c cells) *table {
	t := &table{header: []string{"task", "auc_per_gene", "genes scored", "genes skipped", "note"}}
	row := func(task string, g eval.GeneAUC, err error) {
		if err != nil {
			t.add(task, "", "0", itoa(g.Skipped), err.Error())
			return
		}
		t.add(task, c.f(g.Mean), itoa(len(g.Genes)), itoa(g.Skipped), "")
	}
	row("differential expression", a.AUC.DE, a.AUC.DEErr)
	row("direction", a.AUC.Direction, a.AUC.DirectionErr)
	return t
}

func aucGenesTable(a *eval.Analysis, c cells) *table {
	t := &table{header: []string{"task", "gene", "auc", "n", "positive"}}
	for _, task := range []struct {
		name string
		g    eval.GeneAUC
	}{{"de", a.AUC.DE}, {"direction", a.AUC.Direction}} {
		for _, g := range task.g.Genes {
			t.add(task.name, g.Gene, c.f(g.AUC), itoa(g.N), itoa(g.Positive))
		}
	}
	return t
}

func estimatorTable(a *eval.Analysis, c cells) *table {
	t := &table{header: []string{"estimator", "scored", "failed", "wrong", "prr", "prr_normalized", "roc_auc", "rc_auc"}}
	for _, e := range a.PerEstimator {
		q := e.Quality
		if q == nil {
			t.add(e.Name, itoa(e.Scored), itoa(e.Failed), "", "", "", "", "")
			continue
		}
		t.add(e.Name, itoa(e.Scored), itoa(e.Failed), itoa(q.Wrong), c.f(q.PRR), c.n(q.NormalizedPRR), c.n(q.ROCAUC), c.f(q.RiskCoverageAUC))
	}
	return t
}

func reliabilityTable(a *eval.Analysis, c cells) *table {
	t := &table{header: []string{"estimator", "bin", "n", "correct", "accuracy", "min_uncertainty", "max_uncertainty"}}
	for _, e := range a.PerEstimator {
		for i, b := range e.Reliability {
			t.add(e.Name, itoa(i+1), itoa(b.N), itoa(b.Correct), c.f(b.Accuracy), c.f(b.Lo), c.f(b.Hi))
		}
	}
	return t
}

func retentionTable(a *eval.Analysis, c cells) *table {
	t := &table{header: []string{"estimator", "strategy", "q", "kept", "eligible", "accuracy", "macro_f1", "balance"}}
	for _, l := range a.Labels {
		t.header = append(t.header, l+" kept", l+" kept share", l+" accuracy", l+" f1")
	}
	for _, e := range a.PerEstimator {
		for _, cu := range e.Curves {
			for _, p := range cu.Points {
				r := []string{e.Name, cu.Strategy, fraction(p.Fraction), itoa(p.Kept), itoa(p.Eligible),
					c.f(p.Accuracy), c.f(p.MacroF1), c.n(p.Balance())}
				for _, cp := range p.Classes {
					r = append(r, itoa(cp.Kept), c.n(cp.Retained), c.n(cp.Accuracy), c.f(cp.F1))
				}
				t.add(r...)
			}
		}
	}
	return t
}

func summaryTable(a *eval.Analysis, sels []*filter.Selection, c cells) *table {
	t := &table{header: []string{"source", "estimator", "strategy", "q", "class", "total", "eligible", "kept", "threshold", "excluded"}}
	row := func(source string, q float64, s *filter.Summary) {
		excluded := excludedString(s.Excluded)
		t.add(source, s.Estimator, s.Strategy, fraction(q), "all", itoa(s.Groups), itoa(s.Eligible), itoa(s.Kept), "", excluded)
		for _, cs := range s.Classes {
			th := ""
			if cs.Threshold != nil {
				th = c.f(*cs.Threshold)
			}
			t.add(source, s.Estimator, s.Strategy, fraction(q), cs.Class, itoa(cs.Total), itoa(cs.Eligible), itoa(cs.Kept), th, "")
		}
	}
	for _, e := range a.PerEstimator {
		for _, cu := range e.Curves {
			if p := cu.At(a.SummaryFraction); p != nil {
				row("analysis (labelled groups)", p.Fraction, &p.Summary)
			}
		}
	}
	for _, s := range sels {
		src := "selection file"
		if s.Header.Scores != "" {
			src += " of " + s.Header.Scores
		}
		row(src, s.Header.Fraction, &s.Header.Summary)
	}
	return t
}

// excludedString lists a Summary's exclusions, "reason=n; …", by reason.
func excludedString(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+itoa(m[k]))
	}
	return strings.Join(parts, "; ")
}
