package report

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"

	"github.com/labelfree/labelfree/eval"
)

// table is a table the report writes as Markdown and as CSV.
type table struct {
	header []string
	rows   [][]string
}

// add appends a row, padded with empty cells to the header's width.
func (t *table) add(cells ...string) {
	for len(cells) < len(t.header) {
		cells = append(cells, "")
	}
	t.rows = append(t.rows, cells)
}

// csv returns t as RFC 4180 CSV with a header line.
func (t *table) csv() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(t.header) // a bytes.Buffer does not fail
	_ = w.WriteAll(t.rows)
	return b.Bytes()
}

// markdown returns t as a GitHub-flavoured Markdown table; numeric
// columns are right-aligned.
func (t *table) markdown() []byte {
	var b bytes.Buffer
	line := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" ")
			b.WriteString(mdEscape(c))
			b.WriteString(" |")
		}
		b.WriteString("\n")
	}
	line(t.header)
	b.WriteString("|")
	for j := range t.header {
		if t.numeric(j) {
			b.WriteString(" ---: |")
		} else {
			b.WriteString(" --- |")
		}
	}
	b.WriteString("\n")
	for _, r := range t.rows {
		line(r)
	}
	return b.Bytes()
}

// numeric reports whether every non-empty cell of column j is a number.
func (t *table) numeric(j int) bool {
	any := false
	for _, r := range t.rows {
		if j >= len(r) || r[j] == "" {
			continue
		}
		if _, err := strconv.ParseFloat(r[j], 64); err != nil {
			return false
		}
		any = true
	}
	return any
}

// mdEscape keeps a cell from breaking a Markdown table.
func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// Number formats. CSV cells carry the shortest decimal that reads back as
// the same float64; Markdown cells four digits after the point.

func csvFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func mdFloat(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }

func itoa(n int) string { return strconv.Itoa(n) }

// cells formats a float for both outputs.
type cells struct{ md bool }

func (c cells) f(x float64) string {
	if c.md {
		return mdFloat(x)
	}
	return csvFloat(x)
}

func (c cells) n(x eval.Number) string {
	if !x.Defined {
		return ""
	}
	return c.f(x.Value)
}

// fraction formats a retention fraction, which DefaultFractions makes
// exact in two digits.
func fraction(q float64) string { return strconv.FormatFloat(q, 'f', -1, 64) }

// label names a class in tables, "unparsed" for eval.Unparsed.
func label(l string) string {
	if l == eval.Unparsed {
		return "unparsed"
	}
	return l
}
