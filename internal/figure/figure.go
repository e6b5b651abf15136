package figure

import (
	"bytes"
	"fmt"
	"image/color"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	_ "gonum.org/v1/plot/vg/vgimg" // PNG canvases for draw.NewFormattedCanvas
	_ "gonum.org/v1/plot/vg/vgsvg" // SVG canvases
)

// Figure is one plot file of a report: a row of panels, under a title when
// it has one.
type Figure struct {
	// Name is the file name without its extension.
	Name string
	// Title is drawn centred above the panels; "" means none, for a
	// figure whose panels carry their own titles.
	Title string
	// Caption is the report's text about the figure; it is not drawn.
	Caption string
	// Panels are drawn left to right in equal widths, their plot areas
	// aligned. There must be at least one.
	Panels []*plot.Plot
	// Width and Height are the size of the whole figure.
	Width, Height vg.Length
}

// Layout, in points. The title's top is titleTop below the figure's top
// edge; the panels keep titleRoom below that edge under a title, pad
// without one, pad from the other edges but padRight from the right (room
// for the last tick label, which overhangs the plot area), and gap
// between each other.
const (
	titleSize = 14
	titleTop  = 8
	titleRoom = 34
	pad       = 8
	padRight  = 12
	gap       = 24
)

// Render draws f in format "png" or "svg" and returns the file's bytes.
// It panics if f has no panels.
func (f *Figure) Render(format string) ([]byte, error) {
	if len(f.Panels) == 0 {
		panic("figure: " + f.Name + " has no panels")
	}
	c, err := draw.NewFormattedCanvas(f.Width, f.Height, format)
	if err != nil {
		return nil, fmt.Errorf("figure: %s: %w", f.Name, err)
	}
	dc := draw.New(c)
	top := vg.Points(pad)
	if f.Title != "" {
		top = vg.Points(titleRoom)
		sty := text.Style{
			Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(titleSize)),
			XAlign: draw.XCenter, YAlign: draw.YTop, Handler: plot.DefaultTextHandler,
		}
		dc.FillText(sty, vg.Point{X: f.Width / 2, Y: f.Height - vg.Points(titleTop)}, f.Title)
	}
	tiles := draw.Tiles{Rows: 1, Cols: len(f.Panels), PadTop: top, PadBottom: vg.Points(pad),
		PadLeft: vg.Points(pad), PadRight: vg.Points(padRight), PadX: vg.Points(gap)}
	for i, cv := range plot.Align([][]*plot.Plot{f.Panels}, tiles, dc)[0] {
		f.Panels[i].Draw(cv)
	}
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("figure: %s.%s: %w", f.Name, format, err)
	}
	return b.Bytes(), nil
}

// Save renders f as PNG and as SVG and hands each file to write, named
// f.Name+".png" and f.Name+".svg", in that order. It returns the first
// error of Render or write.
func (f *Figure) Save(write func(file string, b []byte) error) error {
	for _, format := range []string{"png", "svg"} {
		b, err := f.Render(format)
		if err != nil {
			return err
		}
		if err := write(f.Name+"."+format, b); err != nil {
			return err
		}
	}
	return nil
}

// FileName turns a name (an estimator's, say) into a part of a file name:
// ASCII letters lowered, digits, '-' and '_' kept, anything else '_'.
func FileName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return '_'
	}, s)
}

// CheckFileNames returns an error naming the first two names that
// FileName turns into the same file name part: their plots would
// overwrite each other.
func CheckFileNames(names []string) error {
	seen := make(map[string]string, len(names))
	for _, n := range names {
		f := FileName(n)
		if other, dup := seen[f]; dup {
			return fmt.Errorf("figure: %q and %q would share the file name %q", other, n, f)
		}
		seen[f] = n
	}
	return nil
}
