package perturb

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/labelfree/labelfree/sampling"
)

// Parse extracts the class from a trace's text. It looks for the answer in
// this order and stops at the first step that finds one:
//
//  1. the last <answer>…</answer> after the last </think> (the final text),
//     or an <answer> left open at its end (as when "</answer>" is a stop
//     string);
//  2. the last \boxed{…} in the final text;
//  3. the last "answer: …" or "answer is …" in the final text whose rest
//     of line (or next non-empty line) reads as a class, so that
//     "**Final answer:** Up" and "the answer is down." count;
//  4. the whole final text, if it is at most eight words ("</think> Down.");
//  5. the last <answer>…</answer> inside the reasoning, if the reasoning was
//     closed by </think>.
//
// Tags are matched without regard to case. The final text is all of text
// when it has no <think> tag; when it has an unclosed one, the trace was cut
// off while reasoning and there is no final text. Answers in the reasoning
// are ignored whenever the final text has one. What steps 1, 2 and 5 find
// is the answer even when it does not read as a class; steps 3 and 4 count
// only if it does.
//
// An answer reads as a class when, after case folding, markdown, quotes,
// LaTeX and punctuation are set aside, it asserts exactly one class by one
// of these words or phrases (a hyphen inside a word is dropped, so
// up-regulated is upregulated, and n't is not):
//
//	up:   up, upregulated, upregulation, upregulate(s), increased,
//	      increase(s), higher, elevated
//	down: down, downregulated, downregulation, downregulate(s), decreased,
//	      decrease(s), reduced, reduction, lower, lowered
//	none: none, neither, unchanged, unaffected, non-DE, not DE,
//	      non-differentially …, not (significantly) differentially …,
//	      no (significant) differential …, no (significant) change(s),
//	      not change, not (significantly) changed, not altered,
//	      not affected, no (significant) effect, no (significant)
//	      difference, not significant
//
// Other words are ignored, so "Up (increased expression)" is up. A
// direction within three words after a negation (not, no, nor, without,
// n't) is denied rather than asserted, until punctuation or "but", "rather",
// "instead": "not upregulated" denies up and asserts nothing, so it is not
// an answer (it leaves down and none open); "down, not up" is down; denying
// both directions and asserting nothing else ("not up or down", "neither
// up nor down") is none.
// Asserting two classes ("up or down", "increased, or unchanged") is not an
// answer.
//
// When nothing reads as a class, Parse returns OK false with Text the
// answer found (trimmed), or "" if none was.
func Parse(text string) sampling.Answer {
	reasoning, final, closed := splitThink(text)
	if c, ok := lastTag(final); ok {
		return classify(c)
	}
	if c, ok := lastBoxed(final); ok {
		return classify(c)
	}
	var unread string
	if a, found := labelled(final); a.OK {
		return a
	} else if found {
		unread = a.Text
	}
	if len(strings.Fields(final)) <= 8 {
		if a := classify(final); a.OK {
			return a
		}
	}
	if closed {
		if c, ok := lastTag(reasoning); ok {
			return classify(c)
		}
	}
	return sampling.Answer{Text: unread}
}

// splitThink splits text at its last </think>. closed reports whether there
// was one.
func splitThink(text string) (reasoning, final string, closed bool) {
	lower := asciiLower(text)
	if i := strings.LastIndex(lower, "</think>"); i >= 0 {
		return text[:i], text[i+len("</think>"):], true
	}
	if strings.Contains(lower, "<think>") {
		return text, "", false
	}
	return "", text, false
}

// lastTag returns the contents of the last <answer> in s, up to its
// </answer> or, if it has none, the end of s.
func lastTag(s string) (string, bool) {
	lower := asciiLower(s)
	open := strings.LastIndex(lower, "<answer>")
	if open < 0 {
		return "", false
	}
	body := s[open+len("<answer>"):]
	if end := strings.Index(asciiLower(body), "</answer>"); end >= 0 {
		body = body[:end]
	}
	return body, true
}

// lastBoxed returns the contents of the last \boxed{…} in s, braces
// balanced, or to the end of its line if they are not.
func lastBoxed(s string) (string, bool) {
	i := strings.LastIndex(s, `\boxed{`)
	if i < 0 {
		return "", false
	}
	body := s[i+len(`\boxed{`):]
	depth := 1
	for j, r := range body {
		switch r {
		case '{':
			depth++
		case '}':
			if depth--; depth == 0 {
				return body[:j], true
			}
		case '\n':
			return body[:j], true
		}
	}
	return body, true
}

// answerLabel matches "answer:" or "answer is", markdown emphasis allowed
// around the colon ("**Answer:**", "**Final answer**:").
var answerLabel = regexp.MustCompile(`(?i)\banswer[*_\s]*(?:is\b[*_\s]*[:：]?|[:：])[*_\s]*(.*)$`)

// labelled finds the last "answer: …" or "answer is …" in s whose rest
// reads as a class. found reports whether there was any such label; when
// none reads as a class, a.Text is the last one's rest.
func labelled(s string) (a sampling.Answer, found bool) {
	lines := strings.Split(s, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		m := answerLabel.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		rest := strings.TrimSpace(m[1])
		for j := i + 1; rest == "" && j < len(lines); j++ {
			rest = strings.TrimSpace(lines[j])
		}
		if rest == "" {
			continue
		}
		got := classify(rest)
		if got.OK {
			return got, true
		}
		if !found {
			a, found = got, true
		}
	}
	return a, found
}

// classify reads s as a class; see Parse.
func classify(s string) sampling.Answer {
	s = strings.TrimSpace(s)
	a := sampling.Answer{Text: s}
	if c := readClass(tokens(s)); c != "" {
		a.Class, a.OK = c, true
	}
	return a
}

// Class bits.
const (
	bitUp = 1 << iota
	bitDown
	bitNone
)

var bitClass = map[int]string{bitUp: Up, bitDown: Down, bitNone: None}

type phrase struct {
	words []string
	bit   int
}

// phrases, by first word, longest first within a word. Hyphens inside
// words are dropped by tokens, so "up-regulated" is "upregulated" and
// "non-DE" is "nonde"; "n't" is read as "not".
var phrases = func() map[string][]phrase {
	all := []struct {
		bit   int
		texts []string
	}{
		{bitUp, []string{"up", "upregulated", "upregulation", "upregulate", "upregulates",
			"increased", "increase", "increases", "higher", "elevated"}},
		{bitDown, []string{"down", "downregulated", "downregulation", "downregulate", "downregulates",
			"decreased", "decrease", "decreases", "reduced", "reduction", "lower", "lowered"}},
		{bitNone, []string{"none", "neither", "unchanged", "unaffected", "nonde", "nondifferentially",
			"no change", "no changes", "no significant change", "no significant changes",
			"not change", "not changed", "not significantly changed", "not altered", "not affected",
			"not differentially", "not significantly differentially", "not de",
			"no differential", "no significant differential", "no effect", "no significant effect",
			"no difference", "no significant difference", "not significant"}},
	}
	m := map[string][]phrase{}
	for _, g := range all {
		for _, t := range g.texts {
			w := strings.Fields(t)
			m[w[0]] = append(m[w[0]], phrase{w, g.bit})
		}
	}
	for _, ps := range m {
		// Longest first, so that "not differentially" wins over the
		// negation "not".
		for i := 1; i < len(ps); i++ {
			for j := i; j > 0 && len(ps[j].words) > len(ps[j-1].words); j-- {
				ps[j], ps[j-1] = ps[j-1], ps[j]
			}
		}
	}
	return m
}()

var negations = map[string]bool{"not": true, "no": true, "nor": true, "neither": true, "never": true, "without": true}

// contrasts end a negation's scope, as punctuation does.
var contrasts = map[string]bool{"but": true, "rather": true, "instead": true, "however": true, "yet": true, "though": true, "although": true}

// coordinators carry a negation on: "not up or down".
var coordinators = map[string]bool{"or": true, "nor": true, "and": true}

// scope is how many other words a negation reaches over.
const scope = 3

// readClass returns the one class that words assert, or "".
func readClass(words []string) string {
	var asserted, denied int
	left := 0 // words the current negation still reaches
	for i := 0; i < len(words); {
		w := words[i]
		if w == "" || contrasts[w] { // punctuation
			left = 0
			i++
			continue
		}
		if p, ok := match(words[i:]); ok {
			if left > 0 && len(p.words) == 1 {
				denied |= p.bit
			} else {
				asserted |= p.bit
			}
			if w == "neither" {
				left = scope
			}
			i += len(p.words)
			continue
		}
		switch {
		case negations[w]:
			left = scope
		case coordinators[w]:
		case left > 0:
			left--
		}
		i++
	}
	got := asserted &^ denied
	if got == 0 && denied == bitUp|bitDown {
		got = bitNone // neither up nor down
	}
	return bitClass[got] // "" unless exactly one bit is set
}

func match(words []string) (phrase, bool) {
	for _, p := range phrases[words[0]] {
		if len(p.words) <= len(words) && equalWords(p.words, words) {
			return p, true
		}
	}
	return phrase{}, false
}

func equalWords(p, words []string) bool {
	for i, w := range p {
		if words[i] != w {
			return false
		}
	}
	return true
}

// contractions of "not".
var contractions = map[string]bool{"isnt": true, "doesnt": true, "dont": true, "didnt": true, "wont": true,
	"wasnt": true, "werent": true, "arent": true, "cannot": true, "cant": true, "shouldnt": true, "wouldnt": true}

// tokens splits s into lowercase words of letters and digits, with ""
// standing for punctuation that ends a clause. A hyphen or apostrophe
// between letters is dropped ("up-regulated" → "upregulated", "isn't" →
// "isnt", read as "not"); other characters separate words.
func tokens(s string) []string {
	var out []string
	var w strings.Builder
	flush := func() {
		if w.Len() > 0 {
			t := w.String()
			if contractions[t] {
				t = "not"
			}
			out = append(out, t)
			w.Reset()
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			w.WriteRune(unicode.ToLower(r))
		case (r == '-' || r == '\'' || r == '’') && w.Len() > 0 && i+1 < len(rs) && unicode.IsLetter(rs[i+1]):
			// joined: up-regulated, isn't
		case r == '-' && w.Len() > 0:
			flush() // suspended: "up- or down-regulated"
		case strings.ContainsRune(",;.:!?()[]/|-–—", r):
			flush()
			if len(out) > 0 && out[len(out)-1] != "" {
				out = append(out, "")
			}
		default:
			flush()
		}
	}
	flush()
	return out
}

// asciiLower lowercases the ASCII letters of s only, so that byte offsets
// into the result are offsets into s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
