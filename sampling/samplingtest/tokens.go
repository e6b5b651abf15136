package samplingtest

import (
	"math"
	"strings"

	"github.com/labelfree/labelfree/sampling"
)

// The end-of-generation token.
const (
	eogText = "<|im_end|>"
	eogID   = 2
)

// split cuts text into the fake model's tokens: each is a run of
// whitespace (possibly empty) followed by a tag "<…>", a lone "<" with no
// ">" after it, or a run of bytes that are neither whitespace nor "<";
// trailing whitespace is a token of its own. The pieces concatenate to
// text, and splitting a concatenation of whole pieces gives them back.
func split(text string) []string {
	var out []string
	for i := 0; i < len(text); {
		j := i
		for j < len(text) && isSpace(text[j]) {
			j++
		}
		switch {
		case j == len(text):
		case text[j] == '<':
			if k := strings.IndexByte(text[j:], '>'); k >= 0 {
				j += k + 1
			} else {
				j++ // a '<' that nothing closes
			}
		default:
			for j < len(text) && !isSpace(text[j]) && text[j] != '<' {
				j++
			}
		}
		out = append(out, text[i:j])
		i = j
	}
	return out
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// tokens returns the tokens of pieces after the prompt with hash ph. Token
// t's numbers are a function of ph and pieces[:t+1]; its id of its text.
func tokens(ph uint64, pieces []string) []sampling.Token {
	out := make([]sampling.Token, len(pieces))
	s := ph
	for i, p := range pieces {
		s = fnv(s, p)
		u := unit(mix(s))
		v := unit(mix(s ^ 0x9e3779b97f4a7c15))
		out[i] = sampling.Token{
			ID:      int32(3 + fnv(fnvOffset, p)%151000),
			Text:    p,
			LogProb: -4 * u * u * u,               // mostly confident tokens, a few doubtful ones
			Entropy: 5 * math.Sqrt(u) * (0.5 + v), // higher where the token was less likely
		}
	}
	return out
}

// FNV-1a 64's offset basis and prime.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnv continues the FNV-1a 64 hash h over s's bytes.
func fnv(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// mix is SplitMix64's finaliser.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// unit maps x to [0, 1).
func unit(x uint64) float64 { return float64(x>>11) / (1 << 53) }
