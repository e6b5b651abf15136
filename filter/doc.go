// Package filter keeps the low-uncertainty groups of a score file, without
// labels, and exports their traces for supervised fine-tuning.
//
// # Strategies
//
// A group's class is the answer of its greedy trace r0 (the score file's
// "class"), never its label: the package never reads score.Record.Label.
//
//   - PerClass keeps, within each class, the lowest-uncertainty fraction q
//     (⌈q·n_c⌉ of the class's n_c eligible groups; see Size) or n groups,
//     optionally balanced (the same count in every class) or capped.
//   - Global keeps the lowest-uncertainty fraction q, or n groups, over all
//     classes at once, or every group at or below an explicit threshold.
//   - Random keeps a seeded random subset, of a fraction, a count, or the
//     size of another selection (overall or per class): the baseline.
//
// Gates compose: each strategy first drops the groups that a Gate's
// estimator scores above its Max (for example self-consistency <= 0.25),
// then ranks the rest by its own estimator (for example cocoa-ppl).
//
// Groups whose r0 answer was not parsed, and groups the ranking or a gate
// estimator could not score, are excluded before ranking and counted by
// reason in the Summary (ReasonUnparsable, ReasonError, ReasonGate); they
// are never mixed in. Ranking is uncertainty.Compare (Value, then
// Tiebreak), then the id, so a selection is a function of the score
// file's records, whatever their order.
//
// The quantile pass needs every eligible group at once (the cut of a
// class is known only when all its groups are), so a selection cannot be
// made in one streaming pass with constant memory. Select streams the
// score file and holds one small entry per eligible group (about 64 bytes
// plus the id's bytes, without pointers, so that the garbage collector
// does not scan them), finds the kept ones in linear time and sorts those
// alone: memory grows with the number of groups, about 350 MB at
// 1,000,000 groups (see BenchmarkFilterExport), never with the size of
// the score file's lines or of the trace file.
//
// # The selection file
//
// File writes a selection file, JSON Lines: a header (Header, with the
// strategy, its parameters, the score file and trace file with their
// SHA-256, and the Summary), then one line per kept group (Record), by
// class and rank for per-class strategies, by rank otherwise:
//
//	{"labelfree":"selection","version":1,"strategy":"per-class","estimator":"cocoa-ppl","fraction":0.5,"n":0,"seed":0,"scores":"scores.jsonl","scores_sha256":"…","traces":"traces.jsonl","traces_sha256":"…","summary":{"strategy":"per-class","estimator":"cocoa-ppl","groups":50,"eligible":47,"kept":25,"excluded":{"estimator-error":0,"gate":0,"unparsable":3},"classes":[{"class":"down","total":15,"eligible":15,"kept":8,"threshold":0.42},…]}}
//	{"id":"q0007","class":"down","estimator":"cocoa-ppl","u":0,"tie":0.31,"rank":1,"location":{"offset":30481,"len":4290,"crc32c":2816735581}}
//
// "u" and "tie" are the group's uncertainty.Score under the estimator;
// "rank" counts from 1 within the class (per-class strategies) or overall.
// "location" is copied from the score file's record (score.Location) and
// left out when it has none; Export uses it.
// A Random selection without an estimator writes neither the estimator
// nor u and tie. ReadFile reads a selection file back, with errors that
// name the file and line (*LineError).
//
// # Export
//
// Export writes the kept groups' traces to train.jsonl and
// validation.jsonl in the chat "messages" format (Example) that TRL's
// SFTTrainer and Hugging Face datasets read, reasoning kept in
// <think>…</think>, split by a seeded hash of the group id. When the
// selection's records have locations, it reads the kept groups' lines
// alone, checking each against its CRC-32C and id (the trace file's
// SHA-256 would need every byte, and a trace file of long traces is tens
// of gigabytes), and decodes of each only what an example needs;
// otherwise it reads, hashes and checks the whole trace file. Parquet is not
// written: JSON Lines is what both tools load directly, and a Parquet
// writer would be this module's largest dependency; convert with
// datasets' to_parquet if needed.
//
// The package is pure Go.
package filter
