package openai

import (
	"encoding/json"
	"fmt"
)

// The request and response bodies, as far as this package reads them.
// Fields are those of OpenAI's API reference unless marked.

// response is a /chat/completions or /completions reply.
type response struct {
	Choices []choice `json:"choices"`
	Usage   *struct {
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
}

type choice struct {
	Index        int     `json:"index"`
	FinishReason *string `json:"finish_reason"`
	Text         *string `json:"text"` // completions
	Message      *struct {
		Content          *string `json:"content"`
		ReasoningContent *string `json:"reasoning_content"` // llama-server, SGLang, DeepSeek
		Reasoning        *string `json:"reasoning"`         // vLLM
	} `json:"message"` // chat
	Logprobs *logprobs `json:"logprobs"`
	// StopReason is vLLM's: the stop string or token id that ended the
	// choice, null for an end-of-sequence token.
	StopReason json.RawMessage `json:"stop_reason"`
	// MatchedStop is SGLang's equivalent of StopReason.
	MatchedStop json.RawMessage `json:"matched_stop"`
}

// logprobs holds either the chat format (Content: one entry per token,
// which llama-server also returns from /completions) or the legacy
// completions format (parallel arrays).
type logprobs struct {
	Content       []entry              `json:"content"`
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []*float64           `json:"token_logprobs"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
}

// entry is one token of the chat format, or one of its alternatives.
type entry struct {
	ID          *int32   `json:"id"` // llama-server only
	Token       string   `json:"token"`
	Bytes       []int    `json:"bytes"`
	Logprob     *float64 `json:"logprob"`
	TopLogprobs []entry  `json:"top_logprobs"`
}

// raw returns the token's bytes: Bytes when given (llama-server's Token
// has an incomplete UTF-8 character cut off), else Token.
func (e *entry) raw() ([]byte, error) {
	if e.Bytes == nil {
		return []byte(e.Token), nil
	}
	b := make([]byte, len(e.Bytes))
	for i, v := range e.Bytes {
		if v < 0 || v > 255 {
			return nil, fmt.Errorf("byte value %d in a token's bytes", v)
		}
		b[i] = byte(v)
	}
	return b, nil
}
