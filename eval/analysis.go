package eval

import (
	"context"
	"fmt"
	"slices"

	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/perturb"
	"github.com/labelfree/labelfree/score"
	"github.com/labelfree/labelfree/uncertainty"
)

// Input is what Analyze reads: a score file's header and records and,
// optionally, each group's answer counts from the trace file.
type Input struct {
	// Header is the score file's header; its Estimators are the ones
	// analysed unless Config.Estimators says otherwise.
	Header score.Header
	// Records are the score file's records.
	Records []score.Record
	// Votes holds each group's answer counts, r0's included, by id (see
	// Load); nil when the trace file was not read, and then PerturbQA's
	// auc_per_gene ranks r0's answer alone (a hard 0/1 score).
	Votes map[string]Votes
}

// Config tunes Analyze. A nil *Config means the zero Config, and every
// field's zero value means its default.
type Config struct {
	// Labels is the label set; nil means perturb.Classes() (up, down,
	// none).
	Labels []string
	// Estimators are the estimators to analyse, in order; nil means those
	// of the score file's header.
	Estimators []string
	// Fractions are the retention fractions of the curves, each in (0, 1];
	// nil means DefaultFractions (0.05, 0.10, …, 1). They are sorted, and
	// SummaryFraction is added if missing.
	Fractions []float64
	// SummaryFraction is the fraction q whose selections the report's
	// filter summary describes; 0 means 0.3.
	SummaryFraction float64
	// Bins is the number of equal-count bins of the reliability curves; 0
	// means 10 (deciles).
	Bins int
	// Seed seeds the random strategy (filter.Random); every value,
	// 0 included, is a seed.
	Seed uint64
}

// withDefaults returns a copy of c with defaults filled in.
func (c *Config) withDefaults() (Config, error) {
	var d Config
	if c != nil {
		d = *c
	}
	if d.Labels == nil {
		d.Labels = perturb.Classes()
	}
	if _, err := labelIndex(d.Labels); err != nil {
		return d, err
	}
	d.Labels = slices.Clone(d.Labels)
	d.Estimators = slices.Clone(d.Estimators)
	if d.Fractions == nil {
		d.Fractions = DefaultFractions()
	}
	if d.SummaryFraction == 0 {
		d.SummaryFraction = 0.3
	}
	if err := checkFractions(append(slices.Clone(d.Fractions), d.SummaryFraction)); err != nil {
		return d, err
	}
	d.Fractions = slices.Clone(d.Fractions)
	if !slices.Contains(d.Fractions, d.SummaryFraction) {
		d.Fractions = append(d.Fractions, d.SummaryFraction)
	}
	slices.Sort(d.Fractions)
	d.Fractions = slices.Compact(d.Fractions)
	switch {
	case d.Bins == 0:
		d.Bins = 10
	case d.Bins < 0:
		return d, fmt.Errorf("%w: %d reliability bins", ErrInvalid, d.Bins)
	}
	return d, nil
}

// Analysis is everything Analyze measures; the report package renders it.
type Analysis struct {
	// Labels is the label set, Estimators the estimators analysed and
	// Fractions the retention fractions, in order.
	Labels, Estimators []string
	Fractions          []float64
	// SummaryFraction is the Config's.
	SummaryFraction float64
	// Groups is the number of records in the input, Unlabelled the number
	// of them without a gold label, which are left out of every metric.
	Groups, Unlabelled int
	// Classification compares r0's answers with the gold labels of every
	// labelled group, unparsed answers included (as wrong).
	Classification *Classification
	// AUC is PerturbQA's auc_per_gene, nil when the input is not a
	// PerturbQA task (AUCSkip says why).
	AUC *PerturbAUC
	// AUCFromVotes reports whether AUC ranked the answer shares of every
	// trace (Input.Votes) or r0's answer alone.
	AUCFromVotes bool
	// AUCSkip says why AUC is nil.
	AUCSkip string
	// PerEstimator has one entry per estimator, in the order of
	// Estimators.
	PerEstimator []*EstimatorAnalysis
	// Seed is the random strategy's seed.
	Seed uint64
}

// EstimatorAnalysis is what Analyze measures of one estimator.
type EstimatorAnalysis struct {
	// Name is the estimator's name.
	Name string
	// Scored is the number of labelled groups the estimator scored, Failed
	// the number it could not score (an error in the score file); failed
	// groups are left out of this estimator's metrics and selections.
	Scored, Failed int
	// Quality judges the uncertainty against r0's correctness over the
	// scored groups, an unparsed r0 counting as wrong; nil when nothing was
	// scored.
	Quality *Quality
	// Reliability is r0's accuracy per equal-count bin of uncertainty,
	// least uncertain first.
	Reliability []Bin
	// Distribution holds the uncertainties (Score.Value) of the scored
	// groups by r0's answer: one entry per label, then one for Unparsed.
	Distribution []ClassValues
	// Curves are the retention curves of the per-class, global and random
	// strategies, in that order.
	Curves []Curve
}

// ClassValues are the uncertainties of the groups whose r0 answered Label,
// split by whether that answer is right.
type ClassValues struct {
	// Label is r0's answer, Unparsed for the groups without one.
	Label string
	// Right and Wrong are the uncertainties of the groups whose answer is
	// right and wrong, in input order.
	Right, Wrong []float64
}

// Curve is one strategy's retention curve.
type Curve struct {
	// Strategy is filter.NamePerClass, filter.NameGlobal or
	// filter.NameRandom.
	Strategy string
	// Points has one Point per fraction of the Analysis, in order.
	Points []CurvePoint
}

// CurvePoint is a Point with the filter package's summary of its
// selection (kept per class, thresholds used).
type CurvePoint struct {
	Point
	Summary filter.Summary
}

// At returns the point of fraction q, or nil.
func (c *Curve) At(q float64) *CurvePoint {
	for i := range c.Points {
		if c.Points[i].Fraction == q {
			return &c.Points[i]
		}
	}
	return nil
}

// Analyze measures in's predictions and uncertainties against their gold
// labels: the classification metrics of r0's answers, PerturbQA's
// auc_per_gene when the ids are PerturbQA ids and the label set is
// PerturbQA's, and per estimator the Quality, the reliability curve, the
// distributions of uncertainty per class and the retention curves of the
// paper's ablation. A retention curve selects, at each fraction q, with
// the filter package's strategies over the labelled groups:
//
//	per-class  filter.PerClass{Estimator, Fraction: q}
//	global     filter.Global{Estimator, Fraction: q}
//	random     filter.Random{Seed, Estimator, Like: the per-class selection's summary}
//
// so the random baseline keeps as many groups as per-class filtering, drawn
// from the same pool (r0 parsed, estimator scored) regardless of class.
// Groups without a gold label are left out (Analysis.Unlabelled).
//
// Errors: ErrEmpty without a labelled group, a *LabelError (Index: the
// record's position in Input.Records) for a gold label or an r0 class
// outside the label set, ErrInvalid for a bad Config,
// an estimator the header does not list or a malformed record, and
// ctx's error, checked between estimators.
func Analyze(ctx context.Context, in *Input, c *Config) (*Analysis, error) {
	cfg, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.Estimators == nil {
		cfg.Estimators = slices.Clone(in.Header.Estimators)
	}
	for _, e := range cfg.Estimators {
		if !slices.Contains(in.Header.Estimators, e) {
			return nil, fmt.Errorf("%w: estimator %q is not in the score file", ErrInvalid, e)
		}
	}
	a := &Analysis{
		Labels: cfg.Labels, Estimators: cfg.Estimators, Fractions: cfg.Fractions,
		SummaryFraction: cfg.SummaryFraction, Groups: len(in.Records), Seed: cfg.Seed,
	}
	var recs []*score.Record
	for i := range in.Records {
		r := &in.Records[i]
		if r.Label == "" {
			a.Unlabelled++
			continue
		}
		if r.OK == (r.Class == Unparsed) {
			return nil, fmt.Errorf("%w: group %q: class %q with ok %v", ErrInvalid, r.ID, r.Class, r.OK)
		}
		if !slices.Contains(cfg.Labels, r.Label) {
			return nil, fmt.Errorf("eval: group %q: %w", r.ID, &LabelError{What: "gold label", Index: i, Label: r.Label})
		}
		if r.OK && !slices.Contains(cfg.Labels, r.Class) {
			return nil, fmt.Errorf("eval: group %q: %w", r.ID, &LabelError{What: "prediction", Index: i, Label: r.Class})
		}
		recs = append(recs, r)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%w: none of %d groups has a gold label", ErrEmpty, len(in.Records))
	}
	pred := make([]string, len(recs))
	gold := make([]string, len(recs))
	for i, r := range recs {
		pred[i], gold[i] = r.Class, r.Label
	}
	if a.Classification, err = Classify(cfg.Labels, pred, gold); err != nil {
		return nil, err
	}
	a.perturbAUC(recs, in.Votes)
	for _, name := range cfg.Estimators {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("eval: %w", context.Cause(ctx))
		}
		ea, err := analyzeEstimator(&in.Header, recs, name, &cfg)
		if err != nil {
			return nil, err
		}
		a.PerEstimator = append(a.PerEstimator, ea)
	}
	return a, nil
}

// perturbAUC sets a.AUC when the records are a PerturbQA task.
func (a *Analysis) perturbAUC(recs []*score.Record, votes map[string]Votes) {
	classes := perturb.Classes()
	if len(a.Labels) != len(classes) || !slices.Equal(slices.Sorted(slices.Values(a.Labels)), slices.Sorted(slices.Values(classes))) {
		a.AUCSkip = "the label set is not PerturbQA's (up, down, none)"
		return
	}
	ids := make([]string, len(recs))
	gold := make([]string, len(recs))
	vs := make([]Votes, len(recs))
	a.AUCFromVotes = votes != nil
	for i, r := range recs {
		if _, _, _, err := SplitPerturbID(r.ID); err != nil {
			a.AUCSkip = fmt.Sprintf("group id %q is not a PerturbQA id {cell}/{pert}/{gene}", r.ID)
			return
		}
		ids[i], gold[i] = r.ID, r.Label
		switch {
		case votes == nil:
			vs[i] = Votes{r.Class: 1}
		case votes[r.ID] == nil:
			a.AUCSkip = fmt.Sprintf("the trace file has no group %q", r.ID)
			return
		default:
			vs[i] = votes[r.ID]
		}
	}
	auc, err := PerturbQAAUC(ids, gold, vs)
	if err != nil { // the labels and ids were checked: cannot happen
		a.AUCSkip = err.Error()
		return
	}
	a.AUC = auc
}

// analyzeEstimator measures one estimator over the labelled records.
func analyzeEstimator(h *score.Header, recs []*score.Record, name string, cfg *Config) (*EstimatorAnalysis, error) {
	ea := &EstimatorAnalysis{Name: name}
	index, _ := labelIndex(cfg.Labels)
	ea.Distribution = make([]ClassValues, len(cfg.Labels)+1)
	for i, l := range cfg.Labels {
		ea.Distribution[i].Label = l
	}
	ea.Distribution[len(cfg.Labels)].Label = Unparsed
	var scores []uncertainty.Score
	var correct []bool
	var eligible []Judged
	eligibleAt := map[string]int{}
	for _, r := range recs {
		s, ok := r.Scores[name]
		if !ok {
			if _, failed := r.Errors[name]; !failed {
				return nil, fmt.Errorf("%w: group %q has neither a score nor an error for %q", ErrInvalid, r.ID, name)
			}
			ea.Failed++
			continue
		}
		ea.Scored++
		right := r.OK && r.Class == r.Label
		scores = append(scores, s)
		correct = append(correct, right)
		k := len(cfg.Labels)
		if r.OK {
			k = index[r.Class] // Analyze checked the class
			eligibleAt[r.ID] = len(eligible)
			eligible = append(eligible, Judged{Pred: r.Class, Gold: r.Label})
		}
		d := &ea.Distribution[k]
		if right {
			d.Right = append(d.Right, s.Value)
		} else {
			d.Wrong = append(d.Wrong, s.Value)
		}
	}
	if ea.Scored == 0 {
		return ea, nil
	}
	var err error
	if ea.Quality, err = Judge(name, scores, correct); err != nil {
		return nil, err
	}
	if ea.Reliability, err = Reliability(scores, correct, cfg.Bins); err != nil {
		return nil, err
	}
	if len(eligible) == 0 {
		return ea, nil
	}
	all := func(yield func(*score.Record, error) bool) {
		for _, r := range recs {
			if !yield(r, nil) {
				return
			}
		}
	}
	curves := []Curve{{Strategy: filter.NamePerClass}, {Strategy: filter.NameGlobal}, {Strategy: filter.NameRandom}}
	for _, q := range cfg.Fractions {
		pc, err := filter.Select(h, all, filter.PerClass{Estimator: name, Fraction: q})
		if err != nil {
			return nil, fmt.Errorf("eval: %s: %w", name, err)
		}
		gl, err := filter.Select(h, all, filter.Global{Estimator: name, Fraction: q})
		if err != nil {
			return nil, fmt.Errorf("eval: %s: %w", name, err)
		}
		like := pc.Header.Summary
		rnd, err := filter.Select(h, all, filter.Random{Seed: cfg.Seed, Estimator: name, Like: &like})
		if err != nil {
			return nil, fmt.Errorf("eval: %s: %w", name, err)
		}
		for i, sel := range []*filter.Selection{pc, gl, rnd} {
			p, err := selectionPoint(cfg.Labels, q, eligible, eligibleAt, sel)
			if err != nil {
				return nil, fmt.Errorf("eval: %s: %s at %v: %w", name, curves[i].Strategy, q, err)
			}
			curves[i].Points = append(curves[i].Points, *p)
		}
	}
	ea.Curves = curves
	return ea, nil
}

// selectionPoint judges a filter selection.
func selectionPoint(labels []string, q float64, eligible []Judged, at map[string]int, sel *filter.Selection) (*CurvePoint, error) {
	if sel.Header.Summary.Eligible != len(eligible) {
		return nil, fmt.Errorf("%w: the filter saw %d eligible groups, eval %d", ErrInvalid, sel.Header.Summary.Eligible, len(eligible))
	}
	keep := make([]int, len(sel.Records))
	for i, r := range sel.Records {
		k, ok := at[r.ID]
		if !ok {
			return nil, fmt.Errorf("%w: the filter kept %q, which is not eligible", ErrInvalid, r.ID)
		}
		keep[i] = k
	}
	p, err := NewPoint(labels, q, eligible, keep)
	if err != nil {
		return nil, err
	}
	return &CurvePoint{Point: *p, Summary: sel.Header.Summary}, nil
}
