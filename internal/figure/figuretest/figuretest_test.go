package figuretest_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"testing"

	"github.com/labelfree/labelfree/internal/figure/figuretest"
)

// recorder is a testing.TB that records errors instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

var (
	white = color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
	black = color.NRGBA{A: 0xff}
	grey  = color.NRGBA{R: 0x80, G: 0x80, B: 0x80, A: 0xff}
	red   = color.NRGBA{R: 0xd0, G: 0x20, B: 0x20, A: 0xff}
)

// square is a filled square of side n pixels.
type square struct {
	n int
	c color.Color
}

// picture returns a white w×h PNG with the squares along its diagonal,
// each starting where the one before ends, the first at (w/4, h/4).
func picture(t *testing.T, w, h int, squares ...square) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(white), image.Point{}, draw.Src)
	at := image.Pt(w/4, h/4)
	for _, s := range squares {
		draw.Draw(img, image.Rectangle{Min: at, Max: at.Add(image.Pt(s.n, s.n))}, image.NewUniform(s.c), image.Point{}, draw.Src)
		at = at.Add(image.Pt(s.n, s.n))
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCheckPNG(t *testing.T) {
	// 600×400 = 240,000 pixels: 2% drawn is 4,800 (a 70-pixel square),
	// 0.2% coloured 480 (a 22-pixel square).
	for _, tc := range []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"plot", picture(t, 600, 400, square{70, black}, square{10, grey}, square{25, red}), true},
		{"no data: black and grey only", picture(t, 600, 400, square{70, black}, square{10, grey}), false},
		{"hardly drawn", picture(t, 600, 400, square{40, black}, square{10, grey}, square{25, red}), false},
		{"too few colours", picture(t, 600, 400, square{70, black}, square{25, red}), false},
		{"blank", picture(t, 600, 400), false},
		{"too small", picture(t, 300, 200, square{70, black}, square{10, grey}, square{25, red}), false},
		{"not a PNG", []byte("GIF89a"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			figuretest.CheckPNG(r, tc.name, tc.b)
			if ok := len(r.errs) == 0; ok != tc.ok {
				t.Errorf("passed %v, want %v (errors %q)", ok, tc.ok, r.errs)
			}
		})
	}
}

func TestCheckSVG(t *testing.T) {
	elems := func(name string, n int) string {
		var b bytes.Buffer
		for range n {
			fmt.Fprintf(&b, "<%s>x</%s>", name, name)
		}
		return b.String()
	}
	good := `<svg xmlns="http://www.w3.org/2000/svg"><g>` + elems("text", 10) + elems("path", 10) + `</g></svg>`
	for _, tc := range []struct {
		name, svg string
		ok        bool
	}{
		{"plot", good, true},
		{"truncated", good[:len(good)-8], false},
		{"few texts", `<svg>` + elems("text", 9) + elems("path", 10) + `</svg>`, false},
		{"few paths", `<svg>` + elems("text", 10) + elems("path", 9) + `</svg>`, false},
		{"not svg", `<html>` + elems("text", 10) + elems("path", 10) + `</html>`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			figuretest.CheckSVG(r, tc.name, []byte(tc.svg))
			if ok := len(r.errs) == 0; ok != tc.ok {
				t.Errorf("passed %v, want %v (errors %q)", ok, tc.ok, r.errs)
			}
		})
	}
}
