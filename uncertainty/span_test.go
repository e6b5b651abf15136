package uncertainty

import (
	"errors"
	"testing"
)

// TestSplitReasoningMarkers checks custom markers and that the spans
// partition the trace apart from the marker tokens. Expected spans by hand.
func TestSplitReasoningMarkers(t *testing.T) {
	toks := []string{"<r>", "x", "y", "</r>", "z", "."}
	r, a, closed := SplitReasoning(toks, "<r>", "</r>")
	if r != (Span{1, 3}) || a != (Span{4, 6}) || !closed {
		t.Errorf("SplitReasoning = %v, %v, %v; want {1 3}, {4 6}, true", r, a, closed)
	}
	if r.Len() != 2 || a.Len() != 2 {
		t.Errorf("Len = %d, %d; want 2, 2", r.Len(), a.Len())
	}
	// An open marker after the close marker is not the opening one.
	r, a, _ = SplitReasoning([]string{"a", "</think>", "b", "<think>"}, "", "")
	if r != (Span{0, 1}) || a != (Span{2, 4}) {
		t.Errorf("late open marker: %v, %v; want {0 1}, {2 4}", r, a)
	}
	if r, a, closed := SplitReasoning(nil, "", ""); r != (Span{}) || a != (Span{}) || closed {
		t.Errorf("no tokens: %v, %v, %v", r, a, closed)
	}
}

func TestPartString(t *testing.T) {
	for p, want := range map[Part]string{Whole: "whole", Reasoning: "reasoning", Answer: "answer", 7: "Part(7)"} {
		if got := p.String(); got != want {
			t.Errorf("Part(%d).String() = %q, want %q", int(p), got, want)
		}
	}
}

// TestSplitReasoningIDs: the id form gives the spans the text form gives
// when every marker is one token. Spans by hand.
func TestSplitReasoningIDs(t *testing.T) {
	const open, close = 151667, 151668
	for _, c := range []struct {
		ids    []int32
		r, a   Span
		closed bool
	}{
		{[]int32{open, 5, 6, close, 7, 8}, Span{1, 3}, Span{4, 6}, true},
		{[]int32{5, 6, close, 7}, Span{0, 2}, Span{3, 4}, true},
		{[]int32{open, 5, 6}, Span{1, 3}, Span{3, 3}, false},
		{[]int32{5, close, 6, open}, Span{0, 1}, Span{2, 4}, true},
		{nil, Span{}, Span{}, false},
	} {
		r, a, closed := SplitReasoningIDs(c.ids, open, close)
		if r != c.r || a != c.a || closed != c.closed {
			t.Errorf("SplitReasoningIDs(%v) = %v, %v, %v; want %v, %v, %v", c.ids, r, a, closed, c.r, c.a, c.closed)
		}
	}
}

// TestConfigSplit: a Config.Split on ids scores the same part as the
// default split on texts, and a Split returning impossible spans is an
// error.
func TestConfigSplit(t *testing.T) {
	tr := Trace{
		LogProbs: []float64{-0.1, -1, -2, -0.2, -0.5, -0.3},
		Tokens:   []string{"<think>", "a", "b", "</think>", "up", "<|im_end|>"},
		IDs:      []int32{1, 10, 11, 2, 12, 3},
	}
	byText, _ := New("msp", &Config{Part: Answer})
	byID, _ := New("msp", &Config{Part: Answer, Split: func(t *Trace) (Span, Span, bool) { return SplitReasoningIDs(t.IDs, 1, 2) }})
	g := &Group{Greedy: tr}
	a, errA := byText.Estimate(g)
	b, errB := byID.Estimate(g)
	if errA != nil || errB != nil || a != b || a.Value != 0.8 {
		t.Errorf("answer MSP by text %+v, %v; by id %+v, %v; want 0.8", a, errA, b, errB)
	}
	bad, _ := New("msp", &Config{Part: Reasoning, Split: func(*Trace) (Span, Span, bool) { return Span{0, 9}, Span{9, 9}, true }})
	if _, err := bad.Estimate(g); !errors.Is(err, ErrInvalid) {
		t.Errorf("out-of-range spans: %v, want ErrInvalid", err)
	}
}
