package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

// Example_traces prints the ranking of the example's traces.json. The
// greedy answer "Canberra" agrees with the sample "canberra." (answers are
// normalised) and not with "Sydney": one disagreeing sample of four.
func Example_traces() {
	if err := run(os.Stdout, bytes.NewReader(exampleTraces)); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 5 questions, r0 and up to 4 samples each, least uncertain first (by cocoa-ppl):
	//
	//   rank           question  r0 answer    MSP    PPL    MTE  disagree  CoCoA-PPL
	//      1         mars-moons          2  0.241  1.019  0.036     0.000      0.000
	//      2  australia-capital   Canberra  0.856  1.063  0.095     0.250      0.015
	//      3   master-margarita   Bulgakov  1.478  1.111  0.205     0.250      0.026
	//      4         hansa-diet       1669  3.289  1.288    n/a     0.500      0.126
	//      5    everest-boiling         70  5.489  1.335  0.543     0.750      0.217
	//
	// n/a: the traces have no entropies, which MTE needs.
}

// TestBadInput checks that malformed traces are an error, not a score.
func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, json, want string
	}{
		{"empty", `{"questions": []}`, "no questions"},
		{"lengths", `{"questions": [{"id": "q", "greedy": {"answer": "a", "tokens": ["a"], "logprobs": [-1, -2]}, "samples": []}]}`,
			`question "q", greedy trace: 1 tokens but 2 log-probabilities`},
		{"no tokens", `{"questions": [{"id": "q", "greedy": {"answer": "a"}, "samples": [{"answer": "a", "tokens": ["a"], "logprobs": [-1]}]}]}`,
			`question "q": msp: uncertainty: empty input`},
		{"no samples", `{"questions": [{"id": "q", "greedy": {"answer": "a", "tokens": ["a"], "logprobs": [-1]}}]}`,
			`question "q": self-consistency: uncertainty: not enough samples`},
		{"unknown field", `{"questions": [], "extra": 1}`, `unknown field "extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(&out, strings.NewReader(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
