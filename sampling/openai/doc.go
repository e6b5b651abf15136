// Package openai is a sampling.Generator that draws traces from a server
// speaking OpenAI's HTTP API: /v1/chat/completions for chat prompts and
// /v1/completions for raw ones, as llama.cpp's llama-server, vLLM, SGLang
// and hosted endpoints offer it.
//
// # What the numbers are
//
// A server returns, per generated token, the log-probability it reports
// and the n most likely alternatives (OpenAI's logprobs and top_logprobs).
// llama-server returns the raw log-probability, the log-softmax of the raw
// logits over the full vocabulary (tools/server/server-common.cpp,
// get_token_probabilities, unless the request sets post_sampling_probs,
// which this package never does); vLLM does so by default (its
// logprobs_mode raw_logprobs); other servers document their own. No server
// returns the full distribution, so a token's entropy is never known
// exactly: GenerateTraces labels each trace with a sampling.LogProbKind,
// "top-n" when the server returned log-probabilities with n alternatives
// and "none" when it returned none (or fewer than it generated); Generate
// carries the same kind in sampling.Trace.LogProbKind, so sampling.Run
// records it trace by trace.
// A trace of kind "none" keeps its text and can be rescored by a local
// sampling.Scorer.
//
// # Stop strings
//
// By default stop strings are applied here, to the returned tokens, exactly
// as the llama package applies them: the text keeps the stop string and the
// trace records which one matched. Servers instead drop the stop string
// from the text and some (llama-server) the tokens that made it; see
// Config.ServerStop.
//
// # llama-server
//
// llama-server v0.5.0 returns no log-probability for a token after which
// the text ends inside a UTF-8 character (such a token's bytes go with the
// next token's entry; tools/server/server-context.cpp, process_token), so
// traces with such tokens are of kind "none"; the token ids it returns
// with each alternative show where that happened. It serves n > 1 choices
// (Config.N) up to its parallel slots (-np). It applies NoThinking through
// the model's chat template, which Qwen3's honours and a template without
// enable_thinking ignores. Its HTTP threads (-np + 4 by default, or the
// cores less one if more) can all be held by idle connections: see
// Client.CloseIdleConnections.
//
// # Scoring
//
// Client is not a sampling.Scorer: llama-server v0.5.0 cannot return the
// log-probabilities of a given text (its /v1/completions refuses echo, and
// it has no prompt_logprobs), so traces are rescored with a local Scorer.
//
// # Keys
//
// The API key is read from the environment once, by New, and sent as a
// bearer token. It is never logged, and errors never contain it: a server
// message that quotes it is redacted.
package openai
