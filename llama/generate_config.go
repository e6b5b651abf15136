package llama

import "github.com/labelfree/labelfree/sampling"

// Aliases of the sampling package's records, so that traces from this
// package are sampling's without conversion.
type (
	// GenerateConfig configures Session.Generate (see sampling.Params).
	GenerateConfig = sampling.Params
	// Token is one generated or scored token.
	Token = sampling.Token
	// Trace is one generated continuation.
	Trace = sampling.Trace
	// FinishReason says why a trace ended.
	FinishReason = sampling.FinishReason
)

// Finish reasons (see sampling).
const (
	FinishEOG     = sampling.FinishEOG
	FinishStop    = sampling.FinishStop
	FinishLength  = sampling.FinishLength
	FinishContext = sampling.FinishContext
)

// ScoreRequest is one text to score: Continuation after Prompt.
type ScoreRequest struct {
	Prompt       []int32
	Continuation []int32
}

// Message is one turn of a chat.
type Message = sampling.Message

// ChatOptions configures Model.ChatTemplate. A nil *ChatOptions means the
// zero value: thinking on, Qwen3's default.
type ChatOptions struct {
	// NoThinking closes an empty <think></think> block after the assistant
	// prompt, so that Qwen3 answers without reasoning.
	NoThinking bool
}
