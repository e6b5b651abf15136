package report

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/labelfree/labelfree/eval"
	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/internal/figure"
)

// figures returns the report's plots for a. A figure of one panel has no
// figure title: its panel's title says it all.
func figures(a *eval.Analysis) ([]*figure.Figure, error) {
	var fs []*figure.Figure
	for _, e := range a.PerEstimator {
		if e.Quality == nil {
			continue
		}
		f, err := distributionFigure(a, e)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	for _, e := range a.PerEstimator {
		if len(e.Curves) == 0 {
			continue
		}
		for _, metric := range []string{"accuracy", "f1", "kept"} {
			f, err := retentionFigure(a, e, metric)
			if err != nil {
				return nil, err
			}
			fs = append(fs, f)
		}
	}
	f, err := reliabilityFigure(a)
	if err != nil {
		return nil, err
	}
	if f != nil {
		fs = append(fs, f)
	}
	return fs, nil
}

// unit describes the scale of the registered estimators' uncertainties,
// for axis labels; "" for an estimator this package does not know.
func unit(estimator string) string {
	switch estimator {
	case "msp":
		return "nats, −Σ log p over r0"
	case "log-perplexity":
		return "nats per token"
	case "perplexity":
		return "exp(nats per token), ≥ 1"
	case "mte":
		return "mean token entropy, nats"
	case "max-entropy":
		return "largest token entropy, nats"
	case "self-consistency":
		return "share of samples disagreeing with r0, 0–1"
	case "semantic-entropy", "semantic-entropy-weighted":
		return "entropy over answer classes, nats"
	case "num-sem-sets":
		return "number of answer classes"
	case "degmat", "eccentricity", "eigval-laplacian", "lexical-similarity":
		return "dimensionless"
	case "cocoa-msp":
		return "nats × disagreement"
	case "cocoa-ppl", "cocoa-mte":
		return "nats per token × disagreement"
	}
	return ""
}

func uncertaintyLabel(estimator string) string {
	if u := unit(estimator); u != "" {
		return fmt.Sprintf("uncertainty %s\n(%s; higher = less trustworthy)", estimator, u)
	}
	return fmt.Sprintf("uncertainty %s\n(higher = less trustworthy)", estimator)
}

// swatch is a legend thumbnail: a filled, outlined square.
type swatch struct {
	fill color.Color
	line draw.LineStyle
}

func (s swatch) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{
		{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y},
		{X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y},
	}
	c.FillPolygon(s.fill, pts)
	c.StrokeLines(s.line, append(pts, pts[0]))
}

var (
	rightColor = color.RGBA{R: 0x4c, G: 0x9a, B: 0x4c, A: 0xff} // green
	wrongColor = color.RGBA{R: 0xd0, G: 0x5a, B: 0x4a, A: 0xff} // red
)

// distributionFigure draws box plots of e's uncertainties per r0 class,
// right and wrong answers side by side.
func distributionFigure(a *eval.Analysis, e *eval.EstimatorAnalysis) (*figure.Figure, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Uncertainty (%s) of the greedy answer r0, by r0's answer", e.Name)
	p.X.Label.Text = "r0's answer (the class filtering groups by); n = groups whose r0 is right / wrong"
	p.Y.Label.Text = uncertaintyLabel(e.Name)
	const boxW = 18
	var names []string
	x := 0.0
	for _, d := range e.Distribution {
		if len(d.Right)+len(d.Wrong) == 0 {
			continue
		}
		for k, vs := range [][]float64{d.Right, d.Wrong} {
			if len(vs) == 0 {
				continue
			}
			b, err := plotter.NewBoxPlot(vg.Points(boxW), x, plotter.Values(vs))
			if err != nil {
				return nil, fmt.Errorf("report: %s: %w", e.Name, err)
			}
			fill := rightColor
			b.Offset = -vg.Points(boxW/2 + 1)
			if k == 1 {
				fill, b.Offset = wrongColor, vg.Points(boxW/2+1)
			}
			b.FillColor = withAlpha(fill, 0x90)
			b.GlyphStyle.Color = fill
			b.GlyphStyle.Radius = vg.Points(1.5)
			p.Add(b)
		}
		names = append(names, fmt.Sprintf("%s (n = %d / %d)", label(d.Label), len(d.Right), len(d.Wrong)))
		x++
	}
	p.NominalX(names...)
	// Headroom above the data for the legend.
	p.Y.Max += 0.2 * (p.Y.Max - p.Y.Min)
	line := draw.LineStyle{Color: color.Black, Width: vg.Points(0.5)}
	p.Legend.Add("r0 right (answer = gold label)", swatch{withAlpha(rightColor, 0x90), line})
	p.Legend.Add("r0 wrong", swatch{withAlpha(wrongColor, 0x90), line})
	p.Legend.Top = true
	p.Legend.YOffs = -vg.Points(6)
	p.Add(plotter.NewGrid())
	return &figure.Figure{
		Name: "uncertainty-" + figure.FileName(e.Name),
		Caption: fmt.Sprintf("Distribution of %s per r0 answer class; box = quartiles, line = median, whiskers = 1.5 IQR, dots = outliers.",
			e.Name),
		Panels: []*plot.Plot{p}, Width: 8 * vg.Inch, Height: 5 * vg.Inch,
	}, nil
}

func withAlpha(c color.RGBA, a uint8) color.NRGBA {
	return color.NRGBA{R: c.R, G: c.G, B: c.B, A: a}
}

// strategyStyle returns the colour and dashes of a strategy's line.
func strategyStyle(s string) (color.Color, []vg.Length) {
	switch s {
	case filter.NamePerClass:
		return color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, nil
	case filter.NameGlobal:
		return color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, []vg.Length{vg.Points(6), vg.Points(3)}
	}
	return color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}, []vg.Length{vg.Points(2), vg.Points(2)}
}

var strategyLegend = map[string]string{
	filter.NamePerClass: "per-class: lowest-uncertainty q of each class",
	filter.NameGlobal:   "global: lowest-uncertainty q overall",
	filter.NameRandom:   "random: as many as per-class, at random",
}

// addLine adds a line with points to p; xys may skip undefined points.
func addLine(p *plot.Plot, xys plotter.XYs, legend string, c color.Color, dashes []vg.Length, shape int) error {
	if len(xys) == 0 {
		return nil
	}
	l, s, err := plotter.NewLinePoints(xys)
	if err != nil {
		return err
	}
	l.Color, l.Dashes, l.Width = c, dashes, vg.Points(1.5)
	s.Color, s.Shape, s.Radius = c, plotutil.Shape(shape), vg.Points(2.5)
	p.Add(l, s)
	p.Legend.Add(legend, l, s)
	return nil
}

// retentionFigure draws, for one estimator, a metric of the kept groups
// against the retained fraction: one panel per class and one for all,
// one line per strategy ("accuracy", "f1"); or, for "kept", the share of
// each class kept, one panel per strategy, one line per class.
func retentionFigure(a *eval.Analysis, e *eval.EstimatorAnalysis, metric string) (*figure.Figure, error) {
	xLabel := "retained fraction q (share of eligible groups asked for)"
	var panels []*plot.Plot
	f := &figure.Figure{Name: "retention-" + metric + "-" + figure.FileName(e.Name), Height: 4.5 * vg.Inch}
	switch metric {
	case "accuracy", "f1":
		name := map[string]string{"accuracy": "Accuracy", "f1": "F1"}[metric]
		f.Title = fmt.Sprintf("%s of the kept groups vs retained fraction, ranked by %s", name, e.Name)
		f.Caption = fmt.Sprintf("%s of the kept groups per r0 class (and overall) as q grows, for the three strategies, ranked by %s.", name, e.Name)
		for ci := -1; ci < len(a.Labels); ci++ {
			p := plot.New()
			switch {
			case ci < 0 && metric == "accuracy":
				p.Title.Text = "all classes"
				p.Y.Label.Text = "accuracy of r0 on kept groups (share right)"
			case ci < 0:
				p.Title.Text = "all classes"
				p.Y.Label.Text = "macro-F1 of r0 on kept groups"
			case metric == "accuracy":
				p.Title.Text = "class " + a.Labels[ci]
				p.Y.Label.Text = fmt.Sprintf("share of kept %q answers that are right", a.Labels[ci])
			default:
				p.Title.Text = "class " + a.Labels[ci]
				p.Y.Label.Text = fmt.Sprintf("F1 of %q on kept groups", a.Labels[ci])
			}
			p.X.Label.Text = xLabel
			for k, cu := range e.Curves {
				var xys plotter.XYs
				for _, pt := range cu.Points {
					y, ok := pointMetric(&pt.Point, ci, metric)
					if ok {
						xys = append(xys, plotter.XY{X: pt.Fraction, Y: y})
					}
				}
				c, d := strategyStyle(cu.Strategy)
				if err := addLine(p, xys, strategyLegend[cu.Strategy], c, d, k); err != nil {
					return nil, fmt.Errorf("report: %s: %w", f.Name, err)
				}
			}
			setUnitAxes(p)
			panels = append(panels, p)
		}
	case "kept":
		f.Title = fmt.Sprintf("Share of each r0 class kept vs retained fraction, ranked by %s", e.Name)
		f.Caption = fmt.Sprintf("How much of each r0 class each strategy keeps, ranked by %s: per-class keeps every class alike; "+
			"global can starve a class whose uncertainties run high.", e.Name)
		for _, cu := range e.Curves {
			p := plot.New()
			p.Title.Text = "strategy " + cu.Strategy
			p.X.Label.Text = xLabel
			p.Y.Label.Text = "kept / eligible groups of the class (share)"
			for ci, l := range a.Labels {
				var xys plotter.XYs
				for _, pt := range cu.Points {
					if r := pt.Classes[ci].Retained; r.Defined {
						xys = append(xys, plotter.XY{X: pt.Fraction, Y: r.Value})
					}
				}
				if err := addLine(p, xys, "r0 answered "+l, plotutil.Color(ci), plotutil.Dashes(ci), ci); err != nil {
					return nil, fmt.Errorf("report: %s: %w", f.Name, err)
				}
			}
			diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
			if err != nil {
				return nil, err
			}
			diag.Color, diag.Width, diag.Dashes = color.Gray{Y: 0xa0}, vg.Points(0.75), []vg.Length{vg.Points(1), vg.Points(2)}
			p.Add(diag)
			p.Legend.Add("kept share = q", diag)
			setUnitAxes(p)
			panels = append(panels, p)
		}
	default:
		return nil, fmt.Errorf("report: unknown retention metric %q", metric)
	}
	f.Panels = panels
	f.Width = vg.Length(len(panels)) * 4.5 * vg.Inch
	return f, nil
}

// pointMetric returns the metric of class ci (−1 for all classes) at p,
// and whether it is defined.
func pointMetric(p *eval.Point, ci int, metric string) (float64, bool) {
	if p.Kept == 0 {
		return 0, false
	}
	switch {
	case ci < 0 && metric == "accuracy":
		return p.Accuracy, true
	case ci < 0:
		return p.MacroF1, true
	case metric == "accuracy":
		return p.Classes[ci].Accuracy.Value, p.Classes[ci].Accuracy.Defined
	}
	return p.Classes[ci].F1, true
}

// setUnitAxes fixes both axes to [0, 1], adds a grid and puts the legend
// in the lower right.
func setUnitAxes(p *plot.Plot) {
	p.X.Min, p.X.Max = 0, 1
	p.Y.Min, p.Y.Max = 0, 1.02
	p.Legend.Top = false
	p.Legend.Left = false
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.Add(plotter.NewGrid())
}

// reliabilityFigure draws r0's accuracy per uncertainty bin, one line per
// estimator; nil when no estimator scored anything.
func reliabilityFigure(a *eval.Analysis) (*figure.Figure, error) {
	p := plot.New()
	bins := 0
	for _, e := range a.PerEstimator {
		bins = max(bins, len(e.Reliability))
	}
	if bins == 0 {
		return nil, nil
	}
	p.Title.Text = fmt.Sprintf("Reliability: accuracy of the greedy answer r0 by uncertainty bin (%d equal-count bins)", bins)
	p.X.Label.Text = fmt.Sprintf("uncertainty bin, 1 = least uncertain 1/%d of groups, %d = most uncertain", bins, bins)
	p.Y.Label.Text = "accuracy of r0 in the bin (share right)"
	for i, e := range a.PerEstimator {
		var xys plotter.XYs
		for b, bin := range e.Reliability {
			xys = append(xys, plotter.XY{X: float64(b + 1), Y: bin.Accuracy})
		}
		if err := addLine(p, xys, e.Name, plotutil.Color(i), plotutil.Dashes(i/len(plotutil.DefaultColors)), i); err != nil {
			return nil, fmt.Errorf("report: reliability: %w", err)
		}
	}
	overall := a.Classification.Accuracy
	ref, err := plotter.NewLine(plotter.XYs{{X: 1, Y: overall}, {X: float64(bins), Y: overall}})
	if err != nil {
		return nil, err
	}
	ref.Color, ref.Dashes = color.Gray{Y: 0x80}, []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(ref)
	p.Legend.Add(fmt.Sprintf("overall accuracy %.3f", overall), ref)
	p.X.Min, p.X.Max = 0.5, float64(bins)+0.5
	ticks := make([]plot.Tick, bins)
	for b := range ticks {
		ticks[b] = plot.Tick{Value: float64(b + 1), Label: itoa(b + 1)}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min, p.Y.Max = 0, 1.02
	p.Legend.Top = false
	p.Legend.Left = true
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.Add(plotter.NewGrid())
	return &figure.Figure{
		Name:    "reliability",
		Caption: "Accuracy of r0 in each uncertainty bin, per estimator: a useful uncertainty gives a curve that falls from left to right.",
		Panels:  []*plot.Plot{p}, Width: 9 * vg.Inch, Height: 5.5 * vg.Inch,
	}, nil
}
