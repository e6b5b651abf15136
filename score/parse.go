package score

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/labelfree/labelfree/internal/jsonscan"
	"github.com/labelfree/labelfree/uncertainty"
)

// decoder decodes record lines. It hands out the header's estimator names
// and one copy of each class and label string instead of a new string
// per record: a score file repeats them on every line, and allocating
// them was most of the cost of reading one.
type decoder struct {
	names []string          // the header's estimators, in order
	strs  map[string]string // classes and labels seen, up to maxInterned
	// keep, if not nil, says which of names the records carry (see
	// Reader.Keep), kept lists them, and seen is parse's record of the
	// estimators a line has.
	keep []bool
	kept []string
	seen uint64
}

// maxInterned bounds decoder.strs: a free-text task may have as many
// classes as groups, which interning would only keep alive.
const maxInterned = 1024

// newDecoder returns a decoder for a header's estimators; keep, if not
// nil, says which of them records carry.
func newDecoder(names []string, keep []bool) *decoder {
	d := &decoder{names: names, strs: make(map[string]string)}
	if keep != nil {
		d.keep = keep
		for i, n := range names {
			if keep[i] {
				d.kept = append(d.kept, n)
			}
		}
	}
	return d
}

// parse decodes a record line laid out exactly as a Writer writes it,
// about five times faster than encoding/json. It reports false, with rec
// in any state, for a line laid out in any other way, even if valid: the
// caller then decodes it with encoding/json, whose result parse always
// equals when it succeeds (FuzzParseRecord checks this).
//
// With d.keep, the estimators not kept are checked here, not decoded:
// parse succeeds only if every estimator of the header is on the line
// once, in its scores or its errors, an error is not empty and a number
// not too big for a float64 by its exponent alone; anything else, the
// caller's encoding/json path decodes and Record.check explains.
func (d *decoder) parse(line []byte, rec *Record) bool {
	p := parser{b: line}
	*rec = Record{}
	d.seen = 0
	if d.keep != nil && len(d.names) > 64 {
		return false // more than seen can count
	}
	if !p.lit(`{"id":`) || !p.str(&rec.ID) || !p.lit(`,"class":`) || !d.interned(&p, &rec.Class) || !p.lit(`,"ok":`) {
		return false
	}
	switch {
	case p.lit("true"):
		rec.OK = true
	case p.lit("false"):
	default:
		return false
	}
	if p.lit(`,"label":`) && !d.interned(&p, &rec.Label) {
		return false
	}
	if !p.lit(`,"scores":{`) {
		return false
	}
	for i := 0; !p.lit("}"); i++ {
		if i > 0 && !p.lit(",") {
			return false
		}
		var name string
		var s uncertainty.Score
		k, ok := d.name(&p, i, &name)
		if !ok || !p.lit(`:{"u":`) || !d.mark(k) {
			return false
		}
		if d.keep != nil && !d.keep[k] {
			if !p.finite() || !p.lit(`,"tie":`) || !p.finite() || !p.lit("}") {
				return false
			}
			continue
		}
		if !p.num(&s.Value) || !p.lit(`,"tie":`) || !p.num(&s.Tiebreak) || !p.lit("}") {
			return false
		}
		if rec.Scores == nil {
			rec.Scores = make(map[string]uncertainty.Score, len(d.names))
		}
		rec.Scores[name] = s
	}
	if p.lit(`,"errors":{`) {
		for i := 0; !p.lit("}"); i++ {
			if i > 0 && !p.lit(",") {
				return false
			}
			var name, msg string
			k, ok := d.name(&p, -1, &name)
			if !ok || !p.lit(":") || !d.mark(k) {
				return false
			}
			if d.keep != nil && !d.keep[k] {
				if tok, _, ok := p.rawStr(); !ok || len(tok) == 2 {
					return false
				}
				continue
			}
			if !p.str(&msg) {
				return false
			}
			if rec.Errors == nil {
				rec.Errors = make(map[string]string, 2)
			}
			rec.Errors[name] = msg
		}
	}
	if p.lit(`,"location":{"offset":`) {
		off, ok1 := p.uint(63)
		if !ok1 || !p.lit(`,"len":`) {
			return false
		}
		n, ok2 := p.uint(strconv.IntSize - 1)
		if !ok2 || !p.lit(`,"crc32c":`) {
			return false
		}
		crc, ok3 := p.uint(32)
		if !ok3 || !p.lit("}") || off < 1 || n < 1 {
			return false // a bad location: encoding/json's path says what is wrong
		}
		rec.Location = Location{Offset: int64(off), Len: int(n), CRC32C: uint32(crc)}
	}
	if d.keep != nil && d.seen != 1<<len(d.names)-1 {
		return false // an estimator missing
	}
	return p.lit("}") && len(p.b) == 0
}

// mark records that the line has the estimator of index k, and reports
// whether that is new and k a header's estimator. Without d.keep it
// checks nothing: Record.check does.
func (d *decoder) mark(k int) bool {
	if d.keep == nil {
		return true
	}
	if k < 0 || d.seen&(1<<k) != 0 {
		return false
	}
	d.seen |= 1 << k
	return true
}

// finite consumes a JSON number that a float64 holds finitely by its
// digits and exponent alone (below 10^308): it need not be parsed to know.
// It reports false for a bigger number, which must be parsed.
func (p *parser) finite() bool {
	n := jsonscan.Number(p.b)
	if n == 0 {
		return false
	}
	num := p.b[:n]
	if num[0] == '-' {
		num = num[1:]
	}
	intDigits := 0
	for intDigits < len(num) && '0' <= num[intDigits] && num[intDigits] <= '9' {
		intDigits++
	}
	exp := 0
	if e := bytes.IndexAny(num, "eE"); e >= 0 {
		x, err := strconv.Atoi(string(num[e+1:]))
		if err != nil || x > 308 {
			return false // and -1e-400 is fine, but rare enough to parse
		}
		exp = x
	}
	if intDigits+exp > 308 {
		return false
	}
	p.b = p.b[n:]
	return true
}

// parser consumes a line from the front.
type parser struct{ b []byte }

// lit consumes s if the line starts with it.
func (p *parser) lit(s string) bool {
	if len(p.b) < len(s) || string(p.b[:len(s)]) != s {
		return false
	}
	p.b = p.b[len(s):]
	return true
}

// str consumes a JSON string into dst.
func (p *parser) str(dst *string) bool {
	tok, escaped, ok := p.rawStr()
	switch {
	case !ok:
		return false
	case escaped:
		return unquote(tok, dst)
	}
	*dst = string(tok[1 : len(tok)-1])
	return true
}

// unquote decodes the JSON string tok into dst with encoding/json. Only
// its own variable goes to the heap (through json.Unmarshal's any), not
// dst: callers pass fields and locals that would otherwise escape.
func unquote(tok []byte, dst *string) bool {
	var s string
	if json.Unmarshal(tok, &s) != nil {
		return false
	}
	*dst = s
	return true
}

// rawStr consumes a JSON string and returns it quotes included, and
// whether it has escapes, which the caller decodes with encoding/json. A
// string with control characters or bytes that are not UTF-8 is refused
// (encoding/json rejects the first and replaces the second).
func (p *parser) rawStr() (tok []byte, escaped, ok bool) {
	if len(p.b) == 0 || p.b[0] != '"' {
		return nil, false, false
	}
	for i := 1; i < len(p.b); i++ {
		switch c := p.b[i]; {
		case c < 0x20:
			return nil, false, false
		case c == '\\':
			escaped = true
			i++
		case c == '"':
			tok = p.b[:i+1]
			if !escaped && !utf8.Valid(tok) {
				return nil, false, false
			}
			p.b = p.b[i+1:]
			return tok, escaped, true
		}
	}
	return nil, false, false
}

// name consumes an estimator's name, handing out the header's string for
// a name the header lists, and returns its index among the header's
// names, -1 for a name the header does not list (Record.check refuses
// it); i is where a Writer puts it, -1 if unknown.
func (d *decoder) name(p *parser, i int, dst *string) (k int, ok bool) {
	tok, escaped, ok := p.rawStr()
	if !ok {
		return -1, false
	}
	raw := tok[1 : len(tok)-1]
	if escaped {
		var s string
		if !unquote(tok, &s) {
			return -1, false
		}
		raw = []byte(s)
	}
	if i >= 0 && i < len(d.names) && string(raw) == d.names[i] { // no allocation
		*dst = d.names[i]
		return i, true
	}
	for k, n := range d.names {
		if string(raw) == n {
			*dst = n
			return k, true
		}
	}
	*dst = string(raw)
	return -1, true
}

// interned consumes a string, handing out one copy per distinct value
// while there are few.
func (d *decoder) interned(p *parser, dst *string) bool {
	tok, escaped, ok := p.rawStr()
	if !ok {
		return false
	}
	raw := tok[1 : len(tok)-1]
	if escaped {
		var s string
		if !unquote(tok, &s) {
			return false
		}
		raw = []byte(s)
	}
	if v, ok := d.strs[string(raw)]; ok { // no allocation
		*dst = v
		return true
	}
	s := string(raw)
	if len(d.strs) < maxInterned {
		d.strs[s] = s
	}
	*dst = s
	return true
}

// uint consumes a JSON number without sign, fraction or exponent that is
// below 1<<bits.
func (p *parser) uint(bits int) (uint64, bool) {
	n := 0
	for n < len(p.b) && '0' <= p.b[n] && p.b[n] <= '9' {
		n++
	}
	if n == 0 || n > 1 && p.b[0] == '0' {
		return 0, false
	}
	x, err := strconv.ParseUint(string(p.b[:n]), 10, bits)
	if err != nil {
		return 0, false
	}
	p.b = p.b[n:]
	return x, true
}

// num consumes a JSON number that a float64 holds.
func (p *parser) num(dst *float64) bool {
	n := jsonscan.Number(p.b)
	if n == 0 {
		return false
	}
	x, err := strconv.ParseFloat(string(p.b[:n]), 64)
	if err != nil {
		return false
	}
	*dst = x
	p.b = p.b[n:]
	return true
}

// record decodes and checks line number n of the file name, a record,
// into rec: with parse, or with encoding/json for a line laid out
// otherwise. It checks everything but that the id is new.
//
// With d.keep, the record carries the kept estimators only.
func (d *decoder) record(rec *Record, name string, n int, line []byte) error {
	if d.parse(line, rec) {
		names := d.names
		if d.keep != nil {
			names = d.kept // parse checked the others
		}
		if err := rec.check(names); err != nil {
			return &LineError{File: name, Line: n, Err: err}
		}
		return nil
	}
	var rj recordJSON
	if err := unmarshalLine(name, n, line, &rj); err != nil {
		return err
	}
	if err := rj.record(rec); err != nil {
		return &LineError{File: name, Line: n, Err: err}
	}
	if err := rec.check(d.names); err != nil {
		return &LineError{File: name, Line: n, Err: err}
	}
	if d.keep != nil {
		for i, e := range d.names {
			if !d.keep[i] {
				delete(rec.Scores, e)
				delete(rec.Errors, e)
			}
		}
		if len(rec.Scores) == 0 {
			rec.Scores = nil
		}
		if len(rec.Errors) == 0 {
			rec.Errors = nil
		}
	}
	return nil
}

// record converts a decoded line. Empty maps become nil, as
// decoder.parse leaves them.
func (rj *recordJSON) record(rec *Record) error {
	*rec = Record{ID: rj.ID, Class: rj.Class, OK: rj.OK, Label: rj.Label}
	if len(rj.Errors) > 0 {
		rec.Errors = rj.Errors
	}
	if len(rj.Scores) > 0 {
		rec.Scores = make(map[string]uncertainty.Score, len(rj.Scores))
	}
	for name, s := range rj.Scores {
		if s.U == nil {
			return fmt.Errorf("group %q: estimator %q: no \"u\"", rj.ID, name)
		}
		sc := uncertainty.Score{Value: *s.U}
		if s.Tie != nil {
			sc.Tiebreak = *s.Tie
		}
		rec.Scores[name] = sc
	}
	if l := rj.Location; l != nil {
		switch {
		case l.Offset == nil:
			return fmt.Errorf("group %q: location without \"offset\"", rj.ID)
		case l.Len == nil:
			return fmt.Errorf("group %q: location without \"len\"", rj.ID)
		case l.CRC32C == nil:
			return fmt.Errorf("group %q: location without \"crc32c\"", rj.ID)
		}
		rec.Location = Location{Offset: *l.Offset, Len: *l.Len, CRC32C: *l.CRC32C}
		// Written out, even the zero Location is wrong: a line's offset and
		// length are positive.
		if err := rec.Location.check(true); err != nil {
			return fmt.Errorf("group %q: %w", rj.ID, err)
		}
	}
	return nil
}
