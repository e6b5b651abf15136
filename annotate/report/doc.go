// Package report analyses expert ratings (package annotate) and writes
// them up as a directory a reader can browse: how far the annotators
// agree, and how well each uncertainty estimator of a score file
// (package score) predicted the ratings. It is the library behind
// "labelfree annotate report"; it lives apart from package annotate so
// that annotate stays free of gonum.org/v1/plot.
//
// # Steps
//
// ReadDir reads a ratings directory, one "<annotator>.jsonl" file per
// annotator as annotate.Writer writes them, keeping each annotator's last
// rating of each item; a torn last line is skipped and reported, a bad
// line is an error naming its file and line. Analyze is pure: from the
// ratings and a score file's header and records it computes an Analysis.
// Load does both. Write writes an Analysis.
//
// # What is computed
//
// Agreement, for each pair of annotators over the items both rated: the
// share of agreement and Cohen's kappa on whether the answer is correct,
// the share of equal soundness and the linear and quadratic weighted
// kappas of soundness. Over all annotators, items rated by one annotator
// left out: Krippendorff's alpha, nominal on "correct" (1 or 0) and
// ordinal on soundness.
//
// Estimator against ratings. The unit is the item, not the (annotator,
// item) pair, so that an item rated by three annotators weighs as much as
// one rated by two: an item's soundness is the mean over its annotators,
// and it is rated correct when a strict majority of them marked its
// answer correct (a tie counts as not correct: an answer one of two
// experts doubts is not one to trust). It is rated unsound when its mean
// soundness is below Config.Sound, 3 by default. Over the rated items the
// score file holds and the estimator scored, with u the estimator's
// uncertainty (Value; the Tiebreak is not used): Spearman's rho between u
// and mean soundness (negative for a useful estimator), the ROC-AUC of u
// for "unsound" and for "not rated correct" (uncertainty.ROCAUC: 0.5 is
// chance, 1 perfect), and the ratings by quantile of u (quartiles by
// default, cut as annotate.Stratify cuts them). Rated items missing from
// the score file (Analysis.Unscored) and those an estimator failed on
// (Estimator.Failed) are counted, not silently dropped.
//
// A statistic the data leave undefined is a Stat with an Err saying why:
// fewer than Config.MinItems items (ErrTooFew), no variation
// (annotate.ErrNoVariation: kappa and alpha are 0/0 when every rating is
// the same), no item rated twice (annotate.ErrNoPairs), or only one side
// of a ROC-AUC present (uncertainty.ErrUndefined). It is never a NaN, and
// no overlap between annotators is not an error: the report still relates
// the estimators to the ratings.
//
// # Layout
//
//	index.md                              what was rated, headline numbers, every table and plot explained
//	tables/annotators.{md,csv}            per annotator: items, share correct, mean soundness, soundness counts
//	tables/agreement_pairs.{md,csv}       per pair of annotators: agreement shares and kappas
//	tables/agreement_all.{md,csv}         Krippendorff's alpha over all annotators
//	tables/estimators.{md,csv}            per estimator: Spearman's rho, ROC-AUCs (with a score file)
//	tables/quantiles.{md,csv}             ratings by uncertainty quantile, per estimator (with a score file)
//	tables/items.{md,csv}                 every rated item: consensus, uncertainties, ratings, comments
//	plots/soundness-annotators.{png,svg}  how each annotator used the soundness scale
//	plots/estimators.{png,svg}            Spearman's rho and ROC-AUCs per estimator (with a score file)
//	plots/quantiles-<est>.{png,svg}       mean soundness and share correct by quantile of each estimator
//
// Comments and ids are untrusted text: Markdown cells escape HTML and
// Markdown syntax, CSV quotes them as RFC 4180 says.
//
// # Determinism
//
// The same Analysis and Options give the same bytes in every file: tables
// in a fixed order with fixed number formats (CSV: the shortest decimal
// that reads back as the same float64; Markdown: four digits after the
// point), and plots without time stamps (SVG names its fonts and embeds
// none).
package report
