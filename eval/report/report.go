// Package report writes an eval.Analysis as a directory a reader can
// browse: tables in Markdown and CSV, plots in PNG and SVG (drawn with
// gonum.org/v1/plot), and an index.md that links them all.
//
// # Layout
//
//	index.md                         what was measured, headline numbers, links
//	tables/classification.{md,csv}   per-class precision/recall/F1, macro-F1, accuracy of r0
//	tables/confusion.{md,csv}        gold × r0 answer, with an "unparsed" column
//	tables/auc_per_gene.{md,csv}     PerturbQA's auc_per_gene (PerturbQA input only)
//	tables/auc_genes.{md,csv}        its per-gene ROC-AUCs
//	tables/estimators.{md,csv}       PRR, normalised PRR, ROC-AUC, RC-AUC per estimator
//	tables/reliability.{md,csv}      accuracy per uncertainty bin
//	tables/retention.{md,csv}        retention curves: estimator × strategy × q, per class
//	tables/filter_summary.{md,csv}   kept per class and thresholds at the summary fraction
//	plots/uncertainty-<est>.{png,svg}        uncertainty by r0 class, right vs wrong
//	plots/retention-accuracy-<est>.{png,svg} accuracy vs q per class and strategy
//	plots/retention-f1-<est>.{png,svg}       F1 vs q per class and strategy
//	plots/retention-kept-<est>.{png,svg}     share of each class kept vs q per strategy
//	plots/reliability.{png,svg}              accuracy by uncertainty bin, per estimator
//
// # Determinism
//
// The same Analysis and Options give the same bytes in every file: tables
// are written in a fixed order with fixed number formats (CSV: the
// shortest decimal that reads back as the same float64; Markdown: four
// digits after the point), and plots hold no time stamp (SVG refers to
// fonts by name and embeds none).
package report

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/labelfree/labelfree/eval"
	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/internal/figure"
)

// Options tunes Write. A nil *Options means the zero Options, and every
// field's zero value means its default.
type Options struct {
	// Title heads index.md; "" means "labelfree evaluation report".
	Title string
	// Note is a paragraph placed under the title, e.g. to say that the data
	// are simulated; "" means none.
	Note string
	// Mark, if not "", heads every table's title and every plot's title,
	// e.g. "SIMULATED", so that no page or image of the report can be
	// taken for something it is not.
	Mark string
	// Selections are selection files (filter.ReadFile) whose summaries
	// join the filter summary table, besides the Analysis's own.
	Selections []*filter.Selection
}

// Write writes the report of a into the directory dir, creating it and
// its subdirectories tables/ and plots/ as needed and replacing files of
// the same names. ctx is checked between files. Errors name the file.
func Write(ctx context.Context, dir string, a *eval.Analysis, o *Options) error {
	if o == nil {
		o = &Options{}
	}
	var names []string
	for _, e := range a.PerEstimator {
		names = append(names, e.Name)
	}
	if err := figure.CheckFileNames(names); err != nil {
		return fmt.Errorf("report: estimators: %w", err)
	}
	for _, sub := range []string{"tables", "plots"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	write := func(name string, b []byte) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("report: %w", context.Cause(ctx))
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		return nil
	}
	ts := tables(a, o.Selections)
	for _, t := range ts {
		md := t.build(cells{md: true})
		var b bytes.Buffer
		fmt.Fprintf(&b, "# %s\n\n%s\n\n", marked(o.Mark, t.title), t.about)
		b.Write(md.markdown())
		if err := write(filepath.Join("tables", t.name+".md"), b.Bytes()); err != nil {
			return err
		}
		if err := write(filepath.Join("tables", t.name+".csv"), t.build(cells{}).csv()); err != nil {
			return err
		}
	}
	fs, err := figures(a)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if f.Title != "" {
			f.Title = marked(o.Mark, f.Title)
		} else {
			f.Panels[0].Title.Text = marked(o.Mark, f.Panels[0].Title.Text)
		}
		err := f.Save(func(file string, b []byte) error { return write(filepath.Join("plots", file), b) })
		if err != nil {
			return err
		}
	}
	return write("index.md", index(a, o, ts, fs))
}

// index returns index.md.
func index(a *eval.Analysis, o *Options, ts []tableSpec, fs []*figure.Figure) []byte {
	var b bytes.Buffer
	title := o.Title
	if title == "" {
		title = "labelfree evaluation report"
	}
	fmt.Fprintf(&b, "# %s\n\n", marked(o.Mark, title))
	if o.Note != "" {
		fmt.Fprintf(&b, "%s\n\n", o.Note)
	}
	cl := a.Classification
	fmt.Fprintf(&b, "## Data\n\n")
	fmt.Fprintf(&b, "- groups: %d, of which %d without a gold label (left out of every metric); evaluated: %d\n", a.Groups, a.Unlabelled, cl.N)
	fmt.Fprintf(&b, "- label set: %s; r0 answers that could not be parsed: %d\n", strings.Join(a.Labels, ", "), cl.Unparsed)
	fmt.Fprintf(&b, "- estimators: %s\n", strings.Join(a.Estimators, ", "))
	fmt.Fprintf(&b, "- retained fractions q: %s; filter summary at q = %s; random strategy seed %d\n\n",
		fractions(a.Fractions), fraction(a.SummaryFraction), a.Seed)
	fmt.Fprintf(&b, "## Headline\n\n")
	fmt.Fprintf(&b, "- r0 accuracy %s, macro-F1 %s\n", mdFloat(cl.Accuracy), mdFloat(cl.MacroF1))
	if a.AUC != nil {
		for _, t := range []struct {
			name string
			g    eval.GeneAUC
			err  error
		}{{"differential expression", a.AUC.DE, a.AUC.DEErr}, {"direction", a.AUC.Direction, a.AUC.DirectionErr}} {
			if t.err != nil {
				fmt.Fprintf(&b, "- auc_per_gene, %s: undefined (%v)\n", t.name, t.err)
			} else {
				fmt.Fprintf(&b, "- auc_per_gene, %s: %s over %d genes (%d skipped)\n", t.name, mdFloat(t.g.Mean), len(t.g.Genes), t.g.Skipped)
			}
		}
	} else {
		fmt.Fprintf(&b, "- auc_per_gene: not computed (%s)\n", a.AUCSkip)
	}
	fmt.Fprintf(&b, "\nPer estimator: how well the uncertainty ranks r0's correctness, and what each strategy keeps at q = %s "+
		"(kept groups, their accuracy, and balance: the smallest kept share of an r0 class divided by the largest, "+
		"1 when every class keeps the same share, 0 when a class is starved).\n\n", fraction(a.SummaryFraction))
	t := &table{header: []string{"estimator", "scored", "normalised PRR", "ROC-AUC"}}
	strategies := []string{filter.NamePerClass, filter.NameGlobal, filter.NameRandom}
	for _, s := range strategies {
		t.header = append(t.header, s+" kept", s+" accuracy", s+" balance")
	}
	for _, e := range a.PerEstimator {
		if e.Quality == nil {
			t.add(e.Name, itoa(e.Scored))
			continue
		}
		r := []string{e.Name, itoa(e.Scored), orUndefined(e.Quality.NormalizedPRR), orUndefined(e.Quality.ROCAUC)}
		for _, cu := range e.Curves {
			if p := cu.At(a.SummaryFraction); p != nil {
				r = append(r, itoa(p.Kept), mdFloat(p.Accuracy), orUndefined(p.Balance()))
			}
		}
		t.add(r...)
	}
	b.Write(t.markdown())
	b.WriteString("\n")
	fmt.Fprintf(&b, "## Tables\n\n")
	for _, t := range ts {
		fmt.Fprintf(&b, "- %s: [Markdown](tables/%s.md), [CSV](tables/%s.csv)\n", t.title, t.name, t.name)
	}
	fmt.Fprintf(&b, "\n## Plots\n\n")
	for _, f := range fs {
		title := f.Title
		if title == "" {
			title = f.Panels[0].Title.Text
		}
		fmt.Fprintf(&b, "### %s\n\n%s [PNG](plots/%s.png), [SVG](plots/%s.svg)\n\n![%s](plots/%s.png)\n\n", title, f.Caption, f.Name, f.Name, title, f.Name)
	}
	return b.Bytes()
}

// marked returns title headed by mark.
func marked(mark, title string) string {
	if mark == "" {
		return title
	}
	return mark + ": " + title
}

func orUndefined(n eval.Number) string {
	if !n.Defined {
		return "undefined"
	}
	return mdFloat(n.Value)
}

func fractions(qs []float64) string {
	s := make([]string, len(qs))
	for i, q := range qs {
		s[i] = fraction(q)
	}
	return strings.Join(s, ", ")
}
