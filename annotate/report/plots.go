package report

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/labelfree/labelfree/annotate"
	"github.com/labelfree/labelfree/internal/figure"
)

// figures returns the report's plots for a. Every figure has a title,
// which Write marks.
func figures(a *Analysis) ([]*figure.Figure, error) {
	f, err := annotatorFigure(a)
	if err != nil {
		return nil, err
	}
	fs := []*figure.Figure{f}
	if len(a.Estimators) > 0 {
		f, err := estimatorFigure(a)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	for i := range a.Estimators {
		if len(a.Estimators[i].Quantiles) == 0 {
			continue
		}
		f, err := quantileFigure(a, &a.Estimators[i])
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	return fs, nil
}

var (
	soundColor   = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff} // blue
	correctColor = color.RGBA{R: 0x4c, G: 0x9a, B: 0x4c, A: 0xff} // green
	itemColor    = color.RGBA{R: 0x99, G: 0x99, B: 0x99, A: 0xff} // grey
	chanceColor  = color.Gray{Y: 0x60}
)

// bar returns a one-bar chart of height v at x, shifted by offset.
func bar(x, v float64, width, offset vg.Length, c color.Color) (*plotter.BarChart, error) {
	b, err := plotter.NewBarChart(plotter.Values{v}, width)
	if err != nil {
		return nil, err
	}
	b.XMin, b.Offset, b.Color = x, offset, c
	b.LineStyle.Width = vg.Points(0.5)
	return b, nil
}

// hline returns a dashed horizontal line at y from x0 to x1.
func hline(y, x0, x1 float64) (*plotter.Line, error) {
	l, err := plotter.NewLine(plotter.XYs{{X: x0, Y: y}, {X: x1, Y: y}})
	if err != nil {
		return nil, err
	}
	l.Color, l.Width, l.Dashes = chanceColor, vg.Points(1), []vg.Length{vg.Points(4), vg.Points(3)}
	return l, nil
}

// ticks returns ticks at lo, lo+step, …, hi, labelled with their value.
func ticks(lo, hi, step float64) plot.ConstantTicks {
	var ts plot.ConstantTicks
	for k := 0; lo+float64(k)*step <= hi+step/2; k++ {
		// Round away the error of k·step (0.6000000000000001).
		v := math.Round((lo+float64(k)*step)*1e9) / 1e9
		ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ts
}

// style gives p the report's look: a grid, the legend top right in small
// type.
func style(p *plot.Plot) {
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(9)
}

// annotatorFigure draws, per annotator, the share of their ratings at each
// soundness.
func annotatorFigure(a *Analysis) (*figure.Figure, error) {
	p := plot.New() // untitled: the figure's title says it all
	p.X.Label.Text = "soundness of the reasoning (1 = does not hold, 5 = sound throughout)"
	p.Y.Label.Text = "share of the annotator's rated items"
	k := len(a.Annotators)
	width := vg.Points(min(60/float64(k), 18))
	for j, an := range a.Annotators {
		if an.Rated == 0 {
			continue
		}
		vs := make(plotter.Values, len(an.Soundness))
		for s, n := range an.Soundness {
			vs[s] = float64(n) / float64(an.Rated)
		}
		b, err := plotter.NewBarChart(vs, width)
		if err != nil {
			return nil, fmt.Errorf("report: soundness-annotators: %w", err)
		}
		b.XMin = annotate.MinSoundness
		b.Offset = width * vg.Length(float64(j)-float64(k-1)/2)
		b.Color = plotutil.Color(j)
		b.LineStyle.Width = vg.Points(0.5)
		p.Add(b)
		p.Legend.Add(fmt.Sprintf("%s (%d items, mean %.2f)", an.Name, an.Rated, an.MeanSoundness()), b)
	}
	p.X.Min, p.X.Max = annotate.MinSoundness-0.6, annotate.MaxSoundness+0.6
	p.X.Tick.Marker = ticks(annotate.MinSoundness, annotate.MaxSoundness, 1)
	p.Y.Min, p.Y.Max = 0, 1.15
	p.Y.Tick.Marker = ticks(0, 1, 0.2)
	style(p)
	return &figure.Figure{
		Name:  "soundness-annotators",
		Title: "How each annotator used the soundness scale",
		Caption: "For each annotator, the share of their rated items given each soundness. Annotators who read the " +
			"scale alike have bars of similar heights; a shift to one side means one annotator is stricter or milder.",
		Panels: []*plot.Plot{p}, Width: 8 * vg.Inch, Height: 5 * vg.Inch,
	}, nil
}

// estimatorFigure draws each estimator's Spearman's rho and ROC-AUCs.
func estimatorFigure(a *Analysis) (*figure.Figure, error) {
	f := &figure.Figure{
		Name:  "estimators",
		Title: "How well each estimator's uncertainty predicts the expert ratings",
		Caption: "Left: Spearman's rank correlation between an estimator's uncertainty and the items' mean soundness; " +
			"a useful estimator is negative (more uncertain, less sound). Right: ROC-AUC of the uncertainty as a " +
			"detector of unsound items and of items whose answer was not rated correct; 0.5 (dashed) is chance, " +
			"1 perfect. A missing bar is a statistic the ratings leave undefined (see the estimators table).",
		Width: 11 * vg.Inch, Height: 5 * vg.Inch,
	}
	names := make([]string, len(a.Estimators))
	for i, e := range a.Estimators {
		names[i] = fmt.Sprintf("%s\n(%d items)", e.Name, e.N)
	}
	x1 := float64(len(names)) - 0.5
	rho := plot.New()
	rho.Title.Text = "Rank correlation with soundness"
	rho.X.Label.Text = "estimator (items it scored)"
	rho.Y.Label.Text = "Spearman's rho: uncertainty vs mean soundness"
	auc := plot.New()
	auc.Title.Text = "Detecting poorly rated items"
	auc.X.Label.Text = "estimator (items it scored)"
	auc.Y.Label.Text = "ROC-AUC (0.5 = chance, 1 = perfect)"
	width := vg.Points(22)
	var rhoBar, unsoundBar, incorrectBar *plotter.BarChart
	for i, e := range a.Estimators {
		x := float64(i)
		for _, s := range []struct {
			p      *plot.Plot
			v      Stat
			offset vg.Length
			c      color.Color
			legend **plotter.BarChart
		}{
			{rho, e.Spearman, 0, soundColor, &rhoBar},
			{auc, e.UnsoundAUC, -width / 2, soundColor, &unsoundBar},
			{auc, e.IncorrectAUC, width / 2, correctColor, &incorrectBar},
		} {
			if !s.v.Defined() {
				continue
			}
			b, err := bar(x, s.v.Value, width, s.offset, s.c)
			if err != nil {
				return nil, fmt.Errorf("report: %s: %w", f.Name, err)
			}
			s.p.Add(b)
			if *s.legend == nil {
				*s.legend = b
			}
		}
	}
	zero, err := hline(0, -0.5, x1)
	if err != nil {
		return nil, err
	}
	chance, err := hline(0.5, -0.5, x1)
	if err != nil {
		return nil, err
	}
	rho.Add(zero)
	auc.Add(chance)
	if rhoBar != nil {
		rho.Legend.Add("rho (negative = useful)", rhoBar)
	}
	rho.Legend.Add("no correlation", zero)
	if unsoundBar != nil {
		auc.Legend.Add(fmt.Sprintf("unsound (mean soundness < %s)", num(a.Config.Sound)), unsoundBar)
	}
	if incorrectBar != nil {
		auc.Legend.Add("answer not rated correct", incorrectBar)
	}
	auc.Legend.Add("chance", chance)
	for _, p := range []*plot.Plot{rho, auc} {
		p.NominalX(names...)
		p.X.Min, p.X.Max = -0.5, x1
		style(p)
	}
	rho.Y.Min, rho.Y.Max = -1, 1.45
	rho.Y.Tick.Marker = ticks(-1, 1, 0.5)
	auc.Y.Min, auc.Y.Max = 0, 1.35
	auc.Y.Tick.Marker = ticks(0, 1, 0.2)
	f.Panels = []*plot.Plot{rho, auc}
	return f, nil
}

// quantileFigure draws, for one estimator, the mean soundness and the
// share rated correct in each uncertainty quantile.
func quantileFigure(a *Analysis, e *Estimator) (*figure.Figure, error) {
	f := &figure.Figure{
		Name:  "quantiles-" + figure.FileName(e.Name),
		Title: fmt.Sprintf("Expert ratings by uncertainty quantile of %s", e.Name),
		Caption: fmt.Sprintf("The %d rated items %s scored, cut into %d groups by uncertainty (1 = least uncertain). "+
			"Left: each item's mean soundness over its annotators (grey) and the group's mean (blue). Right: the share of "+
			"the group's items whose answer most annotators marked correct. A useful estimator falls from left to right.",
			e.N, mdEscape(e.Name), a.Config.Quantiles),
		Width: 11 * vg.Inch, Height: 5 * vg.Inch,
	}
	soundness := make(map[string]float64, len(a.Items))
	for _, it := range a.Items {
		soundness[it.ID] = it.MeanSoundness
	}
	q := a.Config.Quantiles
	labels := make([]string, q)
	for i := range labels {
		labels[i] = fmt.Sprintf("%d\n(no items)", i+1)
	}
	var means plotter.XYs
	var dots plotter.XYs
	left, right := plot.New(), plot.New()
	width := vg.Points(min(240/float64(q), 40))
	var correct *plotter.BarChart
	for _, g := range e.Quantiles {
		x := float64(g.Quantile)
		labels[g.Quantile] = fmt.Sprintf("%d\n(%d items)", g.Quantile+1, g.N)
		means = append(means, plotter.XY{X: x, Y: g.MeanSoundness})
		for k, id := range g.IDs {
			// Spread the items sideways so that equal ratings stay visible.
			dx := 0.0
			if len(g.IDs) > 1 {
				dx = 0.3 * (float64(k)/float64(len(g.IDs)-1) - 0.5)
			}
			dots = append(dots, plotter.XY{X: x + dx, Y: soundness[id]})
		}
		b, err := bar(x, float64(g.Correct)/float64(g.N), width, 0, correctColor)
		if err != nil {
			return nil, fmt.Errorf("report: %s: %w", f.Name, err)
		}
		right.Add(b)
		correct = b
	}
	s, err := plotter.NewScatter(dots)
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w", f.Name, err)
	}
	s.Color, s.Radius, s.Shape = itemColor, vg.Points(2.5), draw.CircleGlyph{}
	l, pts, err := plotter.NewLinePoints(means)
	if err != nil {
		return nil, fmt.Errorf("report: %s: %w", f.Name, err)
	}
	l.Color, l.Width = soundColor, vg.Points(2)
	pts.Color, pts.Radius, pts.Shape = soundColor, vg.Points(4), draw.CircleGlyph{}
	left.Add(s, l, pts)
	left.Legend.Add("one item (mean over its annotators)", s)
	left.Legend.Add("mean of the group", l, pts)
	left.Title.Text = "Soundness of the reasoning"
	left.Y.Label.Text = "mean soundness (1 = does not hold, 5 = sound)"
	left.Y.Min, left.Y.Max = annotate.MinSoundness-0.2, annotate.MaxSoundness+1
	left.Y.Tick.Marker = ticks(annotate.MinSoundness, annotate.MaxSoundness, 1)

	right.Legend.Add("share of items rated correct", correct)
	right.Title.Text = "Correctness of the answer"
	right.Y.Label.Text = "share of the group's items rated correct"
	right.Y.Min, right.Y.Max = 0, 1.2
	right.Y.Tick.Marker = ticks(0, 1, 0.2)
	for _, p := range []*plot.Plot{left, right} {
		p.X.Label.Text = fmt.Sprintf("uncertainty quantile of %s (items in it)", e.Name)
		p.NominalX(labels...)
		p.X.Min, p.X.Max = -0.5, float64(q)-0.5
		style(p)
	}
	f.Panels = []*plot.Plot{left, right}
	return f, nil
}
