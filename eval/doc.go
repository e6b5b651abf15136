// Package eval measures what labels say about a labelfree dataset: how
// good the teacher's answers are, how well each uncertainty ranks them, and
// what per-class, global and random filtering keep (the analysis of
// Stoisser et al. 2025, arXiv 2510.05871). The subpackage report writes it
// all out as tables and plots.
//
// # Conventions
//
//   - Labels are strings over a fixed label set given in order (PerturbQA's
//     up, down, none by default). A prediction that could not be parsed is
//     Unparsed (""), as sampling.Answer.Class holds it: it is wrong, is no
//     class, and has its own column in the confusion matrix (rows are gold
//     labels, columns predictions).
//   - Ratios with a zero denominator are 0, sklearn's zero_division=0: a
//     class never predicted has precision 0, a class never labelled recall
//     0, a class absent from both F1 0, and macro means run over every
//     class of the label set, absent ones included. Classify's values are
//     those of sklearn's precision_recall_fscore_support(labels=...,
//     zero_division=0) and accuracy_score; the tests compare them with
//     values computed independently (testdata/reference.py) and checked
//     against scikit-learn (testdata/sklearn_check.py).
//   - The class of a group is r0's answer, never its label, as filtering
//     sees it; the quality of a group is whether r0's answer equals the
//     gold label (1) or not (0, an unparsed answer included).
//   - Uncertainties are uncertainty.Scores: higher is less trustworthy,
//     ties broken by the Tiebreak (uncertainty.Compare). The quality
//     metrics are those of the uncertainty package (PRR, NormalizedPRR,
//     ROCAUC, RiskCoverageAUC), applied to the scores' ranks.
//   - Selections are the filter package's: Analyze calls filter.Select
//     with filter.PerClass, filter.Global and filter.Random, so the curves
//     measure exactly what the filter stage does (its rounding ⌈q·n⌉ and
//     its order: score, tie-break, id).
//   - A metric the data leave undefined is an error (ErrUndefined) or an
//     undefined Number, never a NaN.
//
// # PerturbQA
//
// AUCPerGene is PerturbQA's official auc_per_gene (perturbqa/eval.py of
// github.com/genentech/PerturbQA): ROC-AUC per downstream gene across
// perturbations, genes whose labels are all one value skipped, then the
// mean over genes. For three-class answers PerturbQAAUC scores its two
// tasks from the answers of a group's traces (Votes): the DE task ranks
// P(DE), the share of parsed answers saying up or down; the direction task,
// over the gold up and down items only, ranks P(up | DE), the share of up
// among the answers saying up or down.
//
// # Concurrency
//
// Functions are safe for concurrent use; they do not retain their inputs
// except where a result documents it.
package eval
