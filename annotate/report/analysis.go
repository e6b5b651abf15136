package report

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/labelfree/labelfree/annotate"
	"github.com/labelfree/labelfree/score"
	"github.com/labelfree/labelfree/uncertainty"
)

// Sentinel errors. Errors of this package, and the Err of an undefined
// Stat, wrap one of them or one of the annotate and uncertainty packages.
var (
	// ErrNoRatings: a ratings directory without a rating in it.
	ErrNoRatings = errors.New("report: no ratings")
	// ErrTooFew: a statistic over fewer items than Config.MinItems.
	ErrTooFew = errors.New("report: too few items")
)

// Ratings are the ratings of every annotator, as ReadDir reads them from
// a ratings directory.
type Ratings struct {
	// Annotators are the annotators, sorted; an annotator whose file
	// holds no rating is listed too.
	Annotators []string
	// Ratings are each annotator's last rating of each item
	// (annotate.Latest), annotator by annotator in the order of
	// Annotators, each in file order.
	Ratings []annotate.Rating
	// Torn are the torn last lines that were skipped, one
	// *annotate.LineError wrapping annotate.ErrTorn per file that ends
	// in one.
	Torn []error
}

// ReadDir reads the ratings directory dir: every file "<annotator>.jsonl"
// in it, named as annotate.FileName names them, holding that annotator's
// ratings as an annotate.Writer wrote them. Other files and
// subdirectories are ignored. A torn last line (a write that a crash cut
// short, never reported saved) is skipped and listed in Torn. It returns
// an error wrapping ErrNoRatings when dir holds no rating at all, the
// *annotate.LineError of a bad line, naming the file and the line, and an
// error wrapping annotate.ErrInvalid for a "*.jsonl" file whose name is
// not an annotator's or that holds another annotator's rating.
func ReadDir(dir string) (*Ratings, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	r := &Ratings{}
	for _, e := range entries { // sorted by name
		annotator, ok := strings.CutSuffix(e.Name(), ".jsonl")
		if !ok || e.IsDir() {
			continue
		}
		name, err := annotate.FileName(dir, annotator)
		if err != nil {
			return nil, fmt.Errorf("report: %s: not a ratings file: %w", e.Name(), err)
		}
		ratings, torn, err := annotate.ReadFile(name)
		if err != nil {
			return nil, err
		}
		for _, rt := range ratings {
			if rt.Annotator != annotator {
				return nil, fmt.Errorf("report: %s: %w: a rating of %q by %q in the file of %q",
					name, annotate.ErrInvalid, rt.ID, rt.Annotator, annotator)
			}
		}
		r.Annotators = append(r.Annotators, annotator)
		r.Ratings = append(r.Ratings, ratings...)
		if torn != nil {
			r.Torn = append(r.Torn, torn)
		}
	}
	if len(r.Ratings) == 0 {
		return nil, fmt.Errorf("%w: no rating in a file <annotator>.jsonl of %s (%d such files)", ErrNoRatings, dir, len(r.Annotators))
	}
	return r, nil
}

// Config tunes Analyze. A nil *Config means the zero Config, and every
// field's zero value means its default.
type Config struct {
	// Sound is the lowest mean soundness that counts as sound: an item
	// whose annotators' mean soundness is below it is rated unsound. 0
	// means 3, the middle of the 1–5 scale, so that a 3 ("partly sound")
	// is sound and 2.5 (a 2 and a 3) is not.
	Sound float64
	// Quantiles is the number of uncertainty quantiles of the ratings by
	// quantile table; 0 means 4 (quartiles).
	Quantiles int
	// MinItems is the fewest items a statistic is computed over; below
	// it the statistic is undefined (ErrTooFew). 0 means 3: a kappa or a
	// rank correlation of two items is ±1 or 0 by construction.
	MinItems int
}

func (c *Config) withDefaults() Config {
	var d Config
	if c != nil {
		d = *c
	}
	if d.Sound == 0 {
		d.Sound = 3
	}
	if d.Quantiles == 0 {
		d.Quantiles = 4
	}
	if d.MinItems == 0 {
		d.MinItems = 3
	}
	return d
}

// Stat is a statistic that the data may leave undefined.
type Stat struct {
	// Value is the statistic; 0 when undefined.
	Value float64
	// Err says why the statistic is undefined, nil when it is defined. It
	// wraps ErrTooFew, annotate.ErrNoVariation, annotate.ErrNoPairs or
	// uncertainty.ErrUndefined.
	Err error
}

// Defined reports whether s has a value.
func (s Stat) Defined() bool { return s.Err == nil }

// Analysis is what the report shows: agreement between annotators and the
// relation between each estimator's uncertainty and the ratings.
type Analysis struct {
	// RatingsDir and ScoreFile are the names Load was given, for the
	// report's index; "" when unknown.
	RatingsDir, ScoreFile string
	// Config is the Config, defaults applied.
	Config Config
	// Annotators are the annotators, sorted by name.
	Annotators []Annotator
	// Torn are Ratings.Torn: the torn last lines skipped.
	Torn []error
	// Items are the rated items, sorted by id.
	Items []Item
	// Pairs is the agreement of each pair of annotators, in the order
	// (Annotators[0], Annotators[1]), (0, 2), …, (1, 2), ….
	Pairs []Pair
	// Correct is Krippendorff's alpha of all annotators' "correct", at
	// the nominal level; Soundness that of their soundness, at the
	// ordinal level.
	Correct, Soundness Alpha
	// Scores is the score file's header; nil when Analyze had none.
	Scores *score.Header
	// Unscored are the rated items absent from the score file, sorted;
	// they are left out of every estimator's statistics.
	Unscored []string
	// Estimators relate each estimator of the score file to the
	// ratings, in the header's order.
	Estimators []Estimator
}

// Annotator summarises one annotator's ratings.
type Annotator struct {
	Name    string
	Rated   int // items rated
	Correct int // items whose answer the annotator marked correct
	// Soundness[s-1] is the number of items rated s.
	Soundness [annotate.MaxSoundness]int
}

// MeanSoundness returns the annotator's mean soundness, 0 for no ratings.
func (a *Annotator) MeanSoundness() float64 {
	if a.Rated == 0 {
		return 0
	}
	var sum int
	for s, n := range a.Soundness {
		sum += (s + 1) * n
	}
	return float64(sum) / float64(a.Rated)
}

// Item is one rated item: its ratings and their consensus.
type Item struct {
	ID string
	// Ratings are the item's ratings, one per annotator who rated it, in
	// the order of Analysis.Annotators.
	Ratings []annotate.Rating
	// MeanSoundness is the mean of the Ratings' soundness.
	MeanSoundness float64
	// CorrectVotes is the number of Ratings that mark the answer correct.
	CorrectVotes int
	// Record is the item's line of the score file, nil when absent.
	Record *score.Record
}

// Correct reports whether a strict majority of the item's annotators
// marked its answer correct; a tie counts as not correct, so one
// annotator's doubt is enough to flag an item that two annotators rated.
func (it *Item) Correct() bool { return 2*it.CorrectVotes > len(it.Ratings) }

// Pair is the agreement of two annotators over the items both rated.
type Pair struct {
	A, B string
	// N is the number of items both rated.
	N int
	// CorrectAgree is the share of the N items on which A and B agree
	// about "correct"; CorrectKappa is Cohen's kappa of that agreement.
	CorrectAgree, CorrectKappa Stat
	// SoundnessAgree is the share of the N items given the same
	// soundness; Linear and Quadratic are the weighted kappas
	// (annotate.WeightedKappa) of the soundness.
	SoundnessAgree, Linear, Quadratic Stat
}

// Alpha is Krippendorff's alpha over all annotators.
type Alpha struct {
	// Items is the number of items rated; Pairable those rated by two
	// annotators or more, the only ones alpha uses, and Values their
	// ratings.
	Items, Pairable, Values int
	// Alpha is Krippendorff's alpha.
	Alpha Stat
}

// Estimator relates one estimator's uncertainty u to the ratings of the
// scored items: rated items present in the score file for which the
// estimator has a score.
type Estimator struct {
	Name string
	// N is the number of scored items; Failed the number of rated items
	// in the score file for which the estimator recorded an error.
	N, Failed int
	// Spearman is Spearman's rank correlation between u and the items'
	// mean soundness; negative when higher uncertainty goes with less
	// sound reasoning, as it should.
	Spearman Stat
	// Unsound is the number of scored items rated unsound (mean soundness
	// below Config.Sound); UnsoundAUC the ROC-AUC of u as a detector of
	// them: the probability that an unsound item is more uncertain than a
	// sound one, ties counting one half.
	Unsound    int
	UnsoundAUC Stat
	// Incorrect is the number of scored items not rated correct (see
	// Item.Correct); IncorrectAUC the ROC-AUC of u as a detector of them.
	Incorrect    int
	IncorrectAUC Stat
	// Quantiles are the scored items by quantile of u, least uncertain
	// first; a quantile no item falls in is left out.
	Quantiles []Quantile
}

// Quantile is the scored items in one uncertainty quantile of an
// estimator. Quantiles are cut as annotate.Stratify cuts them: items
// sorted by (u, id), the run of equal u starting at 0-based position i
// falls in quantile ⌊Config.Quantiles·i/N⌋, so equal uncertainties share
// a quantile.
type Quantile struct {
	// Quantile is 0 for the least uncertain items, Config.Quantiles-1 for
	// the most.
	Quantile int
	// N is the number of items; Lo and Hi their least and greatest u.
	N      int
	Lo, Hi float64
	// MeanSoundness is the mean of the items' MeanSoundness.
	MeanSoundness float64
	// Correct is the number of items rated correct (Item.Correct).
	Correct int
	// IDs are the items' ids, sorted.
	IDs []string
}

// Analyze analyses the ratings r against the score file h, records (as
// score.ReadFile returns them). h may be nil, for agreement alone. It
// returns an error wrapping ErrNoRatings when r holds no rating and one
// wrapping annotate.ErrInvalid for a rating that fails
// annotate.Rating.Validate or a Config out of range (Quantiles or MinItems
// negative, Sound outside 1–5). Statistics the data leave undefined, such
// as agreement when no item was rated twice, are Stats with an Err, not
// errors.
func Analyze(r *Ratings, h *score.Header, records []score.Record, c *Config) (*Analysis, error) {
	cfg := c.withDefaults()
	if cfg.Quantiles < 1 || cfg.MinItems < 1 || !(cfg.Sound >= annotate.MinSoundness && cfg.Sound <= annotate.MaxSoundness) {
		return nil, fmt.Errorf("report: %w: config %+v", annotate.ErrInvalid, cfg)
	}
	ratings := annotate.Latest(r.Ratings)
	if len(ratings) == 0 {
		return nil, fmt.Errorf("%w to analyse", ErrNoRatings)
	}
	a := &Analysis{Config: cfg, Torn: slices.Clone(r.Torn)}
	names := slices.Clone(r.Annotators)
	for i := range ratings {
		if err := ratings[i].Validate(); err != nil {
			return nil, fmt.Errorf("report: %s's rating of %q: %w", ratings[i].Annotator, ratings[i].ID, err)
		}
		names = append(names, ratings[i].Annotator)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	col := make(map[string]int, len(names))
	a.Annotators = make([]Annotator, len(names))
	for j, n := range names {
		col[n] = j
		a.Annotators[j].Name = n
	}

	// grid[id][j] is annotator j's rating of id, nil if none.
	grid := make(map[string][]*annotate.Rating)
	for i := range ratings {
		rt := &ratings[i]
		if grid[rt.ID] == nil {
			grid[rt.ID] = make([]*annotate.Rating, len(names))
		}
		grid[rt.ID][col[rt.Annotator]] = rt
		an := &a.Annotators[col[rt.Annotator]]
		an.Rated++
		an.Soundness[rt.Soundness-1]++
		if rt.Correct {
			an.Correct++
		}
	}
	ids := make([]string, 0, len(grid))
	for id := range grid {
		ids = append(ids, id)
	}
	slices.Sort(ids)

	byID := make(map[string]*score.Record, len(records))
	for i := range records {
		byID[records[i].ID] = &records[i]
	}
	for _, id := range ids {
		it := Item{ID: id}
		var sum int
		for _, rt := range grid[id] {
			if rt == nil {
				continue
			}
			it.Ratings = append(it.Ratings, *rt)
			sum += rt.Soundness
			if rt.Correct {
				it.CorrectVotes++
			}
		}
		it.MeanSoundness = float64(sum) / float64(len(it.Ratings))
		if h != nil {
			it.Record = byID[id]
			if it.Record == nil {
				a.Unscored = append(a.Unscored, id)
			}
		}
		a.Items = append(a.Items, it)
	}

	for j := range names {
		for k := j + 1; k < len(names); k++ {
			a.Pairs = append(a.Pairs, pair(names[j], names[k], ids, grid, j, k, cfg.MinItems))
		}
	}
	a.Correct, a.Soundness = alphas(ids, grid, len(names), cfg.MinItems)

	if h != nil {
		hc := *h
		hc.Estimators = slices.Clone(h.Estimators)
		a.Scores = &hc
		for _, name := range h.Estimators {
			a.Estimators = append(a.Estimators, estimator(name, a.Items, &cfg))
		}
	}
	return a, nil
}

// stat returns the Stat of f over n items, undefined below minItems.
func stat(n, minItems int, f func() (float64, error)) Stat {
	if n < minItems {
		return Stat{Err: fmt.Errorf("%w: %d, the minimum is %d", ErrTooFew, n, minItems)}
	}
	v, err := f()
	if err != nil {
		return Stat{Err: err}
	}
	return Stat{Value: v}
}

// share returns the share of the n items for which same(i) holds.
func share(n, minItems int, same func(i int) bool) Stat {
	return stat(n, minItems, func() (float64, error) {
		k := 0
		for i := range n {
			if same(i) {
				k++
			}
		}
		return float64(k) / float64(n), nil
	})
}

func pair(a, b string, ids []string, grid map[string][]*annotate.Rating, j, k, minItems int) Pair {
	var ca, cb []string
	var sa, sb []float64
	for _, id := range ids {
		ra, rb := grid[id][j], grid[id][k]
		if ra == nil || rb == nil {
			continue
		}
		ca, cb = append(ca, correctString(ra.Correct)), append(cb, correctString(rb.Correct))
		sa, sb = append(sa, float64(ra.Soundness)), append(sb, float64(rb.Soundness))
	}
	n := len(ca)
	weighted := func(w annotate.Weighting) func() (float64, error) {
		return func() (float64, error) { return annotate.WeightedKappa(sa, sb, w) }
	}
	return Pair{
		A: a, B: b, N: n,
		CorrectAgree:   share(n, minItems, func(i int) bool { return ca[i] == cb[i] }),
		CorrectKappa:   stat(n, minItems, func() (float64, error) { return annotate.CohenKappa(ca, cb) }),
		SoundnessAgree: share(n, minItems, func(i int) bool { return sa[i] == sb[i] }),
		Linear:         stat(n, minItems, weighted(annotate.Linear)),
		Quadratic:      stat(n, minItems, weighted(annotate.Quadratic)),
	}
}

func correctString(c bool) string {
	if c {
		return "correct"
	}
	return "incorrect"
}

// alphas returns Krippendorff's alpha of "correct" (nominal, 1 or 0) and
// of soundness (ordinal) over every item and annotator.
func alphas(ids []string, grid map[string][]*annotate.Rating, annotators, minItems int) (correct, soundness Alpha) {
	nan := math.NaN()
	c := make([][]float64, len(ids))
	s := make([][]float64, len(ids))
	var pairable, values int
	for u, id := range ids {
		c[u], s[u] = make([]float64, annotators), make([]float64, annotators)
		m := 0
		for j, rt := range grid[id] {
			c[u][j], s[u][j] = nan, nan
			if rt == nil {
				continue
			}
			m++
			s[u][j] = float64(rt.Soundness)
			c[u][j] = 0
			if rt.Correct {
				c[u][j] = 1
			}
		}
		if m >= 2 {
			pairable++
			values += m
		}
	}
	alpha := func(ratings [][]float64, metric annotate.Metric) Alpha {
		a := Alpha{Items: len(ids), Pairable: pairable, Values: values}
		a.Alpha = stat(pairable, minItems, func() (float64, error) { return annotate.KrippendorffAlpha(ratings, metric) })
		if pairable == 0 {
			// No unit has two values: say so, as KrippendorffAlpha does,
			// rather than "too few".
			_, a.Alpha.Err = annotate.KrippendorffAlpha(ratings, metric)
		}
		return a
	}
	return alpha(c, annotate.Nominal), alpha(s, annotate.Ordinal)
}

// estimator relates the estimator called name to the ratings of items.
func estimator(name string, items []Item, cfg *Config) Estimator {
	e := Estimator{Name: name}
	var u, sound []float64
	var unsound, incorrect []bool
	var cands []annotate.Candidate
	byID := make(map[string]*Item)
	for i := range items {
		it := &items[i]
		if it.Record == nil {
			continue
		}
		s, err := it.Record.Score(name)
		if err != nil {
			e.Failed++
			continue
		}
		u = append(u, s.Value)
		sound = append(sound, it.MeanSoundness)
		unsound = append(unsound, it.MeanSoundness < cfg.Sound)
		incorrect = append(incorrect, !it.Correct())
		if unsound[len(unsound)-1] {
			e.Unsound++
		}
		if !it.Correct() {
			e.Incorrect++
		}
		cands = append(cands, annotate.Candidate{ID: it.ID, U: s.Value})
		byID[it.ID] = it
	}
	e.N = len(u)
	e.Spearman = stat(e.N, cfg.MinItems, func() (float64, error) { return annotate.Spearman(u, sound) })
	e.UnsoundAUC = stat(e.N, cfg.MinItems, func() (float64, error) { return uncertainty.ROCAUC(u, unsound) })
	e.IncorrectAUC = stat(e.N, cfg.MinItems, func() (float64, error) { return uncertainty.ROCAUC(u, incorrect) })
	if len(cands) == 0 {
		return e
	}
	strata, members := annotate.Stratify(cands, cfg.Quantiles)
	for s, st := range strata {
		q := Quantile{Quantile: st.Quantile, N: len(members[s]), Lo: math.Inf(1), Hi: math.Inf(-1)}
		var sum float64
		for _, m := range members[s] {
			q.Lo, q.Hi = min(q.Lo, m.U), max(q.Hi, m.U)
			q.IDs = append(q.IDs, m.ID)
			it := byID[m.ID]
			sum += it.MeanSoundness
			if it.Correct() {
				q.Correct++
			}
		}
		q.MeanSoundness = sum / float64(q.N)
		e.Quantiles = append(e.Quantiles, q)
	}
	slices.SortFunc(e.Quantiles, func(a, b Quantile) int { return cmp.Compare(a.Quantile, b.Quantile) })
	return e
}
