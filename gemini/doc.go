// Package gemini is a sampling.Generator that draws traces from Google's
// Gemini models through the Gemini API (generativelanguage.googleapis.com),
// using Google's official Go SDK, google.golang.org/genai. The paper
// labelfree follows (arXiv 2510.05871) used Gemini 2.5 Pro as its teacher.
//
// The package is a module of its own, github.com/labelfree/labelfree/gemini,
// so that the SDK and what it brings (cloud auth, gRPC, protobuf) stay out of
// the labelfree module: a program that wants it runs
//
//	go get github.com/labelfree/labelfree/gemini
//
// besides labelfree itself. (Inside the labelfree repository, gemini/go.mod
// replaces labelfree with the directory above; a replace directive only
// applies where this module is the main module, so users get the labelfree
// version that go.mod requires.)
//
// # Keys
//
// New reads the API key from GEMINI_API_KEY, or GOOGLE_API_KEY when that is
// unset or empty, or from the variable Config.APIKeyEnv names. It is sent
// in the x-goog-api-key header, never logged, and never part of an error:
// a server message that quotes it is redacted. (When both variables are
// set the SDK logs a warning that it uses GOOGLE_API_KEY; that concerns its
// own lookup, which this package bypasses by passing the key it read.)
//
// # What the numbers are
//
// Asked with responseLogprobs, the API returns, per generated token, the
// token, its id and its logProbability (logprobsResult.chosenCandidates),
// and with logprobs = n (at most 20) the n most likely tokens at that step
// with theirs (topCandidates; the chosen token need not be among them).
// Google documents these as natural-log probabilities the model assigned to
// the tokens; it does not say whether they are taken before or after
// temperature, top-k and top-p. They are therefore not known to be the raw
// log-probabilities of DESIGN.md (the log-softmax of the raw logits, which
// the llama backend gives) and are recorded as what the API returned. The
// API never returns the full distribution, so a token's entropy is not
// known: Generate and GenerateTraces label each trace with a
// sampling.LogProbKind (Generate in sampling.Trace.LogProbKind), "top-n" with an entropy over the n
// alternatives returned (a lower bound, as the OpenAI-compatible backend
// does) or "none" for a trace without log-probabilities, whose text a local
// sampling.Scorer can rescore. Whether chosenCandidates also cover a
// thinking model's thought tokens is not documented either; a trace's
// Usage.ThoughtTokens says how many there were.
//
// Which models return log-probabilities varies and has changed over time.
// As reported in public issues, the Gemini API answers 400 INVALID_ARGUMENT
// "Logprobs is not enabled for models/gemini-2.5-pro" (likewise
// gemini-2.5-flash and gemini-2.5-flash-lite), while gemini-2.0-flash
// returns them; Vertex AI, which this package does not speak, returned them
// for gemini-2.5-pro. A model that rejects them is asked again without them
// (the traces are then "none", with a Note) unless Config.RequireLogprobs
// makes it an error wrapping ErrNoLogprobs.
//
// # Thoughts
//
// With Config.IncludeThoughts, a thinking model returns summaries of its
// thoughts as parts marked thought; a trace's Text is then
// "<think>\n" + summaries + "\n</think>\n\n" + answer. These are the
// summaries the API chooses to give, not the model's chain of thought, and
// carry no log-probabilities. A prompt that asks the model itself to write
// its reasoning in <think> tags should leave IncludeThoughts off.
//
// # Sampling settings
//
// The greedy trace is drawn at temperature 0 with one candidate, sampled
// trace k with seed uint32(Params.Seed)+k (see Config.CandidateCount). The
// API describes its seed as best effort, and even temperature 0 as mostly
// deterministic: a rerun need not give the same traces. Params.MinP has no
// counterpart and must be 0.
//
// # With sampling.Run
//
// Generate puts each trace's kind in sampling.Trace.LogProbKind, so a run
// records trace by trace what its numbers are, whatever
// RunConfig.LogProbs says; a trace without log-probabilities is written as
// "none" (text only). Use Config.RequireLogprobs to fail instead. Traces
// ended by a content filter (FinishFiltered, sampling.FinishFiltered) or
// for other reasons of the API's (FinishOther) are recorded as such.
package gemini
