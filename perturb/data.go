package perturb

import (
	"fmt"
	"slices"
	"strings"

	"github.com/labelfree/labelfree/sampling"
)

// Cell lines (dataset names) of PerturbQA. K562Set asks about gene sets
// (expression programs) rather than single genes: see the package doc.
const (
	K562    = "k562"
	RPE1    = "rpe1"
	HepG2   = "hepg2"
	Jurkat  = "jurkat"
	K562Set = "k562_set"
)

// Cells returns the PerturbQA datasets in a fixed order.
func Cells() []string { return []string{K562, RPE1, HepG2, Jurkat, K562Set} }

// The three classes, as written in Item.Label, Answer.Class and files.
const (
	Up   = "up"   // differentially expressed, higher after the knockdown
	Down = "down" // differentially expressed, lower after the knockdown
	None = "none" // not differentially expressed
)

// Classes returns Up, Down and None, in that order.
func Classes() []string { return []string{Up, Down, None} }

// The splits of PerturbQA, by perturbation: a test perturbation never
// appears in train.
const (
	Train = "train"
	Test  = "test"
)

// Keys of sampling.Item.Fields.
const (
	FieldCell  = "cell"
	FieldPert  = "pert"
	FieldGene  = "gene"
	FieldSplit = "split"
)

// Question is one PerturbQA question: how does knocking down Pert in Cell
// change the expression of Gene?
type Question struct {
	Cell  string // one of Cells
	Pert  string // the perturbed (knocked-down) gene
	Gene  string // the gene, or for K562Set the gene set, asked about
	Split string // Train or Test
	Class string // the label: Up, Down or None
}

// ID returns "{cell}/{pert}/{gene}", the question's stable identifier.
// Cell and pert never contain '/', gene may (some K562Set gene set names
// do), so an ID splits back with strings.SplitN(id, "/", 3).
func (q Question) ID() string { return q.Cell + "/" + q.Pert + "/" + q.Gene }

// Item returns q as a sampling item: its ID, Label q.Class and Fields
// cell, pert, gene and split.
func (q Question) Item() sampling.Item {
	return sampling.Item{
		ID:    q.ID(),
		Label: q.Class,
		Fields: map[string]string{
			FieldCell:  q.Cell,
			FieldPert:  q.Pert,
			FieldGene:  q.Gene,
			FieldSplit: q.Split,
		},
	}
}

// Items returns the sampling items of qs, in order. Each item has its own
// Fields map (about 400 bytes), so choose questions (Sample, Stratified)
// before converting them.
func Items(qs []Question) []sampling.Item {
	items := make([]sampling.Item, len(qs))
	for i, q := range qs {
		items[i] = q.Item()
	}
	return items
}

// cellNames describes each cell line in prompts.
var cellNames = map[string]string{
	K562:    "K562 cells (chronic myelogenous leukemia)",
	RPE1:    "RPE1 cells (hTERT-immortalized retinal pigment epithelium)",
	HepG2:   "HepG2 cells (hepatocellular carcinoma)",
	Jurkat:  "Jurkat cells (acute T-cell leukemia)",
	K562Set: "K562 cells (chronic myelogenous leukemia)",
}

// checkCell returns an error unless cell is one of Cells.
func checkCell(cell string) error {
	if !slices.Contains(Cells(), cell) {
		return fmt.Errorf("perturb: %w %q (want one of %s)", ErrUnknownCell, cell, strings.Join(Cells(), ", "))
	}
	return nil
}

// checkSplit returns an error unless split is Train, Test or "" (all).
func checkSplit(split string) error {
	if split != "" && split != Train && split != Test {
		return fmt.Errorf("perturb: %w %q (want %q, %q or \"\" for both)", ErrSplit, split, Train, Test)
	}
	return nil
}
