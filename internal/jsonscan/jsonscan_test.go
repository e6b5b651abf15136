package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestNumber(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
	}{
		{"0", 1}, {"-0", 2}, {"12,", 2}, {"1.5e-3}", 6}, {"-2E+10]", 6}, {"0.25", 4},
		{"01", 1}, // a leading zero ends the number
		{"", 0}, {"-", 0}, {"+1", 0}, {".5", 0}, {"1.", 0}, {"1e", 0}, {"1e+", 0}, {"NaN", 0}, {"x1", 0},
	} {
		if got := Number([]byte(tt.in)); got != tt.want {
			t.Errorf("Number(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// isNumber reports whether encoding/json reads s, without white space
// around it, as a JSON number: a valid JSON value that starts as only a
// number does.
func isNumber(s string) bool {
	return s != "" && strings.TrimSpace(s) == s && (s[0] == '-' || '0' <= s[0] && s[0] <= '9') && json.Valid([]byte(s))
}

// FuzzNumber checks Number against encoding/json: the prefix it accepts is
// a JSON number, and a whole input that is one is accepted whole.
func FuzzNumber(f *testing.F) {
	for _, s := range []string{"0", "-1.5e3", "01", "1e", "12ab", "1e999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Number([]byte(s))
		if n > 0 && !isNumber(s[:n]) {
			t.Errorf("Number(%q) = %d, but %q is not a JSON number", s, n, s[:n])
		}
		if isNumber(s) && n != len(s) {
			t.Errorf("Number(%q) = %d, want %d", s, n, len(s))
		}
	})
}
