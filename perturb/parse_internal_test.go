package perturb

import (
	"strings"
	"testing"
)

// Every phrase of the table reads as its class on its own, and no longer
// phrase is shadowed by a shorter one; a single-word direction after "not"
// is denied, not asserted.
func TestPhrases(t *testing.T) {
	n := 0
	for first, ps := range phrases {
		for _, p := range ps {
			n++
			text := strings.Join(p.words, " ")
			if p.words[0] != first {
				t.Errorf("%q filed under %q", text, first)
			}
			if a := classify(text); !a.OK || a.Class != bitClass[p.bit] {
				t.Errorf("classify(%q) = %+v, want %s", text, a, bitClass[p.bit])
			}
			if len(p.words) == 1 && p.bit != bitNone {
				if a := classify("not " + text); a.OK {
					t.Errorf("classify(%q) = %+v, want not OK", "not "+text, a)
				}
			}
		}
	}
	if n < 45 {
		t.Errorf("only %d phrases", n)
	}
}
