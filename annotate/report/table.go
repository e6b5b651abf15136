package report

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
)

// table is one table of the report, written as Markdown and as CSV. Each
// column and cell has a form for each: Markdown headers are words, CSV
// headers snake_case; Markdown numbers have four digits after the point,
// CSV numbers are the shortest decimal that reads back as the same
// float64; an undefined statistic is "undefined" in Markdown and empty in
// CSV, its reason in the row's last column.
type table struct {
	name, title, about string
	cols               []column
	rows               [][]cell
}

type column struct{ md, csv string }

type cell struct{ md, csv string }

// row collects the cells of one row and the reasons of its undefined
// statistics.
type row struct {
	cells []cell
	why   []string
}

func (r *row) text(s string) *row {
	r.cells = append(r.cells, cell{mdEscape(s), s})
	return r
}

func (r *row) int(n int) *row {
	s := strconv.Itoa(n)
	r.cells = append(r.cells, cell{s, s})
	return r
}

func (r *row) num(x float64) *row {
	r.cells = append(r.cells, cell{strconv.FormatFloat(x, 'f', 4, 64), strconv.FormatFloat(x, 'g', -1, 64)})
	return r
}

// stat adds s; if it is undefined, its reason joins the row's, under
// name.
func (r *row) stat(name string, s Stat) *row {
	if s.Defined() {
		return r.num(s.Value)
	}
	r.cells = append(r.cells, cell{"undefined", ""})
	r.why = append(r.why, name+": "+reason(s.Err))
	return r
}

// whyColumn is the last column of a table with statistics that may be
// undefined.
var whyColumn = column{"why undefined", "why_undefined"}

// add appends r, followed by its reasons if t ends in whyColumn.
func (t *table) add(r *row) {
	if len(t.cols) > 0 && t.cols[len(t.cols)-1] == whyColumn {
		r.text(strings.Join(r.why, "; "))
	}
	t.rows = append(t.rows, r.cells)
}

// reason returns err's message without the package prefixes, for a
// reader of the report.
func reason(err error) string {
	s := err.Error()
	for _, p := range []string{"report: ", "annotate: ", "uncertainty: "} {
		s = strings.ReplaceAll(s, p, "")
	}
	return s
}

// csv returns t as RFC 4180 CSV with a header line.
func (t *table) csv() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	rec := make([]string, len(t.cols))
	for j, c := range t.cols {
		rec[j] = c.csv
	}
	_ = w.Write(rec) // a bytes.Buffer does not fail
	for _, r := range t.rows {
		for j, c := range r {
			rec[j] = c.csv
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return b.Bytes()
}

// markdown returns t as a GitHub-flavoured Markdown table, numeric
// columns right-aligned.
func (t *table) markdown() []byte {
	var b bytes.Buffer
	line := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + c + " |")
		}
		b.WriteString("\n")
	}
	head := make([]string, len(t.cols))
	rule := make([]string, len(t.cols))
	for j, c := range t.cols {
		head[j] = mdEscape(c.md)
		rule[j] = "---"
		if t.numeric(j) {
			rule[j] = "---:"
		}
	}
	line(head)
	line(rule)
	for _, r := range t.rows {
		cells := make([]string, len(r))
		for j, c := range r {
			cells[j] = c.md
		}
		line(cells)
	}
	return b.Bytes()
}

// numeric reports whether column j holds numbers: every non-empty CSV
// cell parses as one, and one cell at least is not empty.
func (t *table) numeric(j int) bool {
	some := false
	for _, r := range t.rows {
		if r[j].csv == "" {
			continue
		}
		if _, err := strconv.ParseFloat(r[j].csv, 64); err != nil {
			return false
		}
		some = true
	}
	return some
}

// mdEscaper makes text safe in a Markdown table cell: ratings' comments
// and ids are untrusted, and a Markdown viewer may render raw HTML, so
// '<', '>' and '&' become entities; '|' would end the cell and a newline
// the row; '\\', '`', '*', '_', '[' and ']' would start code, emphasis or
// a link.
var mdEscaper = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;",
	"|", `\|`, "\r\n", " ", "\n", " ", "\r", " ",
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
)

func mdEscape(s string) string { return mdEscaper.Replace(s) }
