package figure_test

import (
	"bytes"
	"image/color"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/labelfree/labelfree/internal/figure"
	"github.com/labelfree/labelfree/internal/figure/figuretest"
)

// panel returns a plot with a red line and its legend, titled title.
func panel(t *testing.T, title string) *plot.Plot {
	t.Helper()
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "x"
	p.Y.Label.Text = "y"
	l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 5, Y: 20}, {X: 10, Y: 10}})
	if err != nil {
		t.Fatal(err)
	}
	l.Color, l.Width = color.RGBA{R: 0xd0, A: 0xff}, vg.Points(3)
	p.Add(l, plotter.NewGrid())
	p.Legend.Add("data", l)
	return p
}

func TestSave(t *testing.T) {
	for _, tc := range []struct {
		name, title string
		panels      int
	}{
		{"one-untitled", "", 1},
		{"one-titled", "A title", 1},
		{"row-titled", "A title", 3},
		{"row-untitled", "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &figure.Figure{Name: tc.name, Title: tc.title, Width: vg.Length(tc.panels) * 6 * vg.Inch, Height: 4.5 * vg.Inch}
			for i := range tc.panels {
				f.Panels = append(f.Panels, panel(t, "panel "+string(rune('a'+i))))
			}
			files := map[string][]byte{}
			var order []string
			err := f.Save(func(name string, b []byte) error {
				files[name] = b
				order = append(order, name)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{tc.name + ".png", tc.name + ".svg"}; !slices.Equal(order, want) {
				t.Fatalf("files %v, want %v", order, want)
			}
			figuretest.CheckPNG(t, tc.name+".png", files[tc.name+".png"])
			figuretest.CheckSVG(t, tc.name+".svg", files[tc.name+".svg"])
			if tc.title != "" && !bytes.Contains(files[tc.name+".svg"], []byte(tc.title)) {
				t.Errorf("%s.svg does not hold the title %q", tc.name, tc.title)
			}
			// No time stamp, no machine: the same figure gives the same bytes.
			for _, format := range []string{"png", "svg"} {
				b, err := f.Render(format)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b, files[tc.name+"."+format]) {
					t.Errorf("%s.%s differs between two renderings", tc.name, format)
				}
			}
		})
	}
}

// TestSVGFonts checks that the SVG names its fonts and embeds none.
func TestSVGFonts(t *testing.T) {
	f := &figure.Figure{Name: "fonts", Title: "Title", Panels: []*plot.Plot{panel(t, "panel")}, Width: 4 * vg.Inch, Height: 3 * vg.Inch}
	b, err := f.Render("svg")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("Liberation")) {
		t.Error("the SVG does not name the Liberation fonts")
	}
	for _, embedded := range []string{"@font-face", "base64"} {
		if bytes.Contains(b, []byte(embedded)) {
			t.Errorf("the SVG holds %q: a font is embedded", embedded)
		}
	}
}

func TestRenderUnknownFormat(t *testing.T) {
	f := &figure.Figure{Name: "x", Panels: []*plot.Plot{plot.New()}, Width: vg.Inch, Height: vg.Inch}
	if _, err := f.Render("bmp"); err == nil {
		t.Error("no error for format bmp")
	}
}

func TestFileName(t *testing.T) {
	for in, want := range map[string]string{
		"cocoa-ppl": "cocoa-ppl", "MSP": "msp", "semantic entropy/2": "semantic_entropy_2", "é_1": "__1",
	} {
		if got := figure.FileName(in); got != want {
			t.Errorf("FileName(%q) = %q, want %q", in, got, want)
		}
	}
	if err := figure.CheckFileNames([]string{"msp", "cocoa-ppl", "self-consistency"}); err != nil {
		t.Errorf("distinct names: %v", err)
	}
	err := figure.CheckFileNames([]string{"msp", "a b", "MSP"})
	if err == nil || !strings.Contains(err.Error(), `"msp" and "MSP" would share the file name "msp"`) {
		t.Errorf("colliding names: %v", err)
	}
}
