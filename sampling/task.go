package sampling

// Message is one turn of a chat.
type Message struct {
	Role    string `json:"role"` // "system", "user" or "assistant"
	Content string `json:"content"`
}

// Prompt is what a Generator continues. A chat prompt (Messages non-empty)
// is formatted by the backend with the model's chat template, which opens
// the assistant's turn; a raw prompt (Messages empty) is continued exactly
// as Text reads.
type Prompt struct {
	Messages []Message `json:"messages,omitempty"`
	// NoThinking asks a reasoning model to answer without reasoning: an
	// empty <think></think> block follows the assistant prompt (Qwen3's
	// enable_thinking=false). Chat prompts only.
	NoThinking bool   `json:"no_thinking,omitempty"`
	Text       string `json:"text,omitempty"`
}

// Chat returns a chat prompt of an optional system message and one user
// message.
func Chat(system, user string) Prompt {
	var p Prompt
	if system != "" {
		p.Messages = append(p.Messages, Message{Role: "system", Content: system})
	}
	p.Messages = append(p.Messages, Message{Role: "user", Content: user})
	return p
}

// Item is one question of a task.
type Item struct {
	// ID is stable and unique within a dataset: it is how a resumed run
	// knows which questions are done and how later stages refer to a group.
	ID string `json:"id"`
	// Label is the gold class when known, "" otherwise. Generation and
	// filtering never read it; evaluation does.
	Label string `json:"label,omitempty"`
	// Fields are the task's inputs, e.g. cell line, perturbation and gene.
	Fields map[string]string `json:"fields,omitempty"`
}

// Answer is what a Task extracted from a trace.
type Answer struct {
	// Text is the answer as written (e.g. the contents of <answer>), "" if
	// none was found.
	Text string `json:"text,omitempty"`
	// Class is the normalised answer: one of Task.Classes for a
	// classification task, the normalised text for a free-text one. Traces
	// agree when their classes are equal. "" when !OK.
	Class string `json:"class,omitempty"`
	// OK reports whether an answer could be parsed. Unparsable traces are
	// recorded as such and dropped by filtering, never guessed.
	OK bool `json:"ok"`
}

// Task turns items into prompts and traces into answers.
type Task interface {
	// Prompt builds the prompt for it. An error names the missing or bad
	// field.
	Prompt(it Item) (Prompt, error)
	// Parse extracts the answer from a trace's text.
	Parse(text string) Answer
	// Classes returns the label set of a classification task, in a fixed
	// order, or nil for free-text answers.
	Classes() []string
}
