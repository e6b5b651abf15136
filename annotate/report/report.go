package report

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/labelfree/labelfree/internal/figure"
	"github.com/labelfree/labelfree/score"
)

// Load reads the ratings directory dir (ReadDir) and, unless scores is "",
// the score file scores (score.ReadFile), and analyses them (Analyze). The
// Analysis remembers both names for the report's index.
func Load(ctx context.Context, dir, scores string, c *Config) (*Analysis, error) {
	r, err := ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var h *score.Header
	var records []score.Record
	if scores != "" {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("report: %w", context.Cause(ctx))
		}
		hdr, rs, err := score.ReadFile(scores)
		if err != nil {
			return nil, err
		}
		h, records = &hdr, rs
	}
	a, err := Analyze(r, h, records, c)
	if err != nil {
		return nil, err
	}
	a.RatingsDir, a.ScoreFile = dir, scores
	return a, nil
}

// Options tunes Write. A nil *Options means the zero Options, and every
// field's zero value means its default.
type Options struct {
	// Title heads index.md; "" means "labelfree annotation report".
	Title string
	// Note is a paragraph placed under the title, e.g. to say which model
	// wrote the traces; "" means none. It is Markdown, written as given.
	Note string
	// Mark, if not "", heads every table's and plot's title, e.g.
	// "PILOT", so that no page or image of the report can be taken for
	// something it is not.
	Mark string
}

// Write writes the report of a into the directory dir, creating it and
// its subdirectories tables/ and plots/ as needed and replacing files of
// the same names; see the package documentation for the layout. ctx is
// checked between files. Errors name the file.
func Write(ctx context.Context, dir string, a *Analysis, o *Options) error {
	if o == nil {
		o = &Options{}
	}
	var names []string
	for _, e := range a.Estimators {
		names = append(names, e.Name)
	}
	if err := figure.CheckFileNames(names); err != nil {
		return fmt.Errorf("report: estimators: %w", err)
	}
	write := func(name string, b []byte) error {
		if ctx.Err() != nil {
			return fmt.Errorf("report: %s: %w", name, context.Cause(ctx))
		}
		path := filepath.Join(dir, name)
		err := os.MkdirAll(filepath.Dir(path), 0o755)
		if err == nil {
			err = os.WriteFile(path, b, 0o644)
		}
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		return nil
	}
	ts := tables(a)
	for _, t := range ts {
		var b bytes.Buffer
		fmt.Fprintf(&b, "# %s\n\n%s\n\n", mdEscape(marked(o.Mark, t.title)), t.about)
		b.Write(t.markdown())
		if err := write(filepath.Join("tables", t.name+".md"), b.Bytes()); err != nil {
			return err
		}
		if err := write(filepath.Join("tables", t.name+".csv"), t.csv()); err != nil {
			return err
		}
	}
	fs, err := figures(a)
	if err != nil {
		return err
	}
	for _, f := range fs {
		f.Title = marked(o.Mark, f.Title)
		err := f.Save(func(file string, b []byte) error { return write(filepath.Join("plots", file), b) })
		if err != nil {
			return err
		}
	}
	return write("index.md", index(a, o, ts, fs))
}

func marked(mark, title string) string {
	if mark == "" {
		return title
	}
	return mark + ": " + title
}

// orUndefined formats s for prose.
func orUndefined(s Stat) string {
	if !s.Defined() {
		return "undefined (" + mdEscape(reason(s.Err)) + ")"
	}
	return fmt.Sprintf("%.3f", s.Value)
}

// index returns index.md.
func index(a *Analysis, o *Options, ts []*table, fs []*figure.Figure) []byte {
	var b bytes.Buffer
	title := o.Title
	if title == "" {
		title = "labelfree annotation report"
	}
	fmt.Fprintf(&b, "# %s\n\n", mdEscape(marked(o.Mark, title)))
	if o.Note != "" {
		fmt.Fprintf(&b, "%s\n\n", o.Note)
	}

	fmt.Fprintf(&b, "## Data\n\n")
	if a.RatingsDir != "" {
		fmt.Fprintf(&b, "- ratings: %s\n", mdEscape(a.RatingsDir))
	}
	var anns []string
	for _, an := range a.Annotators {
		anns = append(anns, fmt.Sprintf("%s (%d items)", mdEscape(an.Name), an.Rated))
	}
	fmt.Fprintf(&b, "- annotators: %s\n", strings.Join(anns, ", "))
	fmt.Fprintf(&b, "- items rated: %d, of which %d by two annotators or more\n", len(a.Items), a.Soundness.Pairable)
	if len(a.Torn) == 0 {
		fmt.Fprintf(&b, "- every ratings file ends cleanly\n")
	}
	for _, err := range a.Torn {
		fmt.Fprintf(&b, "- skipped a torn last line, a rating whose saving a crash cut short (it was never reported saved): %s\n",
			mdEscape(reason(err)))
	}
	if a.Scores == nil {
		fmt.Fprintf(&b, "- no score file: agreement only\n\n")
	} else {
		if a.ScoreFile != "" {
			fmt.Fprintf(&b, "- score file: %s (of the trace file %s)\n", mdEscape(a.ScoreFile), mdEscape(a.Scores.Traces))
		}
		fmt.Fprintf(&b, "- estimators: %s\n", mdEscape(strings.Join(a.Scores.Estimators, ", ")))
		if len(a.Unscored) == 0 {
			fmt.Fprintf(&b, "- every rated item is in the score file\n")
		} else {
			fmt.Fprintf(&b, "- rated items missing from the score file, left out of the estimator tables (%d): %s\n",
				len(a.Unscored), mdEscape(strings.Join(a.Unscored, ", ")))
		}
		fmt.Fprintf(&b, "\n%s\n\n", consensus(a))
	}

	fmt.Fprintf(&b, "## Headline\n\n")
	fmt.Fprintf(&b, "- agreement among all annotators, Krippendorff's alpha: on whether the answer is correct %s; "+
		"on the soundness of the reasoning %s (1 = perfect, 0 = chance)\n",
		orUndefined(a.Correct.Alpha), orUndefined(a.Soundness.Alpha))
	for _, e := range a.Estimators {
		fmt.Fprintf(&b, "- %s, over %d items: Spearman's rho with soundness %s (negative is useful); "+
			"ROC-AUC for unsound %s, for not correct %s (0.5 = chance, 1 = perfect)\n",
			mdEscape(e.Name), e.N, orUndefined(e.Spearman), orUndefined(e.UnsoundAUC), orUndefined(e.IncorrectAUC))
	}

	fmt.Fprintf(&b, "\n## Tables\n\nEach table as Markdown and as CSV (CSV leaves an undefined value empty; the last column says why).\n\n")
	for _, t := range ts {
		fmt.Fprintf(&b, "### %s\n\n%s\n\n[Markdown](tables/%s.md), [CSV](tables/%s.csv)\n\n",
			mdEscape(marked(o.Mark, t.title)), t.about, t.name, t.name)
	}
	fmt.Fprintf(&b, "## Plots\n\n")
	for _, f := range fs {
		title := mdEscape(f.Title)
		fmt.Fprintf(&b, "### %s\n\n%s [PNG](plots/%s.png), [SVG](plots/%s.svg)\n\n![%s](plots/%s.png)\n\n",
			title, f.Caption, f.Name, f.Name, title, f.Name)
	}
	return b.Bytes()
}
