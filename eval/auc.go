package eval

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/labelfree/labelfree/perturb"
	"github.com/labelfree/labelfree/uncertainty"
)

// GeneAUC is the result of AUCPerGene.
type GeneAUC struct {
	// Mean is the mean of the per-gene ROC-AUCs over Genes.
	Mean float64
	// Genes are the genes with both labels, in the order of their first
	// item.
	Genes []GeneScore
	// Skipped is the number of genes whose items all carry the same label.
	Skipped int
}

// GeneScore is the ROC-AUC of one gene.
type GeneScore struct {
	// Gene is the gene's key as given to AUCPerGene.
	Gene string
	// AUC is the ROC-AUC of the gene's items' scores against their labels.
	AUC float64
	// N is the number of the gene's items, Positive of those positive.
	N, Positive int
}

// AUCPerGene is PerturbQA's official metric auc_per_gene: the items
// (perturbation–gene pairs) are grouped by gene; for each gene the ROC-AUC
// of score as a detector of positive items is computed across that gene's
// perturbations; genes whose labels are all positive or all negative are
// skipped; the result is the unweighted mean over the remaining genes,
//
//	auc_per_gene = (1/|G|) Σ_{g∈G} AUC({score_i, positive_i : gene_i = g})
//
// with G the genes that have both labels. ROC-AUC counts tied scores one
// half, as sklearn's roc_auc_score does (uncertainty.ROCAUC). This follows
// auc_per_gene in perturbqa/eval.py of the PerturbQA repository
// (github.com/genentech/PerturbQA), which groups keys [(pert, gene), ...]
// by gene, skips a group when sum(true) is 0 or len(true), and returns
// np.mean of sklearn.metrics.roc_auc_score per group.
//
// gene[i] names item i's gene; items of different cell lines must not share
// a name (PerturbQA evaluates one cell line at a time; PerturbQAAUC keys
// genes by cell and gene). Where the official code returns NaN because
// every gene was skipped, this function returns ErrUndefined. Other errors:
// ErrEmpty, ErrInvalid for slices of different lengths and for a NaN score.
func AUCPerGene(gene []string, score []float64, positive []bool) (GeneAUC, error) {
	if len(gene) != len(score) || len(gene) != len(positive) {
		return GeneAUC{}, fmt.Errorf("%w: %d genes, %d scores, %d labels", ErrInvalid, len(gene), len(score), len(positive))
	}
	if len(gene) == 0 {
		return GeneAUC{}, ErrEmpty
	}
	for i, s := range score {
		if math.IsNaN(s) {
			return GeneAUC{}, fmt.Errorf("%w: score %d is NaN", ErrInvalid, i)
		}
	}
	// Group in order of first appearance, as the official get_group_to_idx.
	at := map[string]int{}
	var groups [][]int
	var names []string
	for i, g := range gene {
		k, ok := at[g]
		if !ok {
			k = len(groups)
			at[g] = k
			groups = append(groups, nil)
			names = append(names, g)
		}
		groups[k] = append(groups[k], i)
	}
	var r GeneAUC
	var s []float64
	var p []bool
	for k, idx := range groups {
		s, p = s[:0], p[:0]
		npos := 0
		for _, i := range idx {
			s = append(s, score[i])
			p = append(p, positive[i])
			if positive[i] {
				npos++
			}
		}
		if npos == 0 || npos == len(idx) {
			r.Skipped++
			continue
		}
		auc, err := uncertainty.ROCAUC(s, p)
		if err != nil { // cannot happen: both labels present, no NaN
			return GeneAUC{}, fmt.Errorf("eval: gene %q: %w", names[k], err)
		}
		r.Genes = append(r.Genes, GeneScore{Gene: names[k], AUC: auc, N: len(idx), Positive: npos})
		r.Mean += auc
	}
	if len(r.Genes) == 0 {
		return GeneAUC{}, fmt.Errorf("%w: auc_per_gene: all %d genes have a single label", ErrUndefined, r.Skipped)
	}
	r.Mean /= float64(len(r.Genes))
	return r, nil
}

// Votes counts the answers of one group's traces by class, the greedy
// trace r0 included; Votes[Unparsed] counts the traces whose answer could
// not be parsed.
type Votes map[string]int

// parsed returns the number of parsed answers.
func (v Votes) parsed() int {
	n := 0
	for c, k := range v {
		if c != Unparsed {
			n += k
		}
	}
	return n
}

// DEScore returns the score PerturbQA's differential-expression task ranks
// for a group of three-class answers: the share of the group's parsed
// answers that say differentially expressed,
//
//	P(DE) = (n_up + n_down) / (n_up + n_down + n_none)
//
// Unparsed traces carry no information and are left out; a group with no
// parsed answer scores 0.5. With the greedy answer only it is 1 or 0, and
// auc_per_gene is that of a hard prediction.
func DEScore(v Votes) float64 {
	n := v.parsed()
	if n == 0 {
		return 0.5
	}
	return float64(v[perturb.Up]+v[perturb.Down]) / float64(n)
}

// DirectionScore returns the score PerturbQA's direction task ranks for a
// group of three-class answers: the share of up among the answers that say
// differentially expressed,
//
//	P(up | DE) = n_up / (n_up + n_down)
//
// and 0.5, no information, when no answer says up or down.
func DirectionScore(v Votes) float64 {
	n := v[perturb.Up] + v[perturb.Down]
	if n == 0 {
		return 0.5
	}
	return float64(v[perturb.Up]) / float64(n)
}

// PerturbAUC is auc_per_gene on PerturbQA's two tasks.
type PerturbAUC struct {
	// DE is the differential-expression task over every item: positive
	// when the gold label is up or down, scored by DEScore.
	DE GeneAUC
	// Direction is the direction task over the items whose gold label is up
	// or down (the rows of {cell}-dir.csv): positive when it is up, scored
	// by DirectionScore.
	Direction GeneAUC
	// DEErr and DirectionErr are the errors of a task that could not be
	// scored (ErrUndefined when every gene was skipped), nil otherwise.
	DEErr, DirectionErr error
}

// PerturbQAAUC returns auc_per_gene on PerturbQA's two tasks for three-class
// answers. ids are PerturbQA item ids "{cell}/{pert}/{gene}" (a gene may
// contain '/', a cell and a perturbation may not), gold the gold classes
// (perturb.Up, perturb.Down or perturb.None) and votes each group's
// answers. Genes are told apart by cell line and name, so a file of
// several cell lines gives the mean over every (cell, gene) with both
// labels. A task every gene of which is skipped has its error in the
// result; errors returned are ErrEmpty, ErrInvalid for slices of different
// lengths or a malformed id, and a *LabelError for an unknown gold class.
func PerturbQAAUC(ids, gold []string, votes []Votes) (*PerturbAUC, error) {
	if len(ids) != len(gold) || len(ids) != len(votes) {
		return nil, fmt.Errorf("%w: %d ids, %d gold labels, %d votes", ErrInvalid, len(ids), len(gold), len(votes))
	}
	if len(ids) == 0 {
		return nil, ErrEmpty
	}
	var deGene, dirGene []string
	var deScore, dirScore []float64
	var dePos, dirPos []bool
	for i, id := range ids {
		cell, _, gene, err := SplitPerturbID(id)
		if err != nil {
			return nil, err
		}
		key := cell + "/" + gene
		g := gold[i]
		switch g {
		case perturb.Up, perturb.Down:
			dirGene = append(dirGene, key)
			dirScore = append(dirScore, DirectionScore(votes[i]))
			dirPos = append(dirPos, g == perturb.Up)
		case perturb.None:
		default:
			return nil, &LabelError{What: "gold label", Index: i, Label: g}
		}
		deGene = append(deGene, key)
		deScore = append(deScore, DEScore(votes[i]))
		dePos = append(dePos, g != perturb.None)
	}
	r := new(PerturbAUC)
	r.DE, r.DEErr = AUCPerGene(deGene, deScore, dePos)
	if len(dirGene) == 0 {
		r.DirectionErr = fmt.Errorf("%w: auc_per_gene: no differentially expressed item", ErrUndefined)
	} else {
		r.Direction, r.DirectionErr = AUCPerGene(dirGene, dirScore, dirPos)
	}
	for _, err := range []error{r.DEErr, r.DirectionErr} {
		if err != nil && !errors.Is(err, ErrUndefined) {
			return nil, err
		}
	}
	return r, nil
}

// SplitPerturbID splits a PerturbQA item id "{cell}/{pert}/{gene}" (see
// perturb.Question.ID). The gene is everything after the second '/', as
// k562_set's gene-set names may contain '/'. It returns ErrInvalid for an
// id with fewer than three non-empty parts.
func SplitPerturbID(id string) (cell, pert, gene string, err error) {
	parts := strings.SplitN(id, "/", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", fmt.Errorf("%w: id %q is not {cell}/{pert}/{gene}", ErrInvalid, id)
	}
	return parts[0], parts[1], parts[2], nil
}
