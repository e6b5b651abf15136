package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/labelfree/labelfree/annotate"
	areport "github.com/labelfree/labelfree/annotate/report"
	"github.com/labelfree/labelfree/annotate/web"
	"github.com/labelfree/labelfree/llama"
	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/score"
)

// annotationsDir is where annotate keeps the sample and the ratings.
const annotationsDir = "annotations"

// sampleFile records the drawn sample in the annotations directory.
const sampleFile = "sample.json"

func runAnnotate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "serve":
			return runAnnotateServe(ctx, args[1:], stdout, stderr)
		case "report":
			return runAnnotateReport(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprint(stderr, `Usage: labelfree annotate serve|report [flags]

  serve    a local web page on which experts rate a stratified, blinded sample of traces
  report   agreement between annotators and how well each estimator predicted the ratings

Run "labelfree annotate serve --help" or "labelfree annotate report --help" for their flags.
`)
	return fmt.Errorf("%w: annotate needs serve or report", errUsage)
}

const annotateServeHelp = `Draws a sample of OUT/scores.jsonl's groups, stratified by predicted class and
by quantile of the filter's estimator (annotate.Draw), and serves a page on which
experts rate each one's greedy trace: is the answer correct, how sound is the
reasoning (1-5), a comment. Ratings are saved on every click to
DIR/<annotator>.jsonl; restarting resumes where each annotator stopped. The
uncertainty and the token shading of a trace are shown only after it is rated.
The sample is recorded in DIR/sample.json; a later start must draw the same one.
The server listens on loopback only unless --addr says otherwise.`

func runAnnotateServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("annotate serve", annotateServeHelp, "labelfree annotate serve --config run.yaml --sample 60", stderr)
	load := configFlags(fs)
	addr := fs.String("addr", "127.0.0.1:8377", "address to listen on; a non-loopback one lets other machines rate")
	dirFlag := fs.String("dir", "", "directory of the sample and the ratings files (default OUT/annotations)")
	size := fs.Int("sample", 60, "number of traces to draw")
	seed := fs.Uint64("seed", 1, "seed of the draw")
	quantiles := fs.Int("quantiles", 4, "uncertainty quantiles the draw is stratified by")
	noModel := fs.Bool("no-model", false, "do not load the model's tokenizer (no token shading)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *size < 1 || *quantiles < 1 {
		return fmt.Errorf("%w: --sample and --quantiles must be at least 1", errUsage)
	}
	c, err := load()
	if err != nil {
		return err
	}
	dir := *dirFlag
	if dir == "" {
		dir = c.path(annotationsDir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	spec := sampleSpec{Estimator: c.Filter.Estimator, N: *size, Seed: *seed, Quantiles: *quantiles}
	drawn, locs, err := drawSample(c.path(scoresFile), &spec)
	if err != nil {
		return err
	}
	if err := recordSample(filepath.Join(dir, sampleFile), &spec); err != nil {
		return err
	}
	var tt web.TokenTexter
	if !*noModel && c.Backend.Model != "" {
		m, err := llama.Load(ctx, c.Backend.Model, &llama.ModelConfig{VocabOnly: true})
		if err != nil {
			return fmt.Errorf("annotate: the model's tokenizer, for the token shading (--no-model goes without): %w", err)
		}
		defer m.Close()
		tt = m
	}
	items, err := sampleItems(ctx, c.path(tracesFile), drawn, locs, &spec, tt)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	host, _, _ := net.SplitHostPort(ln.Addr().String())
	var hosts []string
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		fmt.Fprintf(stderr, "annotate: warning: listening on %s, reachable from other machines; anyone who can reach it can rate\n", ln.Addr())
		hosts = []string{"localhost", "127.0.0.1", "::1", host}
		if h, _, err := net.SplitHostPort(*addr); err == nil && h != "" {
			hosts = append(hosts, strings.ToLower(h))
		}
		if name, err := os.Hostname(); err == nil {
			hosts = append(hosts, strings.ToLower(name))
		}
	}
	srv, err := web.New(web.Config{
		Items: items, Dir: dir, Quantiles: spec.Quantiles, Hosts: hosts,
		Title:  "labelfree annotation: " + c.taskName(),
		Logger: slog.New(slog.NewTextHandler(stderr, nil)),
	})
	if err != nil {
		ln.Close()
		return err
	}
	defer srv.Close()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(stdout, "annotate: %d traces at http://%s/ (ratings in %s); Ctrl-C stops\n", len(items), ln.Addr(), dir)
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shut); err != nil {
		return err
	}
	return srv.Close()
}

// sampleSpec is the header of sample.json: how the sample was drawn, and
// the sample itself.
type sampleSpec struct {
	Labelfree    string         `json:"labelfree"` // "annotation-sample"
	Version      int            `json:"version"`
	Scores       string         `json:"scores"`
	ScoresSHA256 string         `json:"scores_sha256"`
	Estimator    string         `json:"estimator"`
	N            int            `json:"n"`
	Seed         uint64         `json:"seed"`
	Quantiles    int            `json:"quantiles"`
	Items        []sampleRecord `json:"items"`
}

// sampleRecord is one drawn group in sample.json.
type sampleRecord struct {
	ID       string  `json:"id"`
	Class    string  `json:"class"`
	U        float64 `json:"u"`
	Quantile int     `json:"quantile"` // 0 is the least uncertain
}

// drawSample reads the score file and draws spec's sample into spec.Items;
// locs has the trace-line Location of each drawn group the score file
// knows it of.
func drawSample(scores string, spec *sampleSpec) (drawn []annotate.Candidate, locs map[string]score.Location, err error) {
	h, recs, err := score.ReadFile(scores)
	if err != nil {
		return nil, nil, err
	}
	if !slices.Contains(h.Estimators, spec.Estimator) {
		return nil, nil, fmt.Errorf("%w: estimator %q is not in %s (it has %s)", errUsage, spec.Estimator, scores, strings.Join(h.Estimators, ", "))
	}
	var cands []annotate.Candidate
	for i := range recs {
		r := &recs[i]
		if !r.OK {
			continue // no predicted class to stratify by
		}
		s, err := r.Score(spec.Estimator)
		if err != nil {
			continue // the estimator could not score it
		}
		cands = append(cands, annotate.Candidate{ID: r.ID, Class: r.Class, U: s.Value})
	}
	if len(cands) == 0 {
		return nil, nil, fmt.Errorf("annotate: no group of %s has a parsed answer and a %s score to draw from", scores, spec.Estimator)
	}
	quantile := make(map[string]int, len(cands))
	strata, members := annotate.Stratify(cands, spec.Quantiles)
	for i, st := range strata {
		for _, m := range members[i] {
			quantile[m.ID] = st.Quantile
		}
	}
	drawn = annotate.Draw(cands, spec.N, spec.Seed, spec.Quantiles)
	sum, err := score.FileSHA256(scores)
	if err != nil {
		return nil, nil, err
	}
	locs = make(map[string]score.Location, len(drawn))
	for i := range recs {
		if l := recs[i].Location; l != (score.Location{}) {
			locs[recs[i].ID] = l
		}
	}
	spec.Labelfree, spec.Version, spec.Scores, spec.ScoresSHA256 = "annotation-sample", 1, scores, sum
	spec.Items = make([]sampleRecord, len(drawn))
	for i, d := range drawn {
		spec.Items[i] = sampleRecord{ID: d.ID, Class: d.Class, U: d.U, Quantile: quantile[d.ID]}
	}
	return drawn, locs, nil
}

// recordSample writes spec to name, or, if name exists, checks that it
// holds the same sample: ratings already given refer to it.
func recordSample(name string, spec *sampleSpec) error {
	b, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		out, err := json.MarshalIndent(spec, "", "  ")
		if err != nil {
			return err
		}
		return writeFileAtomic(name, append(out, '\n'))
	}
	if err != nil {
		return err
	}
	var old sampleSpec
	if err := json.Unmarshal(b, &old); err != nil {
		return fmt.Errorf("annotate: %s: %w", name, err)
	}
	same := old.Estimator == spec.Estimator && old.N == spec.N && old.Seed == spec.Seed && old.Quantiles == spec.Quantiles &&
		slices.EqualFunc(old.Items, spec.Items, func(a, b sampleRecord) bool { return a.ID == b.ID })
	if !same {
		return fmt.Errorf("annotate: %s holds another sample (estimator %s, %d traces, seed %d, %d quantiles) than this one draws "+
			"(estimator %s, %d, seed %d, %d quantiles%s): start with the same settings and scores, or use another --dir",
			name, old.Estimator, old.N, old.Seed, old.Quantiles, spec.Estimator, spec.N, spec.Seed, spec.Quantiles,
			map[bool]string{true: ", a changed score file", false: ""}[old.ScoresSHA256 != spec.ScoresSHA256])
	}
	return nil
}

// sampleItems reads the drawn groups' traces and makes the page's items,
// in the order drawn: each line by its Location when the score file gave
// every drawn group one, else in one pass over the trace file.
func sampleItems(ctx context.Context, traces string, drawn []annotate.Candidate, locs map[string]score.Location, spec *sampleSpec, tt web.TokenTexter) ([]web.Item, error) {
	at := make(map[string]int, len(drawn))
	located := true
	for i, d := range drawn {
		at[d.ID] = i
		_, ok := locs[d.ID]
		located = located && ok
	}
	want := func(id string) bool { _, ok := at[id]; return ok }
	tr, err := score.OpenTraces(traces, 0, want)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	items := make([]web.Item, len(drawn))
	add := func(g *sampling.Group) error {
		i, ok := at[g.Item.ID]
		if !ok {
			return nil
		}
		var err error
		items[i], err = web.NewItem(g, drawn[i], spec.Estimator, spec.Items[i].Quantile, tt)
		delete(at, g.Item.ID)
		return err
	}
	if located {
		for _, d := range drawn {
			g, err := tr.At(locs[d.ID])
			if err != nil {
				return nil, err
			}
			if g.Item.ID != d.ID {
				return nil, fmt.Errorf("annotate: %s holds group %q where the scores place %q: the trace file changed since it was scored (re-run score)", traces, g.Item.ID, d.ID)
			}
			if err := add(g); err != nil {
				return nil, err
			}
		}
		return items, nil
	}
	for g, err := range tr.All(ctx) {
		if err == nil {
			err = add(g)
		}
		if err != nil {
			return nil, err
		}
	}
	if len(at) > 0 {
		return nil, fmt.Errorf("annotate: %d drawn groups are not in %s: were the scores made from another trace file?", len(at), traces)
	}
	return items, nil
}

const annotateReportHelp = `Reads the ratings files of DIR (default OUT/annotations, as annotate serve
writes them) and OUT/scores.jsonl, and writes DIR/report/: agreement between
annotators (Cohen's kappa and weighted kappas per pair, Krippendorff's alpha
over all) and, for every estimator, how well it predicted the ratings
(Spearman's rho with mean soundness, ROC-AUC for "rated unsound" and "not rated
correct", ratings by uncertainty quantile): index.md, tables/ (Markdown and
CSV) and plots/ (PNG and SVG).`

func runAnnotateReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("annotate report", annotateReportHelp, "labelfree annotate report --config run.yaml", stderr)
	load := configFlags(fs)
	dirFlag := fs.String("dir", "", "directory of the ratings files (default OUT/annotations)")
	outFlag := fs.String("report", "", "directory the report is written to (default DIR/report)")
	sound := fs.Float64("sound", 3, "lowest mean soundness (1-5) that counts as sound")
	quantiles := fs.Int("quantiles", 4, "uncertainty quantiles of the ratings-by-quantile table")
	minItems := fs.Int("min-items", 3, "fewest items a statistic is computed over (fewer: undefined)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *sound < annotate.MinSoundness || *sound > annotate.MaxSoundness || *quantiles < 1 || *minItems < 1 {
		return fmt.Errorf("%w: --sound must be in 1..5, --quantiles and --min-items at least 1", errUsage)
	}
	c, err := load()
	if err != nil {
		return err
	}
	dir := *dirFlag
	if dir == "" {
		dir = c.path(annotationsDir)
	}
	out := *outFlag
	if out == "" {
		out = filepath.Join(dir, "report")
	}
	a, err := areport.Load(ctx, dir, c.path(scoresFile), &areport.Config{Sound: *sound, Quantiles: *quantiles, MinItems: *minItems})
	if err != nil {
		return err
	}
	for _, t := range a.Torn {
		fmt.Fprintln(stderr, "annotate: warning:", t)
	}
	if len(a.Unscored) > 0 {
		fmt.Fprintf(stderr, "annotate: warning: %d rated groups are not in the score file (first: %q)\n", len(a.Unscored), a.Unscored[0])
	}
	opts := &areport.Options{Title: "labelfree annotation report: " + c.taskName()}
	if c.toyModel() {
		opts.Mark = "TOY MODEL"
		opts.Note = "These traces come from labelfree's toy reasoner, a tiny model with hand-set weights: its answers mean nothing."
	}
	if err := areport.Write(ctx, out, a, opts); err != nil {
		return err
	}
	r := &result{Stage: "annotate report", Output: out,
		line: fmt.Sprintf("%d annotators, %d rated groups, soundness alpha %s", len(a.Annotators), len(a.Items), statString(a.Soundness.Alpha))}
	return printResults(stdout, *asJSON, []*result{r})
}

// statString prints a statistic or why it is undefined.
func statString(s areport.Stat) string {
	if s.Err != nil {
		return "undefined (" + s.Err.Error() + ")"
	}
	return fmt.Sprintf("%.3f", s.Value)
}
