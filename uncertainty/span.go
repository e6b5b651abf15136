package uncertainty

import (
	"fmt"
	"slices"
	"strings"
)

// Span is the half-open token range [Start, End) of a trace.
type Span struct {
	Start, End int
}

// Len returns the number of tokens in s.
func (s Span) Len() int { return s.End - s.Start }

// Part names a span of every trace: the information-based estimators read
// that part only.
type Part int

// Parts of a trace. A reasoning trace is long and its answer short, so the
// same estimator can say different things about the two.
const (
	// Whole is every generated token (the zero value).
	Whole Part = iota
	// Reasoning is the tokens between the reasoning markers (see
	// SplitReasoning).
	Reasoning
	// Answer is the tokens after the closing reasoning marker, the
	// end-of-generation token included.
	Answer
)

// String returns "whole", "reasoning" or "answer".
func (p Part) String() string {
	switch p {
	case Whole:
		return "whole"
	case Reasoning:
		return "reasoning"
	case Answer:
		return "answer"
	}
	return fmt.Sprintf("Part(%d)", int(p))
}

// The reasoning markers of Qwen3, DeepSeek-R1 and similar models.
const (
	ThinkOpen  = "<think>"
	ThinkClose = "</think>"
)

// SplitReasoning finds the reasoning and answer spans of a trace from the
// texts of its tokens, in order. The markers are found in the concatenated
// text, so a marker split over several tokens is found too.
//
//   - reasoning starts after the first open marker that precedes the close
//     marker, or at token 0 when there is none (chat templates often put the
//     open marker in the prompt);
//   - reasoning ends with the last token that ends before the close marker;
//   - the answer starts with the first token that starts after the close
//     marker and runs to the end of the trace.
//
// Tokens that hold part of a marker belong to neither span. Without a close
// marker (for example a trace cut off by its token budget) closed is false,
// reasoning runs to the end and the answer span is empty. An empty open or
// close marker means ThinkOpen or ThinkClose.
func SplitReasoning(tokens []string, open, close string) (reasoning, answer Span, closed bool) {
	if open == "" {
		open = ThinkOpen
	}
	if close == "" {
		close = ThinkClose
	}
	var b strings.Builder
	for _, t := range tokens {
		b.WriteString(t)
	}
	text := b.String()
	n := len(tokens)

	closeAt := strings.Index(text, close)
	searchOpen := text
	if closeAt >= 0 {
		searchOpen = text[:closeAt]
	}
	start := 0
	if i := strings.Index(searchOpen, open); i >= 0 {
		start = firstStartingAt(tokens, i+len(open))
	}
	if closeAt < 0 {
		return Span{start, n}, Span{n, n}, false
	}
	end := start
	off := offsetOf(tokens, start)
	for end < n && off+len(tokens[end]) <= closeAt {
		off += len(tokens[end])
		end++
	}
	a := firstStartingAt(tokens, closeAt+len(close))
	return Span{start, end}, Span{a, n}, true
}

// SplitReasoningIDs is SplitReasoning for traces that carry token ids but no
// token texts (a trace file, say), when each marker is a single token, as
// <think> and </think> are in Qwen3's vocabulary (ids 151667 and 151668).
// The spans follow the same rules: reasoning after the first open id that
// precedes the first close id (or from 0), the answer after the close id.
func SplitReasoningIDs(ids []int32, open, close int32) (reasoning, answer Span, closed bool) {
	n := len(ids)
	end := slices.Index(ids, close)
	start := 0
	before := ids
	if end >= 0 {
		before = ids[:end]
	}
	if i := slices.Index(before, open); i >= 0 {
		start = i + 1
	}
	if end < 0 {
		return Span{start, n}, Span{n, n}, false
	}
	return Span{start, end}, Span{end + 1, n}, true
}

// firstStartingAt returns the index of the first token that starts at byte
// offset at or later, or len(tokens).
func firstStartingAt(tokens []string, at int) int {
	off := 0
	for i, t := range tokens {
		if off >= at {
			return i
		}
		off += len(t)
	}
	return len(tokens)
}

// offsetOf returns the byte offset at which token i starts.
func offsetOf(tokens []string, i int) int {
	off := 0
	for _, t := range tokens[:i] {
		off += len(t)
	}
	return off
}
