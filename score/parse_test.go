package score

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/uncertainty"
)

// viaJSON decodes line the slow way.
func viaJSON(line []byte) (*Record, error) {
	var rj recordJSON
	if err := json.Unmarshal(line, &rj); err != nil {
		return nil, err
	}
	rec := new(Record)
	return rec, rj.record(rec)
}

// randomString draws strings with what JSON must escape or encode:
// quotes, backslashes, control characters, HTML characters, non-ASCII.
func randomString(rng *rand.Rand) string {
	parts := []string{"up", "down", "a\"b", `c\d`, "\n", "\t", "\x01", "<think>", "&", "é", "日本", "\u2028", "🙂", " ", "x"}
	var b strings.Builder
	for range rng.IntN(5) {
		b.WriteString(parts[rng.IntN(len(parts))])
	}
	return b.String()
}

func randomFloat(rng *rand.Rand) float64 {
	switch rng.IntN(6) {
	case 0:
		return 0
	case 1:
		return math.MaxFloat64 * (2*rng.Float64() - 1)
	case 2:
		return math.SmallestNonzeroFloat64 * float64(rng.IntN(100))
	case 3:
		return float64(rng.IntN(1000)) / 8
	case 4:
		return -rng.ExpFloat64() * 1e-9
	}
	return rng.NormFloat64() * 1e6
}

// TestParseRecordRoundTrip: every line a Writer writes takes the fast
// path and reads back as written, and as encoding/json reads it.
func TestParseRecordRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		names := []string{randomString(rng) + "a", randomString(rng) + "b", "c"}
		h := Header{Estimators: names}
		rec := Record{ID: randomString(rng) + "id", Label: randomString(rng)}
		if rng.IntN(3) > 0 {
			rec.Class, rec.OK = randomString(rng)+"k", true
		}
		for _, n := range names {
			if rng.IntN(4) == 0 {
				if rec.Errors == nil {
					rec.Errors = map[string]string{}
				}
				rec.Errors[n] = randomString(rng) + "e"
				continue
			}
			if rec.Scores == nil {
				rec.Scores = map[string]uncertainty.Score{}
			}
			rec.Scores[n] = uncertainty.Score{Value: randomFloat(rng), Tiebreak: randomFloat(rng)}
		}
		if rng.IntN(2) == 0 {
			rec.Location = Location{Offset: 1 + rng.Int64N(math.MaxInt64), Len: 1 + rng.IntN(math.MaxInt), CRC32C: rng.Uint32()}
		}
		var buf bytes.Buffer
		w, err := NewWriter(&buf, &h)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(&rec); err != nil {
			t.Fatal(err)
		}
		_, line, _ := strings.Cut(buf.String(), "\n")
		line = strings.TrimSuffix(line, "\n")
		var fast Record
		if !newDecoder(names, nil).parse([]byte(line), &fast) {
			t.Fatalf("fast path refused %s", line)
		}
		slow, err := viaJSON([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&fast, slow) || !reflect.DeepEqual(fast, rec) {
			t.Fatalf("%s\nfast %+v\njson %+v\nwrote %+v", line, fast, *slow, rec)
		}
	}
}

// FuzzParseRecord checks that whenever the fast path (decoder.parse)
// accepts a line, encoding/json accepts it too and decodes the same
// record.
func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{
		`{"id":"q1","class":"up","ok":true,"label":"down","scores":{"cocoa-ppl":{"u":0.1,"tie":0.3333333333333333},"msp":{"u":-0,"tie":1e-300}}}`,
		`{"id":"q<2>&","class":"","ok":false,"scores":{},"errors":{"self-consistency":"uncertainty: no \"answer\"\n"}}`,
		`{"id":"\u00e9\ud800","class":"x","ok":true,"scores":{"a":{"u":1E+2,"tie":-0.5e-3}},"errors":{}}`,
		`{"id":"a","class":"b","ok":true,"scores":{"a":{"u":01,"tie":0}}}`,
		`{"id":"a","class":"b","ok":true,"scores":{"a":{"u":1e999,"tie":0}}}`,
		`{"id":"q1","class":"up","ok":true,"scores":{"msp":{"u":1,"tie":0}},"location":{"offset":1234,"len":56,"crc32c":4294967295}}`,
		`{"id":"q1","class":"up","ok":true,"scores":{"msp":{"u":1,"tie":0}},"location":{"offset":0,"len":0,"crc32c":0}}`,
		`{"id":"q1","class":"up","ok":true,"scores":{"msp":{"u":1,"tie":0}},"location":{"offset":9223372036854775808,"len":1,"crc32c":4294967296}}`,
		`{"id":"q1","class":"up","ok":true,"scores":{"m\u0073p":{"u":1,"tie":0}},"location":{"offset":01,"len":1,"crc32c":1}}`,
		`{"id":"q1","class":"up","ok":true,"scores":{"cocoa-ppl":{"u":1e308,"tie":-0.5},"msp":{"u":1,"tie":0}},"errors":{"a":"x"}}`,
		`{"id":"q1","class":"up","ok":true,"scores":{"cocoa-ppl":{"u":1e309,"tie":0},"msp":{"u":1,"tie":0},"a":{"u":10e307,"tie":0}}}`,
		`{"id":"q1","class":"up","ok":true,"scores":{"cocoa-ppl":{"u":1,"tie":0},"msp":{"u":1,"tie":0}},"errors":{"a":"","cocoa-ppl":"y"}}`,
	} {
		f.Add([]byte(s))
	}
	// One decoder for every input, as a Reader has one for every line:
	// what it interned from one line must not leak into another's record.
	names := []string{"cocoa-ppl", "msp", "a"}
	d := newDecoder(names, nil)
	kept := newDecoder(names, []bool{false, true, false})
	f.Fuzz(func(t *testing.T, line []byte) {
		// Keeping msp only: whenever the line is good that way, it is good
		// read in full, and the same but for the estimators left out.
		var k Record
		if kept.parse(line, &k) && k.check(kept.kept) == nil {
			full, err := viaJSON(line)
			if err != nil {
				t.Fatalf("fast path keeping msp accepted %q, encoding/json: %v", line, err)
			}
			if err := full.check(names); err != nil {
				t.Fatalf("fast path keeping msp accepted %q, Record.check: %v", line, err)
			}
			for _, n := range []string{"cocoa-ppl", "a"} {
				delete(full.Scores, n)
				delete(full.Errors, n)
			}
			if len(full.Scores) == 0 {
				full.Scores = nil
			}
			if len(full.Errors) == 0 {
				full.Errors = nil
			}
			if !reflect.DeepEqual(&k, full) {
				t.Fatalf("%q\nkept %+v\njson %+v", line, k, *full)
			}
		}
		var fast Record
		if !d.parse(line, &fast) {
			return
		}
		slow, err := viaJSON(line)
		if err != nil {
			t.Fatalf("fast path accepted %q, encoding/json: %v", line, err)
		}
		if !reflect.DeepEqual(&fast, slow) {
			t.Fatalf("%q\nfast %+v\njson %+v", line, fast, *slow)
		}
	})
}
