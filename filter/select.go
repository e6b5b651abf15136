package filter

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/bits"
	"math/rand/v2"
	"os"
	"slices"
	"strings"

	"github.com/labelfree/labelfree/score"
	"github.com/labelfree/labelfree/uncertainty"
)

// entry is what Select keeps of an eligible group. It holds no pointers
// (the id is in selector.ids), so that a million of them cost the garbage
// collector nothing to scan and appending them no write barriers.
type entry struct {
	s     uncertainty.Score
	key   uint64 // Random's key
	idOff int64  // the id is selector.ids[idOff:idOff+idLen]
	idLen int32
	class int32 // index into the classes, in sorted order once ranked
	loc   score.Location
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
	ids      []byte // the entries' ids, one after another
	groups   int
	excluded map[string]int
}

// id returns e's id, without copying it.
func (sel *selector) id(e *entry) []byte { return sel.ids[e.idOff : e.idOff+int64(e.idLen)] }

// Select makes the selection that s describes from the records of a score
// file with header h, read once, in any order. It keeps one small entry
// per eligible group (id, class, score, location), as the quantile pass
// needs them all, selects the kept ones in linear time and sorts those
// (see the package comment), plus each id to catch duplicates: memory
// grows with the number of groups (about 100 bytes plus twice the id's
// length each), not with the size of the score file.
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
	return sel.run(recs, checkIDs)
}

// run takes recs in and makes the selection; checkIDs as selectRecords.
func (sel *selector) run(recs iter.Seq2[*score.Record, error], checkIDs bool) (*Selection, error) {
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

// needs returns the estimators whose scores the strategy reads: its own
// and its gates'.
func (sel *selector) needs() []string {
	var need []string
	if sel.sp.estimator != "" {
		need = append(need, sel.sp.estimator)
	}
	for _, g := range sel.sp.gates {
		if !slices.Contains(need, g.Estimator) {
			need = append(need, g.Estimator)
		}
	}
	return need
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
	e := entry{class: ci, loc: r.Location}
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
	e.idOff, e.idLen = int64(len(sel.ids)), int32(len(r.ID))
	if len(sel.entries) == cap(sel.entries) {
		// Double: append grows big slices by a quarter, which copies the
		// entries about four times over in all, instead of once.
		sel.entries = slices.Grow(sel.entries, max(len(sel.entries), 1024))
		sel.ids = slices.Grow(sel.ids, max(len(sel.ids), 16<<10))
	}
	sel.ids = append(sel.ids, r.ID...)
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
	ids := sel.ids
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
		return bytes.Compare(ids[a.idOff:a.idOff+int64(a.idLen)], ids[b.idOff:b.idOff+int64(b.idLen)])
	}

	// Only the kept entries need their order: they are selected, in
	// linear time, then sorted (the order of the rest is never used).
	kept := make([]int, len(names))
	thresholds := make([]*float64, len(names))
	var counts []int
	size := 0
	if sp.perClass {
		counts = sel.classCounts(names, eligible)
		groupByClass(sel.entries, eligible)
		start := 0
		for c, k := range counts {
			es := sel.entries[start : start+eligible[c]]
			start += eligible[c]
			sortSmallest(es, k, less)
			size += k
		}
	} else {
		size = sel.overallCount()
		sortSmallest(sel.entries, size, less)
	}
	recs := make([]Record, 0, size)
	keep := func(e *entry, r int) {
		rec := Record{ID: string(sel.id(e)), Class: names[e.class], Rank: r, Location: e.loc}
		if sp.estimator != "" {
			rec.Estimator, rec.U, rec.Tie = sp.estimator, e.s.Value, e.s.Tiebreak
		}
		recs = append(recs, rec)
		kept[e.class]++
	}
	if sp.perClass {
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
		k := size
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

// groupByClass reorders es so that the entries of each class c, counts[c]
// of them, come together in class order, in linear time (American flag
// sort; the order within a class is left as it comes).
func groupByClass(es []entry, counts []int) {
	next := make([]int, len(counts)) // where class c's next entry goes
	end := make([]int, len(counts))
	off := 0
	for c, n := range counts {
		next[c] = off
		off += n
		end[c] = off
	}
	for c := range counts {
		for next[c] < end[c] {
			e := es[next[c]]
			if int(e.class) == c {
				next[c]++
				continue
			}
			d := e.class
			es[next[c]], es[next[d]] = es[next[d]], e
			next[d]++
		}
	}
}

// sortSmallest reorders s so that s[:k] holds its k smallest elements by
// cmp, in order; the order of s[k:] is unspecified. cmp must be a total
// order without ties between distinct elements (ids break them). It
// selects with quickselect (median of three pivots, falling back to
// sorting if the pivots keep being bad) and then sorts s[:k]: O(n + k log
// k) against sorting all of s.
func sortSmallest(s []entry, k int, cmp func(a, b entry) int) {
	if k <= 0 {
		return
	}
	lo, hi := 0, len(s) // s[:lo] are all below s[lo:], s[hi:] all above
	for budget := 2*bits.Len(uint(len(s))) + 4; k > lo && k < hi && hi-lo > 16; budget-- {
		if budget == 0 {
			break
		}
		// The median of the first, middle and last as the pivot, moved to
		// the end.
		m := lo + (hi-lo)/2
		a, b, c := lo, m, hi-1
		if cmp(s[b], s[a]) < 0 {
			a, b = b, a
		}
		if cmp(s[c], s[b]) < 0 {
			b, c = c, b
			if cmp(s[b], s[a]) < 0 {
				b = a
			}
		}
		s[b], s[hi-1] = s[hi-1], s[b]
		p := s[hi-1]
		i := lo
		for j := lo; j < hi-1; j++ {
			if cmp(s[j], p) < 0 {
				s[i], s[j] = s[j], s[i]
				i++
			}
		}
		s[i], s[hi-1] = s[hi-1], s[i] // the pivot, in its place
		if i < k {
			lo = i + 1
		} else {
			hi = i
		}
	}
	if lo < k && k < hi {
		slices.SortFunc(s[lo:hi], cmp) // a few left, or bad pivots
	}
	slices.SortFunc(s[:k], cmp)
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
		// The entries at or below the threshold are the first ones in
		// the ranking's order, which compares Values first.
		k := 0
		for i := range sel.entries {
			if sel.entries[i].s.Value <= *sp.threshold {
				k++
			}
		}
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
	sel, err := newSelector(&h, s)
	if err != nil {
		return nil, err
	}
	// Decode only the scores the strategy reads (every line is still
	// checked in full).
	if need := sel.needs(); len(need) > 0 {
		if err := r.Keep(need...); err != nil {
			return nil, err
		}
	}
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
	res, err := sel.run(recs, false)
	if err != nil {
		return nil, err
	}
	// Select read the file to its end: the hash covers every byte. (A
	// Reader stops at EOF, so nothing is left unread.)
	if _, err := io.Copy(sum, f); err != nil {
		return nil, fmt.Errorf("filter: read %s: %w", scores, err)
	}
	res.Header.Scores = scores
	res.Header.ScoresSHA256 = hex.EncodeToString(sum.Sum(nil))
	// The Reader refused duplicate ids: the records need no check for
	// them.
	if err := writeFile(out, res, false); err != nil {
		return nil, err
	}
	return res, nil
}
