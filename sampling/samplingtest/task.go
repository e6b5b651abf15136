package samplingtest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/labelfree/labelfree/sampling"
)

// Task returns a sampling.Task for f's classes: its prompt is a chat that
// names the item's id and fields, and Parse reads the last
// <answer>…</answer> of a trace (case and surrounding space ignored) as
// one of the classes; anything else is unparsable. It is safe for
// concurrent use.
func (f *Fake) Task() sampling.Task {
	return task{classes: slices.Clone(f.classes())}
}

type task struct{ classes []string }

func (t task) Prompt(it sampling.Item) (sampling.Prompt, error) {
	if it.ID == "" {
		return sampling.Prompt{}, errors.New("samplingtest: item without id")
	}
	var b strings.Builder
	b.WriteString("Question " + it.ID + ".")
	keys := make([]string, 0, len(it.Fields))
	for k := range it.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", k, it.Fields[k])
	}
	system := "Reason inside <think></think>, then answer with one of " +
		strings.Join(t.classes, ", ") + " inside <answer></answer>."
	return sampling.Chat(system, b.String()), nil
}

func (t task) Parse(text string) sampling.Answer {
	i := strings.LastIndex(text, "<answer>")
	if i < 0 {
		return sampling.Answer{}
	}
	rest := text[i+len("<answer>"):]
	j := strings.Index(rest, "</answer>")
	if j < 0 {
		return sampling.Answer{}
	}
	s := strings.TrimSpace(rest[:j])
	for _, c := range t.classes {
		if strings.EqualFold(s, c) {
			return sampling.Answer{Text: s, Class: c, OK: true}
		}
	}
	return sampling.Answer{Text: s}
}

func (t task) Classes() []string { return slices.Clone(t.classes) }

// Items returns n items with ids "q0000", "q0001", … (more digits past
// 9999), a field "n" holding the index, and a label drawn from f's
// classes by the id's hash (unrelated to the fake model's answers).
func (f *Fake) Items(n int) []sampling.Item {
	classes := f.classes()
	items := make([]sampling.Item, n)
	for i := range items {
		id := fmt.Sprintf("q%04d", i)
		items[i] = sampling.Item{
			ID:     id,
			Label:  classes[fnv(fnvOffset, id)%uint64(len(classes))],
			Fields: map[string]string{"n": strconv.Itoa(i)},
		}
	}
	return items
}
