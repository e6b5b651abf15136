package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labelfree/labelfree/annotate"
	"github.com/labelfree/labelfree/annotate/report"
	"github.com/labelfree/labelfree/score"
	"github.com/labelfree/labelfree/uncertainty"
)

// tol is the tolerance of comparisons with testdata/expected.json: the
// script and the Go code sum in different orders.
const tol = 1e-12

// The fixture: three annotators (carol rated 11 of the 17 items and her
// file ends in a torn line; alice and bob changed their minds once each;
// bob's comment on q07 holds <script> and quotes) and a score file with
// three estimators, self-consistency failing on q07, q17 absent.
const (
	fixtureRatings = "testdata/ratings"
	fixtureScores  = "testdata/scores.jsonl"
)

// expected is testdata/expected.json, the output of testdata/expected.py
// (see that script for how each number is computed; null = undefined).
type expected struct {
	Torn       []string
	Items      int
	Unscored   []string
	Annotators []struct {
		Name          string
		Rated         int
		Correct       int
		MeanSoundness float64 `json:"mean_soundness"`
		Soundness     []int
	}
	Pairs []struct {
		A, B               string
		N                  int
		CorrectAgreement   *float64 `json:"correct_agreement"`
		CorrectKappa       *float64 `json:"correct_kappa"`
		SoundnessAgreement *float64 `json:"soundness_agreement"`
		Linear, Quadratic  *float64
	}
	Alpha struct {
		Items, Pairable, Values int
		Correct, Soundness      *float64
	}
	Estimators []struct {
		Name         string
		N, Failed    int
		Spearman     *float64
		Unsound      int
		AUCUnsound   *float64 `json:"auc_unsound"`
		Incorrect    int
		AUCIncorrect *float64 `json:"auc_incorrect"`
		Quantiles    []struct {
			Quantile, N   int
			Lo, Hi        float64
			MeanSoundness float64 `json:"mean_soundness"`
			Correct       int
			IDs           []string
		}
	}
}

func readExpected(t *testing.T) *expected {
	t.Helper()
	b, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return &e
}

// TestExpectedUpToDate runs testdata/expected.py and checks that
// testdata/expected.json is its output, so that the fixture and the
// expected numbers cannot drift apart.
func TestExpectedUpToDate(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found; install it to check testdata/expected.json against testdata/expected.py")
	}
	out, err := exec.CommandContext(t.Context(), py, "testdata/expected.py").Output()
	if err != nil {
		t.Fatalf("testdata/expected.py: %v", err)
	}
	want, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		t.Error("testdata/expected.json is stale: run python3 testdata/expected.py > testdata/expected.json")
	}
}

func load(t *testing.T) *report.Analysis {
	t.Helper()
	a, err := report.Load(t.Context(), fixtureRatings, fixtureScores, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// checkStat compares got with want, nil meaning undefined.
func checkStat(t *testing.T, what string, got report.Stat, want *float64) {
	t.Helper()
	switch {
	case want == nil && got.Defined():
		t.Errorf("%s = %v, want undefined", what, got.Value)
	case want != nil && !got.Defined():
		t.Errorf("%s undefined (%v), want %v", what, got.Err, *want)
	case want != nil && math.Abs(got.Value-*want) > tol:
		t.Errorf("%s = %v, want %v", what, got.Value, *want)
	}
}

func TestAnalyzeFixture(t *testing.T) {
	a := load(t)
	want := readExpected(t)

	var torn []string
	for _, err := range a.Torn {
		var le *annotate.LineError
		if !errors.As(err, &le) || !errors.Is(err, annotate.ErrTorn) {
			t.Errorf("torn line error %v is not an *annotate.LineError wrapping ErrTorn", err)
			continue
		}
		torn = append(torn, strings.TrimSuffix(filepath.Base(le.File), ".jsonl"))
	}
	if !slices.Equal(torn, want.Torn) {
		t.Errorf("torn files %v, want %v", torn, want.Torn)
	}
	if len(a.Items) != want.Items || !slices.Equal(a.Unscored, want.Unscored) {
		t.Errorf("%d items, unscored %v; want %d, %v", len(a.Items), a.Unscored, want.Items, want.Unscored)
	}

	if len(a.Annotators) != len(want.Annotators) {
		t.Fatalf("%d annotators, want %d", len(a.Annotators), len(want.Annotators))
	}
	for i, w := range want.Annotators {
		g := a.Annotators[i]
		if g.Name != w.Name || g.Rated != w.Rated || g.Correct != w.Correct || !slices.Equal(g.Soundness[:], w.Soundness) ||
			math.Abs(g.MeanSoundness()-w.MeanSoundness) > tol {
			t.Errorf("annotator %d: got %+v (mean %v), want %+v", i, g, g.MeanSoundness(), w)
		}
	}

	if len(a.Pairs) != len(want.Pairs) {
		t.Fatalf("%d pairs, want %d", len(a.Pairs), len(want.Pairs))
	}
	for i, w := range want.Pairs {
		g := a.Pairs[i]
		if g.A != w.A || g.B != w.B || g.N != w.N {
			t.Errorf("pair %d: %s–%s over %d items, want %s–%s over %d", i, g.A, g.B, g.N, w.A, w.B, w.N)
		}
		name := g.A + "–" + g.B
		checkStat(t, name+" agree on correct", g.CorrectAgree, w.CorrectAgreement)
		checkStat(t, name+" Cohen's kappa", g.CorrectKappa, w.CorrectKappa)
		checkStat(t, name+" same soundness", g.SoundnessAgree, w.SoundnessAgreement)
		checkStat(t, name+" linear kappa", g.Linear, w.Linear)
		checkStat(t, name+" quadratic kappa", g.Quadratic, w.Quadratic)
	}

	for _, x := range []struct {
		name string
		got  report.Alpha
		want *float64
	}{{"correct", a.Correct, want.Alpha.Correct}, {"soundness", a.Soundness, want.Alpha.Soundness}} {
		if x.got.Items != want.Alpha.Items || x.got.Pairable != want.Alpha.Pairable || x.got.Values != want.Alpha.Values {
			t.Errorf("alpha %s: items %d, pairable %d, values %d; want %d, %d, %d", x.name,
				x.got.Items, x.got.Pairable, x.got.Values, want.Alpha.Items, want.Alpha.Pairable, want.Alpha.Values)
		}
		checkStat(t, "alpha "+x.name, x.got.Alpha, x.want)
	}

	if len(a.Estimators) != len(want.Estimators) {
		t.Fatalf("%d estimators, want %d", len(a.Estimators), len(want.Estimators))
	}
	for i, w := range want.Estimators {
		g := a.Estimators[i]
		if g.Name != w.Name || g.N != w.N || g.Failed != w.Failed || g.Unsound != w.Unsound || g.Incorrect != w.Incorrect {
			t.Errorf("estimator %d: %s n %d failed %d unsound %d incorrect %d; want %s %d %d %d %d", i,
				g.Name, g.N, g.Failed, g.Unsound, g.Incorrect, w.Name, w.N, w.Failed, w.Unsound, w.Incorrect)
		}
		checkStat(t, w.Name+" Spearman", g.Spearman, w.Spearman)
		checkStat(t, w.Name+" AUC unsound", g.UnsoundAUC, w.AUCUnsound)
		checkStat(t, w.Name+" AUC incorrect", g.IncorrectAUC, w.AUCIncorrect)
		if len(g.Quantiles) != len(w.Quantiles) {
			t.Errorf("%s: %d quantiles, want %d", w.Name, len(g.Quantiles), len(w.Quantiles))
			continue
		}
		for k, wq := range w.Quantiles {
			gq := g.Quantiles[k]
			if gq.Quantile != wq.Quantile || gq.N != wq.N || gq.Lo != wq.Lo || gq.Hi != wq.Hi ||
				gq.Correct != wq.Correct || !slices.Equal(gq.IDs, wq.IDs) || math.Abs(gq.MeanSoundness-wq.MeanSoundness) > tol {
				t.Errorf("%s quantile %d: got %+v, want %+v", w.Name, k, gq, wq)
			}
		}
	}
}

// writeRatings writes each annotator's lines into a new ratings
// directory and returns it.
func writeRatings(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func line(annotator, id string, correct bool, soundness int) string {
	b, err := json.Marshal(annotate.Rating{
		Annotator: annotator, ID: id, Correct: correct, Soundness: soundness,
		Time: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC),
	})
	if err != nil {
		panic(err)
	}
	return string(b) + "\n"
}

func TestReadDirErrors(t *testing.T) {
	good := line("ann", "q1", true, 4)
	for _, tc := range []struct {
		name  string
		files map[string]string
		is    error  // what the error wraps; nil for no check
		has   string // what its message contains
	}{
		{"empty dir", nil, report.ErrNoRatings, "no rating"},
		{"only other files", map[string]string{"notes.txt": "hello", "scores.json": "{}"}, report.ErrNoRatings, "0 such files"},
		{"empty ratings file", map[string]string{"ann.jsonl": ""}, report.ErrNoRatings, "1 such files"},
		{"only a torn line", map[string]string{"ann.jsonl": `{"annotator":"ann"`}, report.ErrNoRatings, ""},
		{"malformed line", map[string]string{"ann.jsonl": good + "{not json\n" + good}, nil, "ann.jsonl:2: "},
		{"invalid rating", map[string]string{"ann.jsonl": good + line("ann", "q2", true, 7)}, annotate.ErrInvalid, "ann.jsonl:2: "},
		{"bad file name", map[string]string{"two words.jsonl": good}, annotate.ErrInvalid, "two words.jsonl"},
		{"another annotator's rating", map[string]string{"ann.jsonl": good + line("bob", "q2", true, 3)}, annotate.ErrInvalid, `by "bob" in the file of "ann"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := report.ReadDir(writeRatings(t, tc.files))
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v does not wrap %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.has) {
				t.Errorf("error %q does not contain %q", err, tc.has)
			}
		})
	}
	// A malformed line is an *annotate.LineError naming the file and the line.
	dir := writeRatings(t, map[string]string{"ann.jsonl": good + good + "{not json\n"})
	_, err := report.ReadDir(dir)
	var le *annotate.LineError
	if !errors.As(err, &le) || le.File != filepath.Join(dir, "ann.jsonl") || le.Line != 3 {
		t.Errorf("error %v, want an *annotate.LineError for %s line 3", err, filepath.Join(dir, "ann.jsonl"))
	}
	if _, err := report.ReadDir(filepath.Join(dir, "absent")); err == nil {
		t.Error("no error for a missing directory")
	}
}

// TestNoOverlap: annotators who rated different items leave every
// agreement undefined, for a reason, and the estimator statistics stand.
func TestNoOverlap(t *testing.T) {
	files := map[string]string{"ann.jsonl": "", "bob.jsonl": ""}
	for i, s := range []int{1, 2, 3, 4, 5} {
		ann := []string{"ann", "bob"}[i%2]
		files[ann+".jsonl"] += line(ann, "q0"+string(rune('1'+i)), s > 2, s)
	}
	r, err := report.ReadDir(writeRatings(t, files))
	if err != nil {
		t.Fatal(err)
	}
	h := &score.Header{Estimators: []string{"u"}}
	var records []score.Record
	for i, u := range []float64{0.9, 0.8, 0.5, 0.2, 0.1} {
		records = append(records, score.Record{ID: "q0" + string(rune('1'+i)), Scores: map[string]uncertainty.Score{"u": {Value: u}}})
	}
	a, err := report.Analyze(r, h, records, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Pairs) != 1 || a.Pairs[0].N != 0 {
		t.Fatalf("pairs %+v, want one over 0 items", a.Pairs)
	}
	p := a.Pairs[0]
	for _, s := range []report.Stat{p.CorrectAgree, p.CorrectKappa, p.SoundnessAgree, p.Linear, p.Quadratic} {
		if !errors.Is(s.Err, report.ErrTooFew) {
			t.Errorf("pair statistic %+v, want undefined for too few items", s)
		}
	}
	for _, al := range []report.Alpha{a.Correct, a.Soundness} {
		if al.Items != 5 || al.Pairable != 0 || !errors.Is(al.Alpha.Err, annotate.ErrNoPairs) {
			t.Errorf("alpha %+v, want 5 items, 0 pairable, undefined for no pairs", al)
		}
	}
	// Soundness 1, 2, …, 5 against u 0.9, 0.8, …, 0.1: a perfect inverse
	// ranking.
	if e := a.Estimators[0]; e.N != 5 || e.Spearman.Err != nil || math.Abs(e.Spearman.Value+1) > tol {
		t.Errorf("estimator %+v, want 5 items and Spearman −1", e)
	}

	dir := t.TempDir()
	if err := report.Write(t.Context(), dir, a, nil); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "tables", "agreement_all.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(md, []byte("| undefined |")) || !bytes.Contains(md, []byte("no pairable values")) {
		t.Errorf("agreement_all.md does not say why alpha is undefined:\n%s", md)
	}
	checkNoNaN(t, dir)
}

func TestUndefined(t *testing.T) {
	files := map[string]string{
		// Two items in common: too few for the pair; every "correct" the
		// same: alpha on correct has no variation.
		"ann.jsonl": line("ann", "q1", true, 4) + line("ann", "q2", true, 5) + line("ann", "q3", true, 2),
		"bob.jsonl": line("bob", "q1", true, 4) + line("bob", "q2", true, 3),
		"cat.jsonl": line("cat", "q3", true, 2) + line("cat", "q4", true, 1),
	}
	r, err := report.ReadDir(writeRatings(t, files))
	if err != nil {
		t.Fatal(err)
	}
	// Every scored item is sound or every one unsound: no ROC-AUC for it.
	h := &score.Header{Estimators: []string{"u", "v"}}
	records := []score.Record{
		{ID: "q1", Scores: map[string]uncertainty.Score{"u": {Value: 1}, "v": {Value: 1}}},
		{ID: "q2", Scores: map[string]uncertainty.Score{"u": {Value: 2}}, Errors: map[string]string{"v": "failed"}},
		{ID: "q3", Scores: map[string]uncertainty.Score{"u": {Value: 3}, "v": {Value: 2}}},
		{ID: "q4", Scores: map[string]uncertainty.Score{"u": {Value: 4}}, Errors: map[string]string{"v": "failed"}},
	}
	a, err := report.Analyze(r, h, records, &report.Config{MinItems: 2})
	if err != nil {
		t.Fatal(err)
	}
	if p := a.Pairs[0]; p.A != "ann" || p.B != "bob" || p.N != 2 || !p.CorrectAgree.Defined() || p.CorrectAgree.Value != 1 ||
		!errors.Is(p.CorrectKappa.Err, annotate.ErrNoVariation) {
		t.Errorf("ann–bob %+v, want 2 items, full agreement and kappa undefined for no variation", p)
	}
	if !errors.Is(a.Correct.Alpha.Err, annotate.ErrNoVariation) {
		t.Errorf("alpha of correct %+v, want undefined for no variation", a.Correct)
	}
	u, v := a.Estimators[0], a.Estimators[1]
	if u.Incorrect != 0 || !errors.Is(u.IncorrectAUC.Err, uncertainty.ErrUndefined) {
		t.Errorf("u: %d incorrect, AUC %+v; want 0 and undefined", u.Incorrect, u.IncorrectAUC)
	}
	if v.N != 2 || v.Failed != 2 {
		t.Errorf("v: %d scored, %d failed; want 2, 2", v.N, v.Failed)
	}
	// With the default MinItems, 3, two scored items are too few.
	a, err = report.Analyze(r, h, records, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s := a.Estimators[1].Spearman; !errors.Is(s.Err, report.ErrTooFew) {
		t.Errorf("v's Spearman over 2 items %+v, want undefined for too few", s)
	}
}

func TestAnalyzeErrors(t *testing.T) {
	r := &report.Ratings{Ratings: []annotate.Rating{{Annotator: "ann", ID: "q1", Soundness: 3, Time: time.Unix(1, 0)}}}
	for _, tc := range []struct {
		name string
		r    *report.Ratings
		c    *report.Config
		is   error
	}{
		{"no ratings", &report.Ratings{Annotators: []string{"ann"}}, nil, report.ErrNoRatings},
		{"invalid rating", &report.Ratings{Ratings: []annotate.Rating{{Annotator: "ann", ID: "q1", Soundness: 0, Time: time.Unix(1, 0)}}}, nil, annotate.ErrInvalid},
		{"negative quantiles", r, &report.Config{Quantiles: -1}, annotate.ErrInvalid},
		{"negative min items", r, &report.Config{MinItems: -2}, annotate.ErrInvalid},
		{"sound above the scale", r, &report.Config{Sound: 6}, annotate.ErrInvalid},
		{"sound NaN", r, &report.Config{Sound: math.NaN()}, annotate.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := report.Analyze(tc.r, nil, nil, tc.c); !errors.Is(err, tc.is) {
				t.Errorf("error %v, want %v", err, tc.is)
			}
		})
	}
}
