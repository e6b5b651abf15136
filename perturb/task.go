package perturb

import (
	"errors"
	"fmt"
	"strings"

	"github.com/labelfree/labelfree/sampling"
)

// ErrMissingField is wrapped by Prompt's error for an item without a cell,
// pert or gene field.
var ErrMissingField = errors.New("missing field")

// Task is the PerturbQA three-class task. The zero Task is ready to use and
// safe for concurrent use.
type Task struct{}

var _ sampling.Task = Task{}

// System is the system message of every prompt.
const System = "You are an expert molecular biologist who studies gene regulation " +
	"with Perturb-seq, single-cell RNA sequencing of CRISPR screens."

// Prompt returns the chat prompt for it: System and a user message that
// names the cell line, the knocked-down gene and the gene (or, for K562Set,
// the gene set) asked about, and asks for step-by-step reasoning inside
// <think>…</think> and a final answer inside <answer>…</answer> of exactly
// up, down or not differentially expressed. It reads the fields cell, pert
// and gene; an error names a missing one or an unknown cell.
func (Task) Prompt(it sampling.Item) (sampling.Prompt, error) {
	var q Question
	for _, f := range []struct {
		key string
		dst *string
	}{{FieldCell, &q.Cell}, {FieldPert, &q.Pert}, {FieldGene, &q.Gene}} {
		v := it.Fields[f.key]
		if v == "" {
			return sampling.Prompt{}, fmt.Errorf("perturb: item %q: %w %q", it.ID, ErrMissingField, f.key)
		}
		*f.dst = v
	}
	if _, ok := cellNames[q.Cell]; !ok {
		return sampling.Prompt{}, fmt.Errorf("perturb: item %q: field %q: %w %q", it.ID, FieldCell, ErrUnknownCell, q.Cell)
	}
	return sampling.Chat(System, userMessage(q)), nil
}

// Classes returns Classes().
func (Task) Classes() []string { return Classes() }

// Parse is the package's Parse.
func (Task) Parse(text string) sampling.Answer { return Parse(text) }

// userMessage is the question of q in words.
func userMessage(q Question) string {
	target := "the gene " + q.Gene
	if q.Cell == K562Set {
		target = geneSet(q.Gene)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "In %s, the gene %s is knocked down by CRISPR interference (CRISPRi). ", cellNames[q.Cell], q.Pert)
	fmt.Fprintf(&b, "Does this knockdown change the expression of %s?\n\n", target)
	b.WriteString("Answer with exactly one of:\n")
	b.WriteString("- up: significantly higher expression after the knockdown;\n")
	b.WriteString("- down: significantly lower expression after the knockdown;\n")
	b.WriteString("- not differentially expressed: no significant change.\n\n")
	b.WriteString("Reason step by step inside <think>...</think>, then give only the final answer inside <answer>...</answer>.")
	return b.String()
}

// geneSet describes a K562Set gene: "6-dysregulated lncRNA/antisense
// transcripts" is program 6 of the co-expressed gene programs of Replogle
// et al. (2022).
func geneSet(name string) string {
	num, label, ok := strings.Cut(name, "-")
	if !ok || num == "" || strings.Trim(num, "0123456789") != "" || label == "" {
		return fmt.Sprintf("the gene set \"%s\" (a program of co-expressed genes)", name)
	}
	return fmt.Sprintf("the genes of expression program %s, \"%s\" (a cluster of co-expressed genes)", num, label)
}
