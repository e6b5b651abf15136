// Package score turns a trace file into a score file: every group's
// uncertainty under a chosen set of estimators of the uncertainty package.
//
// # From a trace to an uncertainty.Group
//
// Convert turns a sampling.Group into an uncertainty.Group: r0 is the
// greedy trace, the samples are the others, in file order. Each trace brings its log-probabilities,
// entropies, token ids, text and answer (Answer.Class, Answer.OK); a trace
// file has no token texts, so the reasoning and answer parts are found by
// the token ids of the reasoning markers (Config.ThinkIDs). What a trace's
// numbers are depends on its logprobs_kind (sampling.LogProbKind):
//
//   - "full": log-probabilities and full-distribution entropies, used as
//     they are;
//   - "top-n": log-probabilities as an API returned them, and entropies
//     over the n alternatives it listed only, which are not the entropies
//     of the uncertainty package's definitions (they leave out the tail of
//     the distribution and are smaller). They are dropped unless
//     Config.TopNEntropies says to use them, so the estimators that read
//     entropies (mte, max-entropy, cocoa-mte) report an error for such a
//     group rather than a number of another kind;
//   - "none": no log-probabilities at all; every estimator that reads them
//     (msp, log-perplexity, perplexity, the entropy ones, cocoa-*,
//     semantic-entropy-weighted) reports an error for the group, while the
//     answer-based ones (self-consistency, semantic-entropy, ...) still
//     score it.
//
// An estimator's error names the logprobs_kind when that is the reason.
//
// # The score file
//
// File scores a trace file and writes the score file, JSON Lines: a header
// (Header), then one line per group (Record), in the trace file's order:
//
//	{"labelfree":"scores","version":1,"traces":"traces.jsonl","traces_sha256":"9f86d0…","estimators":["cocoa-ppl","self-consistency","log-perplexity","msp","mte"],"config":{"part":"whole","similarity":"answer","normalize":false,"with_greedy":false,"eccentricity_threshold":0.9,"think_ids":[151667,151668],"top_n_entropies":false}}
//	{"id":"q0001","class":"up","ok":true,"label":"down","scores":{"cocoa-ppl":{"u":0.1875,"tie":0.75},"self-consistency":{"u":0.25,"tie":0},"log-perplexity":{"u":0.75,"tie":0},"msp":{"u":30,"tie":0},"mte":{"u":1.5,"tie":0}},"location":{"offset":201,"len":4290,"crc32c":2816735581}}
//	{"id":"q0002","class":"","ok":false,"scores":{"cocoa-ppl":{"u":0.8,"tie":0.8},"log-perplexity":{"u":0.8,"tie":0},"msp":{"u":41.6,"tie":0},"mte":{"u":2.1,"tie":0}},"errors":{"self-consistency":"uncertainty: no parsable answer: the greedy trace r0"},"location":{"offset":4492,"len":4347,"crc32c":93042071}}
//
// "class" and "ok" are r0's parsed answer: the class that filtering groups
// by, never the label. "label" is the item's gold label, copied from the
// trace file for evaluation and omitted when unknown; the filter package
// never reads it. "u" and "tie" are an uncertainty.Score's Value and
// Tiebreak, as float64 in their shortest form, always finite: an estimator
// that cannot score a group puts its error under "errors" instead, so
// every estimator of the header appears under exactly one of the two.
//
// "location" (Location) is where the group's line is in the trace file:
// the byte offset of its first byte, its length without the newline, and
// the CRC-32C (Castagnoli) of those bytes. It lets the filter package's
// export read the lines of the kept groups alone, instead of the whole
// trace file, and tell whether each is still the line that was scored: a
// trace file rewritten since (sampling.Rescore, Merge, a new run) has
// other bytes there, and the score file must be made again. The field is
// optional: score files written before it was added have none, and still
// read (with zero Locations), so the format's version is still 1; readers
// that do not know it ignore it, as encoding/json does.
//
// # Resuming and staying up to date
//
// File writes the whole score file to a temporary file next to the output
// ("<out>.partial"), syncs it and renames it into place, so the output is
// either the old file or the complete new one, never a torn mix; an
// interrupted run is resumed by running it again, which rescores every
// group (scoring is fast: see the benchmark) and overwrites the leftover
// temporary file. UpToDate tells whether an existing score file already
// holds what File would write: same trace file bytes (SHA-256), same
// estimators in the same order, same Settings.
//
// # Reading files fast
//
// Decoding a trace file's JSON is most of the cost of scoring it. A
// TraceReader decodes its lines on several goroutines, with the checks
// and errors of a sampling.Reader, gives each group's Location, and can
// skip the lines of groups a caller does not want without decoding them.
// File uses one.
//
// A score file of millions of groups is read the same way: Reader.All
// decodes batches of lines on several goroutines, in order, with Next's
// checks and errors; Reader.Keep leaves out of the records the estimators
// a caller does not read (every line is still checked), and the fast
// decoder shares the header's estimator names and interns classes and
// labels rather than allocating them per line. BenchmarkFilterExport in
// the filter package reads a score file of 1,000,000 groups this way.
//
// The package is pure Go.
package score
