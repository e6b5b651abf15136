package perturb_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/labelfree/labelfree/perturb"
	"github.com/labelfree/labelfree/sampling"
)

const (
	up   = perturb.Up
	down = perturb.Down
	none = perturb.None
	bad  = "" // not an answer
)

var parseTests = []struct {
	name  string
	text  string
	class string // bad: OK false
	found string // Answer.Text
}{
	// The asked-for form and its variations.
	{"plain", "<think>\nreasoning\n</think>\n\n<answer>up</answer>", up, "up"},
	{"down", "<think>x</think><answer>down</answer>", down, "down"},
	{"none phrase", "<think>x</think>\n<answer>not differentially expressed</answer>", none, "not differentially expressed"},
	{"class id none", "<think>x</think><answer>none</answer>", none, "none"},
	{"case", "<THINK>x</THINK><Answer>UP</Answer>", up, "UP"},
	{"spaces and newlines", "</think>\n<answer>\n   Down \n</answer>\n", down, "Down"},
	{"bold", "</think><answer>**Up**</answer>", up, "**Up**"},
	{"quotes and period", "</think><answer>\"down\".</answer>", down, "\"down\"."},
	{"smart quotes", "</think><answer>“not differentially expressed”</answer>", none, "“not differentially expressed”"},
	{"backticks and heading", "</think><answer>### `UP`!</answer>", up, "### `UP`!"},
	{"latex in tag", `</think><answer>$\boxed{\text{down}}$</answer>`, down, `$\boxed{\text{down}}$`},
	{"no think tags", "<answer>up</answer>", up, "up"},
	{"opening think in the prompt", "reasoning only\n</think>\n<answer>down</answer>", down, "down"},

	// Synonyms.
	{"upregulated", "</think><answer>Upregulated</answer>", up, "Upregulated"},
	{"up-regulated", "</think><answer>up-regulated</answer>", up, "up-regulated"},
	{"up regulated", "</think><answer>up regulated</answer>", up, "up regulated"},
	{"increased", "</think><answer>Increased expression</answer>", up, "Increased expression"},
	{"higher", "</think><answer>higher</answer>", up, "higher"},
	{"downregulated", "</think><answer>downregulated</answer>", down, "downregulated"},
	{"down-regulated", "</think><answer>Down-regulated.</answer>", down, "Down-regulated."},
	{"decreased", "</think><answer>decreased</answer>", down, "decreased"},
	{"reduced", "</think><answer>reduced</answer>", down, "reduced"},
	{"lower", "</think><answer>Lower expression of the gene</answer>", down, "Lower expression of the gene"},
	{"no change", "</think><answer>No change</answer>", none, "No change"},
	{"unchanged", "</think><answer>unchanged</answer>", none, "unchanged"},
	{"not DE", "</think><answer>not DE</answer>", none, "not DE"},
	{"non-DE", "</think><answer>non-DE</answer>", none, "non-DE"},
	{"no significant change", "</think><answer>No significant change.</answer>", none, "No significant change."},
	{"neither", "</think><answer>neither</answer>", none, "neither"},
	{"does not change", "</think><answer>The knockdown does not change its expression</answer>", none, "The knockdown does not change its expression"},
	{"doesn't change", "</think><answer>It doesn't change</answer>", none, "It doesn't change"},
	{"extra explanation", "</think><answer>Up. Loss of the repressor raises expression.</answer>", up, "Up. Loss of the repressor raises expression."},
	{"answer and gloss agree", "</think><answer>down (downregulated)</answer>", down, "down (downregulated)"},
	{"hedged", "</think><answer>probably up</answer>", up, "probably up"},
	{"gene names are not words", "</think><answer>UPF1 knockdown: DOWNSTREAM gene goes up</answer>", up, "UPF1 knockdown: DOWNSTREAM gene goes up"},

	// Negations.
	{"not upregulated", "</think><answer>not upregulated</answer>", bad, "not upregulated"},
	{"not increased", "</think><answer>Expression is not increased</answer>", bad, "Expression is not increased"},
	{"isn't up", "</think><answer>it isn't up</answer>", bad, "it isn't up"},
	{"not significantly up", "</think><answer>not significantly upregulated</answer>", bad, "not significantly upregulated"},
	{"no increase", "</think><answer>no increase</answer>", bad, "no increase"},
	{"down, not up", "</think><answer>down, not up</answer>", down, "down, not up"},
	{"not up but down", "</think><answer>not up but down</answer>", down, "not up but down"},
	{"up (not down)", "</think><answer>up (not down)</answer>", up, "up (not down)"},
	{"not up or down", "</think><answer>not up- or down-regulated</answer>", none, "not up- or down-regulated"},
	{"neither up nor down", "</think><answer>Neither up nor down</answer>", none, "Neither up nor down"},
	{"no, it is up", "</think><answer>No, it is up</answer>", up, "No, it is up"},
	{"not unchanged", "</think><answer>not unchanged</answer>", bad, "not unchanged"},

	// Contradictions and non-answers.
	{"up or down", "</think><answer>up or down</answer>", bad, "up or down"},
	{"up/down", "</think><answer>up/down</answer>", bad, "up/down"},
	{"increase or no change", "</think><answer>increased, or unchanged</answer>", bad, "increased, or unchanged"},
	{"differentially expressed only", "</think><answer>differentially expressed</answer>", bad, "differentially expressed"},
	{"yes", "</think><answer>Yes</answer>", bad, "Yes"},
	{"empty tag", "</think><answer></answer>", bad, ""},
	{"unknown", "</think><answer>I cannot determine this</answer>", bad, "I cannot determine this"},
	{"up and not up", "</think><answer>up, but not up</answer>", bad, "up, but not up"},
	{"eight words of final text", "</think>The gene is upregulated because of the loss.", up, "The gene is upregulated because of the loss."},
	{"nine words of final text", "</think>The gene is upregulated because of the repressor loss.", bad, ""},
	{"empty", "", bad, ""},

	// Which answer counts.
	{"last of two final tags", "</think><answer>up</answer>\nCorrection: <answer>down</answer>", down, "down"},
	{"reasoning tag ignored when final exists", "<think>maybe <answer>up</answer>? no.</think><answer>down</answer>", down, "down"},
	{"last think closes reasoning", "<think>a</think> b </think><answer>none</answer>", none, "none"},
	{"reasoning tag used when final has none", "<think>so <answer>down</answer></think>", down, "down"},
	{"truncated reasoning has no answer", "<think>I think <answer>up</answer> but wait", bad, ""},
	{"unparsable final tag is final", "<think><answer>up</answer></think><answer>maybe</answer>", bad, "maybe"},
	{"unclosed final tag (stop string)", "</think>\n<answer>down", down, "down"},
	{"unclosed tag after a closed one", "</think><answer>up</answer> then <answer>down", down, "down"},

	// Fallbacks when there is no tag.
	{"boxed", `</think>The answer is \boxed{up}.`, up, "up"},
	{"boxed nested", `</think>\boxed{\text{not differentially expressed}}`, none, `\text{not differentially expressed}`},
	{"Answer: label", "</think>\nAnswer: down", down, "down"},
	{"bold label", "</think>\n**Final Answer:** Up", up, "Up"},
	{"label on the next line", "</think>\n### Final answer:\n\n  no change  \n", none, "no change"},
	{"answer is", "</think>Based on this, the answer is down.", down, "down."},
	{"later unparsable label skipped", "</think>Answer: up\n\nI hope this answer is helpful.", up, "up"},
	{"only unparsable labels", "</think>The answer is unclear.", bad, "unclear."},
	{"label in reasoning ignored", "<think>Answer: up</think>\nI am not sure.", bad, ""},
	{"short bare final text", "<think>long reasoning</think>\n\n**Down**", down, "**Down**"},
	{"bare text without tags", "Not differentially expressed.", none, "Not differentially expressed."},
	{"to answer whether is not a label", "</think>To answer whether X is upregulated we need more data, so I cannot say.", bad, ""},
}

func TestParse(t *testing.T) {
	var task perturb.Task
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			want := sampling.Answer{Text: tt.found, Class: tt.class, OK: tt.class != bad}
			if got := task.Parse(tt.text); got != want {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.text, got, want)
			}
		})
	}
}

// FuzzParse checks that Parse never panics and that its answers are well
// formed.
func FuzzParse(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.text)
	}
	f.Add("</think><answer>\xff up</answer>")
	f.Fuzz(func(t *testing.T, text string) {
		a := perturb.Parse(text)
		switch {
		case a.OK && a.Class != up && a.Class != down && a.Class != none:
			t.Errorf("Parse(%q): OK with class %q", text, a.Class)
		case !a.OK && a.Class != "":
			t.Errorf("Parse(%q): not OK with class %q", text, a.Class)
		case utf8.ValidString(text) && !strings.Contains(text, a.Text):
			t.Errorf("Parse(%q): text %q is not in the input", text, a.Text)
		}
	})
}
