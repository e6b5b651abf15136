package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/labelfree/labelfree/sampling"
)

// countTask is a task of your own: how many times does a letter occur in
// a word? Its answers are numbers, so it has no fixed label set, and its
// parser reads a number rather than a class name. It is safe for
// concurrent use, as sampling.Run needs with several Generators.
type countTask struct{}

var _ sampling.Task = countTask{}

// Prompt asks about the item's fields "word" and "letter".
func (countTask) Prompt(it sampling.Item) (sampling.Prompt, error) {
	word, letter := it.Fields["word"], it.Fields["letter"]
	if word == "" || len(letter) != 1 {
		return sampling.Prompt{}, fmt.Errorf("count: item %q: want a word and a one-letter letter, have %q and %q", it.ID, word, letter)
	}
	return sampling.Chat("Reason step by step inside <think></think>, then give only the number inside <answer></answer>.",
		fmt.Sprintf("How many times does the letter %q occur in the word %q?", letter, word)), nil
}

// Parse reads the last <answer>…</answer> of a trace as a count: a
// non-negative integer, written without sign or leading zeros in Class so
// that "03" and "3" agree. Anything else is unparsable, never guessed.
func (countTask) Parse(text string) sampling.Answer {
	i := strings.LastIndex(text, "<answer>")
	if i < 0 {
		return sampling.Answer{}
	}
	s, _, closed := strings.Cut(text[i+len("<answer>"):], "</answer>")
	if !closed {
		return sampling.Answer{}
	}
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return sampling.Answer{Text: s}
	}
	return sampling.Answer{Text: s, Class: strconv.Itoa(n), OK: true}
}

// Classes returns nil: the answers are numbers, not a fixed label set.
// Filtering still groups by r0's answer, one class per number.
func (countTask) Classes() []string { return nil }

// words are the questions: a word and a letter.
var words = []struct{ word, letter string }{
	{"strawberry", "r"}, {"banana", "a"}, {"mississippi", "s"}, {"mississippi", "p"},
	{"bookkeeper", "e"}, {"bookkeeper", "o"}, {"committee", "t"}, {"committee", "m"},
	{"rhythm", "a"}, {"parallel", "l"}, {"necessary", "s"}, {"accommodate", "c"},
	{"onomatopoeia", "o"}, {"referee", "e"}, {"assessment", "s"}, {"bubble", "b"},
	{"pepper", "p"}, {"tomorrow", "o"}, {"coffee", "f"}, {"giraffe", "f"},
	{"balloon", "l"}, {"success", "c"}, {"vacuum", "u"}, {"queue", "e"},
}

// items returns the questions as sampling items, each labelled with the
// true count (which neither generation nor filtering reads).
func items() []sampling.Item {
	its := make([]sampling.Item, len(words))
	for i, w := range words {
		its[i] = sampling.Item{
			ID:     w.word + "/" + w.letter,
			Label:  strconv.Itoa(strings.Count(w.word, w.letter)),
			Fields: map[string]string{"word": w.word, "letter": w.letter},
		}
	}
	return its
}
