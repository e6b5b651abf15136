package score

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/labelfree/labelfree/uncertainty"
)

// parseRecord decodes a record line laid out exactly as a Writer writes
// it, about five times faster than encoding/json. It reports false, with
// rec in any state, for a line laid out in any other way, even if valid:
// the caller then decodes it with encoding/json, whose result parseRecord
// always equals when it succeeds (FuzzParseRecord checks this).
func parseRecord(line []byte, rec *Record) bool {
	p := parser{b: line}
	*rec = Record{}
	if !p.lit(`{"id":`) || !p.str(&rec.ID) || !p.lit(`,"class":`) || !p.str(&rec.Class) || !p.lit(`,"ok":`) {
		return false
	}
	switch {
	case p.lit("true"):
		rec.OK = true
	case p.lit("false"):
	default:
		return false
	}
	if p.lit(`,"label":`) && !p.str(&rec.Label) {
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
		if !p.str(&name) || !p.lit(`:{"u":`) || !p.num(&s.Value) || !p.lit(`,"tie":`) || !p.num(&s.Tiebreak) || !p.lit("}") {
			return false
		}
		if rec.Scores == nil {
			rec.Scores = make(map[string]uncertainty.Score, 8)
		}
		rec.Scores[name] = s
	}
	if p.lit(`,"errors":{`) {
		for i := 0; !p.lit("}"); i++ {
			if i > 0 && !p.lit(",") {
				return false
			}
			var name, msg string
			if !p.str(&name) || !p.lit(":") || !p.str(&msg) {
				return false
			}
			if rec.Errors == nil {
				rec.Errors = make(map[string]string, 2)
			}
			rec.Errors[name] = msg
		}
	}
	return p.lit("}") && len(p.b) == 0
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

// str consumes a JSON string. A string with escapes goes through
// encoding/json; one with control characters or bytes that are not UTF-8
// is refused (encoding/json rejects the first and replaces the second).
func (p *parser) str(dst *string) bool {
	if len(p.b) == 0 || p.b[0] != '"' {
		return false
	}
	escaped := false
	for i := 1; i < len(p.b); i++ {
		switch c := p.b[i]; {
		case c < 0x20:
			return false
		case c == '\\':
			escaped = true
			i++
		case c == '"':
			tok := p.b[:i+1]
			if escaped {
				if json.Unmarshal(tok, dst) != nil {
					return false
				}
			} else {
				if !utf8.Valid(tok) {
					return false
				}
				*dst = string(tok[1:i])
			}
			p.b = p.b[i+1:]
			return true
		}
	}
	return false
}

// num consumes a JSON number that a float64 holds.
func (p *parser) num(dst *float64) bool {
	n := jsonNumber(p.b)
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

// jsonNumber returns the length of the JSON number b starts with, 0 if
// none: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func jsonNumber(b []byte) int {
	i := 0
	digits := func() int {
		j := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return 0
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return 0
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0
		}
	}
	return i
}

// decodeRecord decodes a record line: parseRecord, or encoding/json for a
// line laid out otherwise.
func (r *Reader) decodeRecord(line []byte) (*Record, error) {
	rec := new(Record)
	if parseRecord(line, rec) {
		return rec, nil
	}
	var rj recordJSON
	if err := r.unmarshal(line, &rj); err != nil {
		return nil, err
	}
	if err := rj.record(rec); err != nil {
		return nil, r.errorf("%w", err)
	}
	return rec, nil
}

// record converts a decoded line. Empty maps become nil, as parseRecord
// leaves them.
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
	return nil
}
