// Package annotate is the pure core of expert annotation: it draws the
// traces an expert reviews, stores the ratings, and measures agreement
// between annotators and how well each uncertainty estimator predicted the
// ratings.
//
// It imports only the standard library and the uncertainty package.
//
// # Sampling
//
// Draw picks n candidates (group id, r0's predicted class, the chosen
// estimator's uncertainty) stratified by predicted class and uncertainty
// quantile, as equally across strata as their sizes allow, and shuffles
// the sample so that its order hides the scores: annotators rate blind.
// A seed gives the same sample on every machine; Draw's doc comment states
// the allocation rule and the random number generator exactly.
//
// # Ratings
//
// A Rating is one annotator's judgement of one trace: whether the answer
// is correct, the soundness of the reasoning from MinSoundness (1) to
// MaxSoundness (5), a comment of at most MaxComment bytes, and the time it
// was given. Ratings live in append-only JSONL files, one per annotator
// ("<annotator>.jsonl", see FileName), one rating a line. A Writer syncs
// every line to disk before it reports the rating saved, so a crash loses
// at most the rating being written, which it never reported saved: Read
// reports such a torn last line without failing, and Create cuts it off
// before appending. Rating an item again appends a new line; Read and
// Latest keep the last rating of each (annotator, id), so a changed mind
// overrides. Resume finds where an annotator stopped.
//
// # Statistics
//
// Agreement between annotators: CohenKappa for two annotators' nominal
// judgements (correct or not), WeightedKappa for two annotators' ordinal
// soundness, KrippendorffAlpha for any number of annotators with missing
// ratings at the nominal, ordinal or interval level. Estimator against
// ratings: Spearman between uncertainty and soundness (expect it negative
// for a useful estimator: higher uncertainty, less sound) and UnsoundAUC,
// which wraps uncertainty.ROCAUC with "rated unsound" as the positive
// class.
//
// The statistics take plain slices. Degenerate input returns an error and
// never a NaN: ErrEmpty for no items, ErrInvalid for inconsistent input
// (slices of different lengths, a NaN where a value is needed),
// ErrNoPairs when no unit has two ratings, and ErrNoVariation when every
// value is the same, where the coefficients are 0/0.
//
// # The page and the report
//
// Package annotate/web is the rating page that "labelfree annotate
// serve" runs (loopback only by default, trace text escaped as untrusted
// HTML, ratings saved through a Writer on every click, resumed with the
// ratings file); "labelfree annotate report" writes the agreement and
// estimator-versus-rating tables and plots.
package annotate
