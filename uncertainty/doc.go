// Package uncertainty scores how far a language model's reasoning traces can
// be trusted, without labels, and measures how well such scores track
// quality when some labels exist.
//
// It works on plain numbers, so it serves traces from any backend (the
// llama binding, vLLM, an API's logprobs): per-token log-probabilities and
// entropies as []float64, answers as strings, similarities as matrices. It
// imports only gonum and the standard library.
//
// # Conventions
//
//   - Log-probabilities are natural logs under the model's raw distribution
//     (the log-softmax of the raw logits over the full vocabulary, before
//     temperature, top-k/top-p/min-p or penalties); entropies are in nats
//     over that same distribution. A trace is every generated token,
//     reasoning, answer and end-of-generation token alike.
//   - Every estimator returns an uncertainty: higher means less trustworthy.
//     Where LM-Polygraph reports a number under the same name, the doc
//     comment says whether the value here is that number.
//   - A group is one greedy trace r0 and K sampled traces r1..rK of the same
//     prompt. Information-based estimators score r0. Self-consistency and
//     CoCoA compare r0 with the samples. The set-based estimators (semantic
//     entropy, NumSemSets, DegMat, Eccentricity, EigValLaplacian, lexical
//     similarity) read the samples only, as LM-Polygraph does, unless
//     Config.WithGreedy adds r0 to the set.
//   - Similarities lie in [0, 1], are symmetric, and a trace is similar to
//     itself with 1.
//   - An answer that could not be parsed (Trace.OK false) agrees with no
//     other answer, not even another unparsable one.
//
// # Degenerate input
//
// Bad or degenerate input returns an error, never a NaN: ErrEmpty for a
// trace or span without tokens, ErrNoSamples when K is too small for an
// estimator, ErrNoAnswer when the answers an estimator needs were not
// parsed, ErrNonFinite (as a *NonFiniteError) for NaN or ±Inf inputs,
// ErrMissing when a trace lacks the data an estimator reads (entropies,
// tokens, embeddings), ErrInvalid for inconsistent input and ErrUndefined
// for a quality metric that is undefined on the data (one class only).
// Where an edge case has a well-defined value instead (K = 1 for semantic
// entropy, a similarity between two empty token sequences), the function's
// doc comment gives it.
//
// # Ranking
//
// A Score carries the estimator's value and a tie-break key; Compare orders
// scores by value, then tie-break. CoCoA scores are U = u(r0)·mean(1−s) and
// are 0 whenever every sample matches r0, so their tie-break is u(r0): among
// fully consistent groups the one whose greedy trace the model found more
// likely ranks as less uncertain.
//
// # Quality metrics
//
// PRR, NormalizedPRR, RiskCoverageAUC, ROCAUC and Retention judge an
// uncertainty against labels, for validation and papers: quality[i] is how
// good item i is (higher is better, typically 1 for a correct answer and 0
// for a wrong one). Uncertainties may be ±Inf but not NaN; qualities must be
// finite. Items with equal uncertainty are tied and the metrics take the
// expectation over the orders of tied items, so they do not depend on the
// order of the input. Rank turns Scores into one number per item that keeps
// their tie-break.
//
// # Concurrency
//
// Functions are safe for concurrent use. The estimators that New returns
// hold no mutable state and are safe for concurrent use, as are the
// similarities of this package (AnswerMatch only if its Normalize is).
package uncertainty
