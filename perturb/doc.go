// Package perturb is the PerturbQA task: does knocking down one gene by
// CRISPRi change the expression of another, and in which direction?
//
// # Task
//
// Each question names a cell line, a perturbed (knocked-down) gene and a
// gene whose expression is asked about, and has one of three classes:
//
//	up    differentially expressed, higher after the knockdown
//	down  differentially expressed, lower after the knockdown
//	none  not differentially expressed
//
// Classes returns them in that order, and these identifiers are what
// sampling.Item.Label, sampling.Answer.Class and files hold. Most questions
// are none (87% of k562's), which is why filtering per class matters.
// Task implements sampling.Task: its prompt asks for step-by-step
// reasoning inside <think>…</think> and the answer inside
// <answer>…</answer>, and Parse reads the answer forms models write.
//
// # Data
//
// PerturbQA (Wu et al., "Contextualizing biological perturbation
// experiments through language", ICLR 2025) publishes two CSV files per
// cell line, with columns pert,gene,label,split: {cell}-de.csv says whether
// gene is differentially expressed when pert is knocked down (1) or not
// (0), and {cell}-dir.csv gives, for exactly the differentially expressed
// pairs, the direction (1 up, 0 down). Load joins them into Questions;
// LoadItems and Items make sampling.Items with the ID "{cell}/{pert}/{gene}"
// and the Fields cell, pert, gene and split. The cell lines are k562, rpe1,
// hepg2 and jurkat, from Replogle et al. (2022) and Nadig et al. (2024), and
// k562_set, whose "genes" are the numbered programs of co-expressed genes of
// Replogle et al. ("6-dysregulated lncRNA/antisense transcripts"); its
// names contain spaces and sometimes '/', and it is mostly differentially
// expressed (54%). The split, train or test, is by perturbation: no test
// perturbation appears in train.
//
// Load reads a local directory holding the files as distributed. Fetch
// downloads them from the benchmark's repository (Upstream) into a cache,
// checking each against a pinned SHA-256 digest. Sample and Stratified pick
// a seeded subset that is the same on every machine.
//
// # Licence
//
// The PerturbQA labels are licensed CC BY 4.0
// (https://creativecommons.org/licenses/by/4.0/). Work built on them should
// cite:
//
//	Menghua Wu, Russell Littman, Jacob Levine, Lin Qiu, Tommaso Biancalani,
//	David Richmond, Jan-Christian Huetter. Contextualizing biological
//	perturbation experiments through language. ICLR 2025.
//	https://arxiv.org/abs/2502.21290
//
// This package holds no copy of the data; its tests read one from
// ../shared/perturbqa (or $LABELFREE_PERTURBQA) and skip without it.
package perturb
