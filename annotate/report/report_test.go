package report_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/annotate/report"
	"github.com/labelfree/labelfree/internal/figure/figuretest"
)

// written returns the files below dir, slash-separated and sorted.
func written(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

func TestWrite(t *testing.T) {
	a := load(t)
	want := readExpected(t)
	dir := t.TempDir()
	opts := &report.Options{Title: "fixture", Note: "From testdata/.", Mark: "FIXTURE"}
	if err := report.Write(t.Context(), dir, a, opts); err != nil {
		t.Fatal(err)
	}

	// Exactly these files, and index.md links every one but itself.
	var wantFiles []string
	for _, name := range []string{"annotators", "agreement_pairs", "agreement_all", "estimators", "quantiles", "items"} {
		wantFiles = append(wantFiles, "tables/"+name+".csv", "tables/"+name+".md")
	}
	for _, name := range []string{"soundness-annotators", "estimators", "quantiles-msp", "quantiles-self-consistency", "quantiles-log-perplexity"} {
		wantFiles = append(wantFiles, "plots/"+name+".png", "plots/"+name+".svg")
	}
	files := written(t, dir)
	slices.Sort(wantFiles)
	if got := slices.DeleteFunc(slices.Clone(files), func(f string) bool { return f == "index.md" }); !slices.Equal(got, wantFiles) {
		t.Errorf("files written\n%v\nwant\n%v", got, wantFiles)
	}
	index, err := os.ReadFile(filepath.Join(dir, "index.md"))
	if err != nil {
		t.Fatal(err)
	}
	var linked []string
	for _, m := range regexp.MustCompile(`\]\(([^)]+)\)`).FindAllStringSubmatch(string(index), -1) {
		linked = append(linked, m[1])
	}
	slices.Sort(linked)
	if linked = slices.Compact(linked); !slices.Equal(linked, wantFiles) {
		t.Errorf("index.md links\n%v\nwant\n%v", linked, wantFiles)
	}
	for _, s := range []string{"# FIXTURE: fixture", "From testdata/.", "torn last line", "carol.jsonl:12",
		"missing from the score file", "q17", "a tie, such as one of two, counts as not correct"} {
		if !bytes.Contains(index, []byte(s)) {
			t.Errorf("index.md does not contain %q", s)
		}
	}

	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		switch filepath.Ext(name) {
		case ".png":
			figuretest.CheckPNG(t, name, b)
		case ".svg":
			checkSVG(t, name, b)
		case ".md":
			if name != "index.md" {
				checkMarkdown(t, name, b)
			}
		}
	}
	checkNoNaN(t, dir)

	// The numbers of the tables are the script's.
	pairs := readCSV(t, filepath.Join(dir, "tables", "agreement_pairs.csv"))
	pairsMD := mdRows(t, filepath.Join(dir, "tables", "agreement_pairs.md"))
	if len(pairs) != len(want.Pairs) || len(pairsMD) != len(want.Pairs) {
		t.Fatalf("agreement_pairs: %d CSV and %d Markdown rows, want %d", len(pairs), len(pairsMD), len(want.Pairs))
	}
	for i, w := range want.Pairs {
		row := pairs[i]
		if row["annotator_a"] != w.A || row["annotator_b"] != w.B || row["items"] != strconv.Itoa(w.N) {
			t.Errorf("agreement_pairs.csv row %d: %v", i, row)
		}
		checkStats(t, "agreement_pairs "+w.A+"–"+w.B, row, pairsMD[i], []statColumn{
			{"correct_agreement", "agree on correct", w.CorrectAgreement},
			{"correct_kappa", "Cohen's kappa (correct)", w.CorrectKappa},
			{"soundness_agreement", "same soundness", w.SoundnessAgreement},
			{"soundness_kappa_linear", "weighted kappa, linear (soundness)", w.Linear},
			{"soundness_kappa_quadratic", "weighted kappa, quadratic (soundness)", w.Quadratic},
		})
	}

	all := readCSV(t, filepath.Join(dir, "tables", "agreement_all.csv"))
	for i, w := range []*float64{want.Alpha.Correct, want.Alpha.Soundness} {
		row := all[i]
		if row["items"] != strconv.Itoa(want.Alpha.Items) || row["pairable_items"] != strconv.Itoa(want.Alpha.Pairable) ||
			row["pairable_values"] != strconv.Itoa(want.Alpha.Values) {
			t.Errorf("agreement_all.csv row %d: %v", i, row)
		}
		checkCell(t, "agreement_all.csv "+row["judgement"], row["alpha"], w)
	}

	ests := readCSV(t, filepath.Join(dir, "tables", "estimators.csv"))
	estsMD := mdRows(t, filepath.Join(dir, "tables", "estimators.md"))
	if len(ests) != len(want.Estimators) || len(estsMD) != len(want.Estimators) {
		t.Fatalf("estimators: %d CSV and %d Markdown rows, want %d", len(ests), len(estsMD), len(want.Estimators))
	}
	var quantiles []map[string]string
	for i, w := range want.Estimators {
		row := ests[i]
		if row["estimator"] != w.Name || row["items"] != strconv.Itoa(w.N) || row["failed"] != strconv.Itoa(w.Failed) ||
			row["unsound"] != strconv.Itoa(w.Unsound) || row["incorrect"] != strconv.Itoa(w.Incorrect) {
			t.Errorf("estimators.csv row %d: %v", i, row)
		}
		checkStats(t, "estimators "+w.Name, row, estsMD[i], []statColumn{
			{"spearman", "Spearman's rho (uncertainty, soundness)", w.Spearman},
			{"roc_auc_unsound", "ROC-AUC for unsound", w.AUCUnsound},
			{"roc_auc_incorrect", "ROC-AUC for not correct", w.AUCIncorrect},
		})
		for _, q := range w.Quantiles {
			quantiles = append(quantiles, map[string]string{
				"estimator": w.Name, "quantile": strconv.Itoa(q.Quantile + 1), "items": strconv.Itoa(q.N),
				"min_uncertainty": fmt.Sprint(q.Lo), "max_uncertainty": fmt.Sprint(q.Hi),
				"mean_soundness": fmt.Sprint(q.MeanSoundness), "correct": strconv.Itoa(q.Correct),
				"share_correct": fmt.Sprint(float64(q.Correct) / float64(q.N)),
			})
		}
	}
	gotQ := readCSV(t, filepath.Join(dir, "tables", "quantiles.csv"))
	if len(gotQ) != len(quantiles) {
		t.Fatalf("quantiles.csv: %d rows, want %d", len(gotQ), len(quantiles))
	}
	for i, w := range quantiles {
		for k, v := range w {
			if k == "mean_soundness" {
				x, _ := strconv.ParseFloat(v, 64)
				checkCell(t, fmt.Sprintf("quantiles.csv row %d %s", i, k), gotQ[i][k], &x)
			} else if gotQ[i][k] != v {
				t.Errorf("quantiles.csv row %d %s = %q, want %q", i, k, gotQ[i][k], v)
			}
		}
	}

	// Untrusted comments: raw in CSV, escaped in Markdown.
	const comment = `Step 3 calls the gene "upregulated" <script>alert('x')</script> but the cited screen shows it down`
	items := readCSV(t, filepath.Join(dir, "tables", "items.csv"))
	found := false
	for _, row := range items {
		if row["id"] == "q07" {
			found = strings.Contains(row["comments"], "bob: "+comment)
		}
	}
	if !found {
		t.Errorf("items.csv has not q07's comment %q", comment)
	}
	for _, name := range files {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); strings.HasSuffix(name, ".md") && bytes.Contains(bytes.ToLower(b), []byte("<script")) {
			t.Errorf("%s holds a raw <script>", name)
		}
	}
	itemsMD, _ := os.ReadFile(filepath.Join(dir, "tables", "items.md"))
	if !bytes.Contains(itemsMD, []byte("&quot;upregulated&quot; &lt;script&gt;alert('x')&lt;/script&gt;")) {
		t.Error("items.md does not hold q07's comment escaped")
	}

	// Same input, same bytes.
	again := t.TempDir()
	if err := report.Write(t.Context(), again, a, opts); err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		b1, _ := os.ReadFile(filepath.Join(dir, name))
		b2, err := os.ReadFile(filepath.Join(again, name))
		if err != nil || !bytes.Equal(b1, b2) {
			t.Errorf("%s differs between two writes (%v)", name, err)
		}
	}
}

// TestWriteRatingsOnly: without a score file the report has agreement
// only.
func TestWriteRatingsOnly(t *testing.T) {
	a, err := report.Load(t.Context(), fixtureRatings, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := report.Write(t.Context(), dir, a, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"index.md", "plots/soundness-annotators.png", "plots/soundness-annotators.svg"}
	for _, name := range []string{"agreement_all", "agreement_pairs", "annotators", "items"} {
		want = append(want, "tables/"+name+".csv", "tables/"+name+".md")
	}
	slices.Sort(want)
	if got := written(t, dir); !slices.Equal(got, want) {
		t.Errorf("files written\n%v\nwant\n%v", got, want)
	}
}

func TestWriteCanceled(t *testing.T) {
	a := load(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := report.Write(ctx, t.TempDir(), a, nil); err == nil {
		t.Error("no error from a canceled context")
	}
}

// readCSV reads a table's CSV as maps from column to cell, one per row.
func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll() // checks that rows are as wide as the header
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var rows []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for j, c := range r {
			m[recs[0][j]] = c
		}
		rows = append(rows, m)
	}
	return rows
}

// checkCell compares a CSV cell with want, nil meaning an empty cell.
func checkCell(t *testing.T, what, cell string, want *float64) {
	t.Helper()
	if want == nil {
		if cell != "" {
			t.Errorf("%s = %q, want empty (undefined)", what, cell)
		}
		return
	}
	got, err := strconv.ParseFloat(cell, 64)
	if err != nil || math.Abs(got-*want) > tol {
		t.Errorf("%s = %q, want %v", what, cell, *want)
	}
}

// statColumn is a column of statistics: its CSV and Markdown headers
// and its expected value in a row, nil for undefined.
type statColumn struct {
	csv, md string
	want    *float64
}

// checkStats compares the statistics of one row of a table, read from
// its CSV and its Markdown: the CSV to the last digit (within tol), the
// Markdown to four digits after the point, "undefined" for nil.
func checkStats(t *testing.T, what string, csvRow, mdRow map[string]string, cols []statColumn) {
	t.Helper()
	for _, c := range cols {
		checkCell(t, what+" "+c.csv, csvRow[c.csv], c.want)
		md := "undefined"
		if c.want != nil {
			md = strconv.FormatFloat(*c.want, 'f', 4, 64)
		}
		if got := mdRow[c.md]; got != md {
			t.Errorf("%s %q in Markdown = %q, want %q", what, c.md, got, md)
		}
	}
}

// mdCells splits a Markdown table line into its cells, honouring \|.
func mdCells(line string) []string {
	var cells []string
	var cur strings.Builder
	for i := 1; i < len(line); i++ { // line[0] is the opening '|'
		switch {
		case line[i] == '\\' && i+1 < len(line):
			cur.WriteByte(line[i])
			cur.WriteByte(line[i+1])
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(line[i])
		}
	}
	return cells
}

// mdRows reads a table's Markdown as maps from header to cell.
func mdRows(t *testing.T, path string) []map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for l := range strings.Lines(string(b)) {
		if strings.HasPrefix(l, "|") {
			lines = append(lines, strings.TrimSuffix(l, "\n"))
		}
	}
	if len(lines) < 2 {
		t.Fatalf("%s: no table", path)
	}
	head := mdCells(lines[0])
	var rows []map[string]string
	for _, l := range lines[2:] {
		m := map[string]string{}
		for j, c := range mdCells(l) {
			m[head[j]] = c
		}
		rows = append(rows, m)
	}
	return rows
}

// checkMarkdown checks that b is a titled table whose every line has as
// many cells as the header: no comment or id broke a row.
func checkMarkdown(t *testing.T, name string, b []byte) {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("# ")) {
		t.Errorf("%s: no title", name)
	}
	width := -1
	rows := 0
	for l := range strings.Lines(string(b)) {
		if !strings.HasPrefix(l, "|") {
			if rows > 0 {
				t.Errorf("%s: a line inside or after the table is not a row: %q", name, l)
			}
			continue
		}
		rows++
		n := len(mdCells(strings.TrimSuffix(l, "\n")))
		if width < 0 {
			width = n
		} else if n != width {
			t.Errorf("%s: a row of %d cells under a header of %d: %q", name, n, width, l)
		}
	}
	if rows < 3 {
		t.Errorf("%s: %d table lines, want a header, a rule and rows", name, rows)
	}
}

// checkNoNaN checks that no table or index shows a NaN or an infinity.
func checkNoNaN(t *testing.T, dir string) {
	t.Helper()
	bad := regexp.MustCompile(`(?i)\bnan\b|\binf\b`)
	for _, name := range written(t, dir) {
		if ext := filepath.Ext(name); ext != ".md" && ext != ".csv" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if m := bad.Find(b); m != nil {
			t.Errorf("%s shows %q", name, m)
		}
	}
}

// checkSVG checks that b is an SVG plot (figuretest.CheckSVG) whose
// title is marked "FIXTURE".
func checkSVG(t *testing.T, name string, b []byte) {
	t.Helper()
	figuretest.CheckSVG(t, name, b)
	if !bytes.Contains(b, []byte("FIXTURE: ")) {
		t.Errorf("%s: no marked title", name)
	}
}
