// Package figuretest checks, in tests, the files that package figure
// renders: that a PNG or an SVG is well-formed, of a sane size, and shows
// a plot rather than an empty canvas.
package figuretest

import (
	"bytes"
	"encoding/xml"
	"image/color"
	"image/png"
	"testing"
)

// CheckPNG reports an error through t unless b is a PNG image of a plot:
// between 400×300 and 4000×3000 pixels, and not blank. Not blank means at
// least 2% of the pixels differ from the top-left corner's colour, there
// are at least 4 colours, and at least 0.2% of the pixels are strongly
// coloured, which axes, grids and text (black and grey) are not, so the
// data were drawn. name names the file in messages.
func CheckPNG(t testing.TB, name string, b []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	r := img.Bounds()
	if r.Dx() < 400 || r.Dy() < 300 || r.Dx() > 4000 || r.Dy() > 3000 {
		t.Errorf("%s: %d×%d pixels, want 400×300 to 4000×3000", name, r.Dx(), r.Dy())
	}
	bg := color.NRGBAModel.Convert(img.At(r.Min.X, r.Min.Y))
	colours := map[color.Color]bool{}
	var drawn, coloured int
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y))
			if c != bg {
				drawn++
			}
			if len(colours) < 64 {
				colours[c] = true
			}
			cr, cg, cb, _ := c.RGBA()
			if max(cr, cg, cb)-min(cr, cg, cb) > 0x4000 {
				coloured++
			}
		}
	}
	total := float64(r.Dx() * r.Dy())
	if float64(drawn) < 0.02*total || len(colours) < 4 || float64(coloured) < 0.002*total {
		t.Errorf("%s looks blank: %d of %.0f pixels drawn, %d coloured; %d colours",
			name, drawn, total, coloured, len(colours))
	}
}

// CheckSVG reports an error through t unless b is a well-formed XML
// document with an <svg> root holding at least 10 <text> elements (titles,
// labels, ticks) and 10 <path> elements. name names the file in messages.
func CheckSVG(t testing.TB, name string, b []byte) {
	t.Helper()
	var root node
	if err := xml.Unmarshal(b, &root); err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	counts := map[string]int{}
	root.count(counts)
	if root.XMLName.Local != "svg" || counts["text"] < 10 || counts["path"] < 10 {
		t.Errorf("%s: root <%s>, %d text and %d path elements, want <svg> and 10 of each",
			name, root.XMLName.Local, counts["text"], counts["path"])
	}
}

// node is any XML element with its children.
type node struct {
	XMLName  xml.Name
	Children []node `xml:",any"`
}

// count adds the number of elements of each name at and below n to m.
func (n *node) count(m map[string]int) {
	m[n.XMLName.Local]++
	for i := range n.Children {
		n.Children[i].count(m)
	}
}
