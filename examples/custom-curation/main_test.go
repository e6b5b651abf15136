package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/uncertainty"
)

// Example_curation prints what the gate and the per-class ranking kept.
// Each class keeps ⌈0.5·n⌉ of the groups that passed the gate; groups whose
// samples all agree with r0 have CoCoA 0 and rank first.
func Example_curation() {
	dir, err := os.MkdirTemp("", "custom-curation-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	if err := run(context.Background(), os.Stdout, dir); err != nil {
		fmt.Println(err)
	}
	// Output:
	// FAKE MODEL (samplingtest.Fake: its answers mean nothing): 24 questions, K = 6
	// gate answer-spread <= 1, then per class the least uncertain 0.5 by cocoa-ppl under numeric closeness
	//
	//   r0 answer  groups  passed gate  kept  cocoa-ppl cut
	//           0       6            5     3          0.207
	//           1       2            2     1          0.000
	//           2       2            2     1          0.000
	//           3       8            6     3          0.174
	//           4       5            2     1          0.000
	//
	// kept 9 of 24 groups; excluded: 6 by the gate, 1 unparsable r0, 0 not scored
	//   committee/t      r0 0  cocoa-ppl 0.000  rank 1 in its class
	//   bookkeeper/e     r0 0  cocoa-ppl 0.099  rank 2 in its class
	//   banana/a         r0 0  cocoa-ppl 0.207  rank 3 in its class
	//   rhythm/a         r0 1  cocoa-ppl 0.000  rank 1 in its class
	//   assessment/s     r0 2  cocoa-ppl 0.000  rank 1 in its class
	//   referee/e        r0 3  cocoa-ppl 0.128  rank 1 in its class
	//   committee/m      r0 3  cocoa-ppl 0.172  rank 2 in its class
	//   bubble/b         r0 3  cocoa-ppl 0.174  rank 3 in its class
	//   tomorrow/o       r0 4  cocoa-ppl 0.000  rank 1 in its class
	// exported 55 traces of the kept groups (r0 and the samples that agree with it) to train.jsonl
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		text string
		want sampling.Answer
	}{
		{"<think>s, t, r, a, w, b, e, r, r, y</think>\n<answer>3</answer>", sampling.Answer{Text: "3", Class: "3", OK: true}},
		{"<answer>2</answer> no, <answer> 03 </answer>", sampling.Answer{Text: "03", Class: "3", OK: true}},
		{"<answer>three</answer>", sampling.Answer{Text: "three"}},
		{"<answer>-1</answer>", sampling.Answer{Text: "-1"}},
		{"<answer>3", sampling.Answer{}},
		{"3", sampling.Answer{}},
	} {
		if got := (countTask{}).Parse(tc.text); got != tc.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.text, got, tc.want)
		}
	}
}

func TestCloseness(t *testing.T) {
	tr := func(a string) *uncertainty.Trace { return &uncertainty.Trace{Answer: a, OK: a != ""} }
	for _, tc := range []struct {
		a, b string
		want float64
	}{
		{"3", "3", 1}, {"3", "4", 0.5}, {"4", "3", 0.5}, {"0", "4", 0.2}, {"3", "", 0}, {"", "", 0},
	} {
		got, err := closeness{}.Similarity(tr(tc.a), tr(tc.b))
		if err != nil || got != tc.want {
			t.Errorf("closeness(%q, %q) = %v, %v; want %v", tc.a, tc.b, got, err, tc.want)
		}
	}
	if _, err := (closeness{}).Similarity(tr("3"), tr("x")); !errors.Is(err, uncertainty.ErrInvalid) {
		t.Errorf("closeness of a non-number: error %v, want ErrInvalid", err)
	}
}

func TestAnswerSpread(t *testing.T) {
	tr := func(a string) uncertainty.Trace { return uncertainty.Trace{Answer: a, OK: a != ""} }
	e, err := uncertainty.New("answer-spread", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		g       uncertainty.Group
		want    float64
		wantErr error
	}{
		{"agree", uncertainty.Group{Greedy: tr("3"), Samples: []uncertainty.Trace{tr("3"), tr("3")}}, 0, nil},
		{"spread", uncertainty.Group{Greedy: tr("3"), Samples: []uncertainty.Trace{tr("1"), tr("4"), tr("")}}, 1.5, nil},
		{"no r0", uncertainty.Group{Greedy: tr(""), Samples: []uncertainty.Trace{tr("3")}}, 0, uncertainty.ErrNoAnswer},
		{"no parsed sample", uncertainty.Group{Greedy: tr("3"), Samples: []uncertainty.Trace{tr("")}}, 0, uncertainty.ErrNoAnswer},
		{"K = 0", uncertainty.Group{Greedy: tr("3")}, 0, uncertainty.ErrNoSamples},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := e.Estimate(&tc.g)
			if !errors.Is(err, tc.wantErr) || s.Value != tc.want {
				t.Errorf("answer-spread = %v, %v; want %v, %v", s.Value, err, tc.want, tc.wantErr)
			}
		})
	}
}
