package filter

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
	"unicode/utf8"

	"github.com/labelfree/labelfree/internal/jsonscan"
	"github.com/labelfree/labelfree/sampling"
)

// exportGroup is what Export reads of a trace file's group line: the id,
// the prompt, and of each trace what an exported example needs. The
// per-token arrays (most of a line's bytes) are not decoded.
type exportGroup struct {
	id     string
	prompt sampling.Prompt
	traces []exportTrace
}

// exportTrace is what Export reads of a trace: of its answer, the class
// and whether it was parsed.
type exportTrace struct {
	greedy bool
	// text is the trace's text, or, while rawText is not nil, still to be
	// decoded from rawText, a valid JSON string (quotes included) in the
	// line: most traces of a line are not exported, and decoding their
	// texts was most of the cost of decoding a line.
	text    string
	rawText []byte
	class   string
	ok      bool
	finish  sampling.FinishReason
}

// Text returns the trace's text, decoding it if need be.
func (t *exportTrace) Text() string {
	if t.rawText != nil {
		t.text = decodeString(t.rawText)
		t.rawText = nil
	}
	return t.text
}

// fromGroup returns what Export reads of a group decoded whole.
func fromGroup(g *sampling.Group) exportGroup {
	eg := exportGroup{id: g.Item.ID, prompt: g.Prompt, traces: make([]exportTrace, len(g.Traces))}
	for i := range g.Traces {
		t := &g.Traces[i]
		eg.traces[i] = exportTrace{greedy: t.Greedy, text: t.Text, class: t.Answer.Class, ok: t.Answer.OK, finish: t.Finish}
	}
	return eg
}

// The JSON form of what decodeLine reads of a line; encoding/json skips
// (after checking their syntax) the fields it does not name.
type (
	exportGroupJSON struct {
		ID   string `json:"id"`
		Item struct {
			ID string `json:"id"`
		} `json:"item"`
		Prompt sampling.Prompt   `json:"prompt"`
		Traces []exportTraceJSON `json:"traces"`
	}
	exportTraceJSON struct {
		Greedy bool                  `json:"greedy"`
		Text   string                `json:"text"`
		Answer sampling.Answer       `json:"answer"`
		Finish sampling.FinishReason `json:"finish"`
	}
)

// decodeLine decodes a group line of a trace file (without its newline)
// into g: parseLine's fast path for a line laid out as a sampling.Writer
// writes it, encoding/json otherwise. It checks what a sampling.Reader
// checks of the fields it reads: an id, the item's id equal to it, and a
// known finish reason for every trace. The per-token arrays are not
// decoded, and the fast path does not check that they hold numbers (see
// skipArray): Export decodes a line only once its CRC-32C says it is the
// line that a sampling.Reader checked when it was scored.
func decodeLine(line []byte, g *exportGroup) error {
	if !parseLine(line, g) {
		var gj exportGroupJSON
		if err := json.Unmarshal(line, &gj); err != nil {
			return err
		}
		gj.group(g)
		if gj.Item.ID != gj.ID {
			return fmt.Errorf("id %q but item id %q", gj.ID, gj.Item.ID)
		}
	}
	if g.id == "" {
		return fmt.Errorf("no id")
	}
	for i := range g.traces {
		switch f := g.traces[i].finish; f {
		case sampling.FinishEOG, sampling.FinishStop, sampling.FinishLength, sampling.FinishContext, sampling.FinishFiltered, sampling.FinishOther:
		default:
			return fmt.Errorf("group %q: trace %d: unknown finish reason %q", g.id, i, string(f))
		}
	}
	return nil
}

// group converts a decoded line.
func (gj *exportGroupJSON) group(g *exportGroup) {
	*g = exportGroup{id: gj.ID, prompt: gj.Prompt, traces: make([]exportTrace, len(gj.Traces))}
	for i, t := range gj.Traces {
		g.traces[i] = exportTrace{greedy: t.Greedy, text: t.Text, class: t.Answer.Class, ok: t.Answer.OK, finish: t.Finish}
	}
}

// parseLine decodes a group line laid out exactly as a sampling.Writer
// writes it, many times faster than encoding/json: it skips the per-token
// arrays without reading their numbers (skipArray) and leaves the traces'
// texts to be decoded when needed. It reports false, with g in any state,
// for a line laid out in any other way, even if valid: the caller then
// decodes it with encoding/json; and for a line whose item id is not its
// id, which the caller reports. Whenever it succeeds, encoding/json
// decodes the same group from the line with those arrays emptied, and
// from the line itself if it takes it (FuzzParseLine checks both).
//
// The layout, every part in brackets written only when not empty or
// false:
//
//	{"id":S,"item":{"id":S[,"label":S][,"fields":{S:S,…}]},
//	 "prompt":{["messages":[{"role":S,"content":S},…]][,"no_thinking":true][,"text":S]},
//	 "traces":[{"greedy":B,"seed":N,"text":S,"answer":{["text":S,]["class":S,]"ok":B},
//	   "finish":S[,"stop":S],"logprobs_kind":S[,"logprobs":[…]][,"entropies":[…]][,"token_ids":[…]]},…]}
func parseLine(line []byte, g *exportGroup) bool { return parseLineArrays(line, g, nil) }

// parseLineArrays is parseLine; arrays, if not nil, gets where the
// per-token arrays it skipped are in the line (for tests).
func parseLineArrays(line []byte, g *exportGroup, arrays *[][2]int) bool {
	p := lineParser{b: line, line: line, arrays: arrays}
	// A worker decodes line after line into one exportGroup: reuse its
	// slices.
	*g = exportGroup{traces: g.traces[:0], prompt: sampling.Prompt{Messages: g.prompt.Messages[:0]}}
	var itemID string
	if !p.lit(`{"id":`) || !p.str(&g.id) || !p.lit(`,"item":{"id":`) || !p.str(&itemID) || itemID != g.id {
		return false
	}
	if p.lit(`,"label":`) && !p.skipStr() {
		return false
	}
	if p.lit(`,"fields":{`) {
		for i := 0; !p.lit("}"); i++ {
			if i > 0 && !p.lit(",") {
				return false
			}
			if !p.skipStr() || !p.lit(":") || !p.skipStr() {
				return false
			}
		}
	}
	if !p.lit(`},"prompt":{`) || !p.prompt(&g.prompt) || !p.lit(`,"traces":[`) {
		return false
	}
	for i := 0; !p.lit("]"); i++ {
		if i > 0 && !p.lit(",") {
			return false
		}
		var t exportTrace
		if !p.trace(&t) {
			return false
		}
		g.traces = append(g.traces, t)
	}
	// encoding/json makes an empty array an empty slice, not nil.
	if g.traces == nil {
		g.traces = []exportTrace{}
	}
	return p.lit("}") && len(p.b) == 0
}

// lineParser consumes a line from the front.
type lineParser struct {
	b      []byte
	line   []byte    // all of it
	arrays *[][2]int // if not nil, where skipArray found arrays
}

// off returns the offset in the line of rest, a suffix of it.
func (p *lineParser) off(rest []byte) int { return len(p.line) - len(rest) }

// lit consumes s if the line starts with it.
func (p *lineParser) lit(s string) bool {
	if len(p.b) < len(s) || string(p.b[:len(s)]) != s {
		return false
	}
	p.b = p.b[len(s):]
	return true
}

// prompt consumes a sampling.Prompt's fields and closing brace.
func (p *lineParser) prompt(dst *sampling.Prompt) bool {
	first := true
	field := func(key string) bool {
		if first {
			if p.lit(key[1:]) {
				first = false
				return true
			}
			return false
		}
		return p.lit(key)
	}
	if field(`,"messages":[`) {
		for i := 0; !p.lit("]"); i++ {
			if i > 0 && !p.lit(",") {
				return false
			}
			var m sampling.Message
			if !p.lit(`{"role":`) || !p.str(&m.Role) || !p.lit(`,"content":`) || !p.str(&m.Content) || !p.lit("}") {
				return false
			}
			dst.Messages = append(dst.Messages, m)
		}
		if len(dst.Messages) == 0 {
			return false // an empty array, which a Writer leaves out
		}
	}
	if len(dst.Messages) == 0 {
		dst.Messages = nil // as encoding/json leaves a prompt without them
	}
	if field(`,"no_thinking":true`) {
		dst.NoThinking = true
	}
	if field(`,"text":`) && !p.str(&dst.Text) {
		return false
	}
	return p.lit("}")
}

// trace consumes a trace object.
func (p *lineParser) trace(t *exportTrace) bool {
	if !p.lit(`{"greedy":`) || !p.boolean(&t.greedy) || !p.lit(`,"seed":`) || !p.skipNumber() || !p.lit(`,"text":`) {
		return false
	}
	start := p.b
	if !p.skipStr() {
		return false
	}
	t.rawText = start[:len(start)-len(p.b)]
	if !p.lit(`,"answer":{`) {
		return false
	}
	if p.lit(`"text":`) && (!p.skipStr() || !p.lit(",")) {
		return false
	}
	if p.lit(`"class":`) && (!p.str(&t.class) || !p.lit(",")) {
		return false
	}
	if !p.lit(`"ok":`) || !p.boolean(&t.ok) || !p.lit(`},"finish":`) {
		return false
	}
	switch {
	case p.lit(`"eog"`):
		t.finish = sampling.FinishEOG
	case p.lit(`"length"`):
		t.finish = sampling.FinishLength
	default:
		var finish string
		if !p.str(&finish) {
			return false
		}
		t.finish = sampling.FinishReason(finish)
	}
	if p.lit(`,"stop":`) && !p.skipStr() {
		return false
	}
	if !p.lit(`,"logprobs_kind":`) || !p.skipStr() {
		return false
	}
	for _, key := range []string{`,"logprobs":`, `,"entropies":`, `,"token_ids":`} {
		if p.lit(key) && !p.skipArray() {
			return false
		}
	}
	return p.lit("}")
}

// boolean consumes true or false.
func (p *lineParser) boolean(dst *bool) bool {
	switch {
	case p.lit("true"):
		*dst = true
	case p.lit("false"):
		*dst = false
	default:
		return false
	}
	return true
}

// str consumes a JSON string into dst.
func (p *lineParser) str(dst *string) bool {
	start := p.b
	if !p.skipStr() {
		return false
	}
	*dst = decodeString(start[:len(start)-len(p.b)])
	return true
}

// decodeString decodes tok, a JSON string that skipStr accepted, as
// encoding/json does. Texts have escapes in nearly every line ("\n"): the
// one-letter ones are decoded here, \u escapes and bytes that are not
// UTF-8 (which encoding/json replaces) by encoding/json.
func decodeString(tok []byte) string {
	raw := tok[1 : len(tok)-1]
	esc := bytes.IndexByte(raw, '\\')
	if esc < 0 && utf8.Valid(raw) {
		return string(raw)
	}
	if esc < 0 || bytes.Contains(raw, []byte(`\u`)) || !utf8.Valid(raw) {
		var s string
		_ = json.Unmarshal(tok, &s) // cannot fail: skipStr checked tok
		return s
	}
	out := make([]byte, 0, len(raw))
	for {
		out = append(out, raw[:esc]...)
		switch c := raw[esc+1]; c {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		default: // '"', '\\' or '/'
			out = append(out, c)
		}
		raw = raw[esc+2:]
		if esc = bytes.IndexByte(raw, '\\'); esc < 0 {
			return string(append(out, raw...))
		}
	}
}

// skipStr consumes a JSON string, checking its syntax as encoding/json
// does: no control characters, escapes of the eight kinds JSON has. Bytes
// that are not UTF-8 are valid syntax (encoding/json replaces them when
// it decodes).
func (p *lineParser) skipStr() bool {
	b := p.b
	if len(b) == 0 || b[0] != '"' {
		return false
	}
	for i := 1; ; {
		i = specialByte(b, i)
		if i >= len(b) {
			return false
		}
		switch c := b[i]; {
		case c == '"':
			p.b = b[i+1:]
			return true
		case c < 0x20 || i+1 >= len(b):
			return false
		}
		// A backslash.
		switch b[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if i+5 >= len(b) {
				return false
			}
			for _, h := range b[i+2 : i+6] {
				if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
					return false
				}
			}
			i += 6
		default:
			return false
		}
	}
}

// specialByte returns the index of the first byte at or after i that is
// a quote, a backslash or a control character, len(b) if none, looking at
// 8 bytes at a time: texts are long, and a loop over bytes is slower.
func specialByte(b []byte, i int) int {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:])
		q := x ^ ('"' * ones)   // a zero byte where x has a quote
		bs := x ^ ('\\' * ones) // where it has a backslash
		// A byte's high bit is set in (v-ones)&^v&high where v's byte
		// is zero (and maybe in the bytes after the first such one,
		// through the borrow; only the first counts); likewise with
		// 0x20*ones for bytes below 0x20.
		m := ((q-ones)&^q | (bs-ones)&^bs | (x-0x20*ones)&^x) & high
		if m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
		i += 8
	}
	for i < len(b) && b[i] != '"' && b[i] != '\\' && b[i] >= 0x20 {
		i++
	}
	return i
}

// skipNumber consumes a JSON number.
func (p *lineParser) skipNumber() bool {
	n := jsonscan.Number(p.b)
	p.b = p.b[n:]
	return n > 0
}

// skipArray consumes a per-token array ("logprobs", "entropies",
// "token_ids") without reading its numbers: up to the first closing
// bracket, which must come before any quote, brace or opening bracket, so
// that the array holds no string or object that could hide a bracket and
// the line's structure is the one encoding/json sees. Whether the bytes
// in between are numbers is not checked: a sampling.Reader checked it
// when the line was scored, and Export decodes a line only once its
// CRC-32C says it is that line. This is most of a line's bytes, skipped
// at the speed of a search for a byte.
func (p *lineParser) skipArray() bool {
	b := p.b
	if len(b) == 0 || b[0] != '[' {
		return false
	}
	i := structByte(b, 1)
	if i >= len(b) || b[i] != ']' {
		return false
	}
	if p.arrays != nil {
		*p.arrays = append(*p.arrays, [2]int{p.off(b), p.off(b) + i + 1})
	}
	p.b = b[i+1:]
	return true
}

// structByte returns the index of the first byte at or after i that is a
// quote, a brace or a bracket, len(b) if none, looking at 8 bytes at a
// time as specialByte does.
func structByte(b []byte, i int) int {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:])
		// A zero byte in each where x has that byte (see specialByte).
		q := x ^ ('"' * ones)
		lb := x ^ ('[' * ones)
		rb := x ^ (']' * ones)
		lc := x ^ ('{' * ones)
		rc := x ^ ('}' * ones)
		m := ((q-ones)&^q | (lb-ones)&^lb | (rb-ones)&^rb | (lc-ones)&^lc | (rc-ones)&^rc) & high
		if m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
		i += 8
	}
	for i < len(b) && b[i] != '"' && b[i] != '[' && b[i] != ']' && b[i] != '{' && b[i] != '}' {
		i++
	}
	return i
}
