package perturb_test

import (
	"fmt"
	"log"

	"github.com/labelfree/labelfree/perturb"
)

func Example() {
	q := perturb.Question{Cell: perturb.K562, Pert: "AAMP", Gene: "ATP5IF1", Split: perturb.Train, Class: perturb.Up}
	item := q.Item()
	var task perturb.Task
	prompt, err := task.Prompt(item)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(item.ID, item.Label, len(prompt.Messages))

	trace := "<think>\nAAMP loss stresses the cell; ATP5IF1 rises.\n</think>\n\n<answer>Up-regulated</answer>"
	a := task.Parse(trace)
	fmt.Println(a.Class, a.OK, a.Class == item.Label)
	// Output:
	// k562/AAMP/ATP5IF1 up 2
	// up true true
}

func ExampleParse() {
	for _, trace := range []string{
		"<think>…</think>\n<answer>**Down**.</answer>",
		"<think>…</think>\nFinal answer: no significant change",
		"<think>maybe <answer>up</answer></think>\n<answer>not DE</answer>",
		"<think>…</think>\n<answer>not upregulated</answer>",
		"<think>…</think>\n<answer>up or down</answer>",
	} {
		a := perturb.Parse(trace)
		fmt.Printf("%-5v %-4q %q\n", a.OK, a.Class, a.Text)
	}
	// Output:
	// true  "down" "**Down**."
	// true  "none" "no significant change"
	// true  "none" "not DE"
	// false ""   "not upregulated"
	// false ""   "up or down"
}

func ExampleSample() {
	ids := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	fmt.Println(perturb.Sample(ids, 3, 1))
	fmt.Println(perturb.Sample(ids, 5, 1)) // contains the 3 above
	// Output:
	// [b e g]
	// [b c d e g]
}
