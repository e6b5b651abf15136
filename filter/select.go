package filter

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"os"
	"slices"
	"strings"

	"github.com/labelfree/labelfree/score"
	"github.com/labelfree/labelfree/uncertainty"
)

// entry is what Select keeps of an eligible group.
type entry struct {
	id    string
	class int32 // index into the classes, in sorted order once ranked
	s     uncertainty.Score
	key   uint64 // Random's key
}

// selector accumulates a score file's records for Select.
type selector struct {
	sp       spec
	h        *score.Header
	classIdx map[string]int32
	classes  []string
	total    []int // per class index: groups whose r0 answered it
	eligible []int
	entries  []entry
	groups   int
	excluded map[string]int
}

// Select makes the selection that s describes from the records of a score
// file with header h, read once, in any order. It keeps one small entry
// per eligible group (id, class, score) and sorts them, as the quantile
// pass needs them all, plus each id to catch duplicates: memory grows with
// the number of groups (about 100 bytes plus twice the id's length each),
// not with the size of the score file.
//
// A group is excluded, and counted in the Summary by reason, if r0's
// answer was not parsed (ReasonUnparsable), if the strategy's estimator or
// a gate's could not score it (ReasonError), or if a gate rejects it
// (ReasonGate). The others are ranked by uncertainty.Compare (Value, then
// Tiebreak), then by id, so the selection does not depend on the order of
// the records; Random orders them by its key (see Random). Select never
// reads a record's Label.
//
// It returns an error for a bad strategy, an estimator the header does not
// list, a record that has neither a score nor an error for a needed
// estimator, a duplicate id, or the first error of recs.
func Select(h *score.Header, recs iter.Seq2[*score.Record, error], s Strategy) (*Selection, error) {
	return selectRecords(h, recs, s, true)
}

// selectRecords is Select; checkIDs false skips the check for duplicate
// ids, for records from a score.Reader, which made it.
func selectRecords(h *score.Header, recs iter.Seq2[*score.Record, error], s Strategy, checkIDs bool) (*Selection, error) {
	sel, err := newSelector(h, s)
	if err != nil {
		return nil, err
	}
	var seen map[string]struct{}
	if checkIDs {
		seen = make(map[string]struct{})
	}
	for r, err := range recs {
		if err != nil {
			return nil, err
		}
		if seen != nil {
			if _, dup := seen[r.ID]; dup {
				return nil, fmt.Errorf("filter: group %q: %w", r.ID, ErrDuplicateID)
			}
			seen[r.ID] = struct{}{}
		}
		if err := sel.add(r); err != nil {
			return nil, err
		}
	}
	return sel.finish(), nil
}

func newSelector(h *score.Header, s Strategy) (*selector, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: nil strategy", errStrategy)
	}
	sp, err := s.spec()
	if err != nil {
		return nil, err
	}
	need := []string{sp.estimator}
	for _, g := range sp.gates {
		need = append(need, g.Estimator)
	}
	for _, e := range need {
		if e != "" && !slices.Contains(h.Estimators, e) {
			return nil, fmt.Errorf("filter: estimator %q is not in the score file (it has %s)", e, strings.Join(h.Estimators, ", "))
		}
	}
	return &selector{
		sp: sp, h: h, classIdx: make(map[string]int32),
		excluded: map[string]int{ReasonUnparsable: 0, ReasonError: 0, ReasonGate: 0},
	}, nil
}

// score returns r's score under name; ok is false if the estimator
// reported an error for r.
func (sel *selector) score(r *score.Record, name string) (s uncertainty.Score, ok bool, err error) {
	s, err = r.Score(name)
	var ee *score.EstimatorError
	switch {
	case err == nil:
		return s, true, nil
	case errors.As(err, &ee):
		return s, false, nil
	}
	return s, false, fmt.Errorf("filter: %w", err)
}

// add takes one record in.
func (sel *selector) add(r *score.Record) error {
	sel.groups++
	if !r.OK {
		sel.excluded[ReasonUnparsable]++
		return nil
	}
	ci, ok := sel.classIdx[r.Class]
	if !ok {
		ci = int32(len(sel.classes))
		sel.classIdx[r.Class] = ci
		sel.classes = append(sel.classes, r.Class)
		sel.total = append(sel.total, 0)
		sel.eligible = append(sel.eligible, 0)
	}
	sel.total[ci]++
	e := entry{id: r.ID, class: ci}
	scored := true
	if sel.sp.estimator != "" {
		s, ok, err := sel.score(r, sel.sp.estimator)
		if err != nil {
			return err
		}
		e.s, scored = s, ok
	}
	gated := false
	for _, g := range sel.sp.gates {
		s, ok, err := sel.score(r, g.Estimator)
		if err != nil {
			return err
		}
		scored = scored && ok
		gated = gated || ok && s.Value > g.Max
	}
	switch {
	case !scored:
		sel.excluded[ReasonError]++
		return nil
	case gated:
		sel.excluded[ReasonGate]++
		return nil
	}
	if sel.sp.kind == random {
		e.key = randomKey(sel.sp.seed, r.ID)
	}
	sel.eligible[ci]++
	sel.entries = append(sel.entries, e)
	return nil
}

// randomKey is Random's key of the group id under seed.
func randomKey(seed uint64, id string) uint64 {
	h := uint64(14695981039346656037) // FNV-1a 64
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	return rand.NewPCG(seed, h).Uint64()
}

// finish ranks the entries and makes the Selection.
func (sel *selector) finish() *Selection {
	sp := &sel.sp
	// Renumber the classes in sorted order, so that per-class output
	// comes by class name.
	names := slices.Clone(sel.classes)
	slices.Sort(names)
	pos := make(map[string]int32, len(names))
	for i, c := range names {
		pos[c] = int32(i)
	}
	order := make([]int32, len(sel.classes))
	for i, c := range sel.classes {
		order[i] = pos[c]
	}
	total := make([]int, len(names))
	eligible := make([]int, len(names))
	for i := range sel.classes {
		total[order[i]] = sel.total[i]
		eligible[order[i]] = sel.eligible[i]
	}
	for i := range sel.entries {
		sel.entries[i].class = order[sel.entries[i].class]
	}

	byKey := sp.kind == random
	perClass := sp.perClass
	// One comparison function with value parameters and no calls through
	// function values, so that sorting allocates nothing.
	less := func(a, b entry) int {
		if perClass && a.class != b.class {
			return cmp.Compare(a.class, b.class)
		}
		if byKey {
			if a.key != b.key {
				return cmp.Compare(a.key, b.key)
			}
		} else if c := uncertainty.Compare(a.s, b.s); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	}
	slices.SortFunc(sel.entries, less)

	kept := make([]int, len(names))
	thresholds := make([]*float64, len(names))
	var recs []Record
	keep := func(e *entry, r int) {
		rec := Record{ID: e.id, Class: names[e.class], Rank: r}
		if sp.estimator != "" {
			rec.Estimator, rec.U, rec.Tie = sp.estimator, e.s.Value, e.s.Tiebreak
		}
		recs = append(recs, rec)
		kept[e.class]++
	}
	if sp.perClass {
		counts := sel.classCounts(names, eligible)
		start := 0
		for c := range names {
			es := sel.entries[start : start+eligible[c]]
			start += eligible[c]
			for i := range counts[c] {
				keep(&es[i], i+1)
			}
			if sp.kind != random && counts[c] > 0 {
				v := es[counts[c]-1].s.Value
				thresholds[c] = &v
			}
		}
	} else {
		k := sel.overallCount()
		for i := range k {
			keep(&sel.entries[i], i+1)
		}
		var cut *float64
		switch {
		case sp.threshold != nil:
			t := *sp.threshold
			cut = &t
		case sp.kind == global && k > 0:
			v := sel.entries[k-1].s.Value
			cut = &v
		}
		for c := range thresholds {
			if cut != nil {
				v := *cut // one per class, so that changing one changes no other
				thresholds[c] = &v
			}
		}
	}

	sum := Summary{
		Strategy: sp.name, Estimator: sp.estimator,
		Groups: sel.groups, Eligible: len(sel.entries), Kept: len(recs),
		Excluded: sel.excluded, Classes: make([]ClassSummary, len(names)),
	}
	for c, name := range names {
		sum.Classes[c] = ClassSummary{Class: name, Total: total[c], Eligible: eligible[c], Kept: kept[c], Threshold: thresholds[c]}
	}
	h := Header{
		Strategy: sp.name, Estimator: sp.estimator, Fraction: sp.fraction, N: sp.n,
		Threshold: sp.threshold, Balance: sp.balance, Cap: sp.cap, Seed: sp.seed,
		PerClass: sp.kind == random && sp.perClass, Like: sp.like, Gates: sp.gates,
		Traces: sel.h.Traces, TracesSHA256: sel.h.TracesSHA256,
		Summary: sum,
	}
	return &Selection{Header: h, Records: recs}
}

// classCounts returns how many groups each class keeps, for a per-class
// strategy; names and eligible are in sorted class order.
func (sel *selector) classCounts(names []string, eligible []int) []int {
	sp := &sel.sp
	counts := make([]int, len(names))
	var like map[string]int
	if sp.like != nil {
		like = make(map[string]int, len(sp.like.Classes))
		for _, lc := range sp.like.Classes {
			like[lc.Class] = lc.Kept
		}
	}
	for c, n := range eligible {
		switch {
		case sp.fraction != 0:
			counts[c] = Size(sp.fraction, n)
		case like != nil:
			counts[c] = like[names[c]] // 0 for a class the other selection did not have
		default:
			counts[c] = sp.n
		}
		if sp.cap > 0 {
			counts[c] = min(counts[c], sp.cap)
		}
		counts[c] = min(counts[c], n)
	}
	if sp.balance {
		least := -1
		for c, n := range eligible {
			if n > 0 && (least < 0 || counts[c] < least) {
				least = counts[c]
			}
		}
		for c := range counts {
			counts[c] = min(counts[c], max(least, 0))
		}
	}
	return counts
}

// overallCount returns how many groups an overall strategy keeps from the
// sorted entries.
func (sel *selector) overallCount() int {
	sp := &sel.sp
	n := len(sel.entries)
	switch {
	case sp.fraction != 0:
		return Size(sp.fraction, n)
	case sp.threshold != nil:
		t := *sp.threshold
		k, _ := slices.BinarySearchFunc(sel.entries, t, func(e entry, t float64) int {
			if e.s.Value <= t {
				return -1
			}
			return 1
		})
		return k
	case sp.like != nil:
		return min(sp.like.Kept, n)
	}
	return min(sp.n, n)
}

// File reads the score file scores, makes the selection that s describes
// (see Select) and writes it to the selection file out (see WriteFile),
// with the score file's path and SHA-256 in the header. ctx is checked
// every few thousand records.
func File(ctx context.Context, scores, out string, s Strategy) (*Selection, error) {
	f, err := os.Open(scores)
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	defer f.Close()
	sum := sha256.New()
	r, err := score.NewReader(io.TeeReader(f, sum), scores)
	if err != nil {
		return nil, err
	}
	h := r.Header()
	recs := func(yield func(*score.Record, error) bool) {
		n := 0
		for rec, err := range r.All() {
			if n++; n%4096 == 0 && err == nil {
				if cerr := ctx.Err(); cerr != nil {
					rec, err = nil, fmt.Errorf("filter: %w", context.Cause(ctx))
				}
			}
			if !yield(rec, err) || err != nil {
				return
			}
		}
	}
	sel, err := selectRecords(&h, recs, s, false)
	if err != nil {
		return nil, err
	}
	// Select read the file to its end: the hash covers every byte. (A
	// Reader stops at EOF, so nothing is left unread.)
	if _, err := io.Copy(sum, f); err != nil {
		return nil, fmt.Errorf("filter: read %s: %w", scores, err)
	}
	sel.Header.Scores = scores
	sel.Header.ScoresSHA256 = hex.EncodeToString(sum.Sum(nil))
	if err := WriteFile(out, sel); err != nil {
		return nil, err
	}
	return sel, nil
}
