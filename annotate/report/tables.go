package report

import (
	"fmt"
	"strconv"
	"strings"
)

// tables returns the report's tables for a, in the order of the index.
func tables(a *Analysis) []*table {
	ts := []*table{annotatorTable(a), pairTable(a), alphaTable(a)}
	if a.Scores != nil {
		ts = append(ts, estimatorTable(a), quantileTable(a))
	}
	return append(ts, itemTable(a))
}

func annotatorTable(a *Analysis) *table {
	t := &table{
		name: "annotators", title: "Ratings per annotator",
		about: "How many items each annotator rated, how many answers they marked correct, their mean soundness " +
			"(1 = the reasoning does not hold, 5 = sound throughout) and how often they gave each soundness. " +
			"A very different mean or spread from the others can point to a different reading of the scale.",
		cols: []column{
			{"annotator", "annotator"}, {"items rated", "items"}, {"marked correct", "correct"},
			{"share correct", "share_correct"}, {"mean soundness", "mean_soundness"},
		},
	}
	for s := 1; s <= len(a.Annotators[0].Soundness); s++ {
		t.cols = append(t.cols, column{"soundness " + strconv.Itoa(s), "soundness_" + strconv.Itoa(s)})
	}
	for _, an := range a.Annotators {
		r := (&row{}).text(an.Name).int(an.Rated).int(an.Correct)
		if an.Rated == 0 {
			r.text("").text("")
		} else {
			r.num(float64(an.Correct) / float64(an.Rated)).num(an.MeanSoundness())
		}
		for _, n := range an.Soundness {
			r.int(n)
		}
		t.add(r)
	}
	return t
}

func pairTable(a *Analysis) *table {
	t := &table{
		name: "agreement_pairs", title: "Agreement between each pair of annotators",
		about: fmt.Sprintf("Over the items both annotators rated. \"Agree on correct\" is the share of items on which "+
			"they agree whether the answer is correct, and Cohen's kappa corrects it for chance: 1 is perfect agreement, "+
			"0 no better than two raters guessing with the same overall rates, below 0 worse than that "+
			"(a common reading: above 0.6 substantial, above 0.8 almost perfect). \"Same soundness\" is the share "+
			"of items given the same soundness; the weighted kappas count a near miss (4 against 5) as a partial "+
			"disagreement, linearly or by the squared difference (quadratic, which forgives near misses most). "+
			"A statistic is undefined over fewer than %d items, or when both annotators gave one and the same "+
			"value throughout (chance agreement is then perfect and kappa is 0/0).", a.Config.MinItems),
		cols: []column{
			{"annotator A", "annotator_a"}, {"annotator B", "annotator_b"}, {"items both rated", "items"},
			{"agree on correct", "correct_agreement"}, {"Cohen's kappa (correct)", "correct_kappa"},
			{"same soundness", "soundness_agreement"}, {"weighted kappa, linear (soundness)", "soundness_kappa_linear"},
			{"weighted kappa, quadratic (soundness)", "soundness_kappa_quadratic"}, whyColumn,
		},
	}
	for _, p := range a.Pairs {
		t.add((&row{}).text(p.A).text(p.B).int(p.N).
			stat("agree on correct", p.CorrectAgree).stat("kappa", p.CorrectKappa).
			stat("same soundness", p.SoundnessAgree).stat("linear", p.Linear).stat("quadratic", p.Quadratic))
	}
	return t
}

func alphaTable(a *Analysis) *table {
	t := &table{
		name: "agreement_all", title: "Agreement among all annotators (Krippendorff's alpha)",
		about: "Krippendorff's alpha uses every annotator at once and allows missing ratings: items rated by one " +
			"annotator only are left out, the others count whatever number of ratings they have. 1 is perfect " +
			"agreement, 0 agreement at chance, below 0 systematic disagreement (a common reading: above 0.8 reliable, " +
			"0.667 to 0.8 tentative). \"Correct\" is treated as a category (nominal); soundness as ordered (ordinal): " +
			"a 4 against a 5 is a smaller disagreement than a 1 against a 5, by how many ratings lie between them.",
		cols: []column{
			{"judgement", "judgement"}, {"level", "level"}, {"items rated", "items"},
			{"items rated by two or more", "pairable_items"}, {"ratings of those items", "pairable_values"},
			{"Krippendorff's alpha", "alpha"}, whyColumn,
		},
	}
	for _, x := range []struct {
		judgement, level string
		a                Alpha
	}{{"answer correct", "nominal", a.Correct}, {"soundness", "ordinal", a.Soundness}} {
		t.add((&row{}).text(x.judgement).text(x.level).int(x.a.Items).int(x.a.Pairable).int(x.a.Values).stat("alpha", x.a.Alpha))
	}
	return t
}

// consensus says, for tables and the index, how an item's ratings are
// combined.
func consensus(a *Analysis) string {
	return fmt.Sprintf("Each item counts once, with the mean soundness over its annotators and \"rated correct\" when "+
		"more than half of its annotators marked the answer correct (a tie, such as one of two, counts as not "+
		"correct); an item is \"unsound\" when its mean soundness is below %s.", num(a.Config.Sound))
}

func estimatorTable(a *Analysis) *table {
	t := &table{
		name: "estimators", title: "How well each uncertainty estimator predicts the ratings",
		about: "Over the rated items the estimator scored. " + consensus(a) + " Spearman's rho is the rank correlation " +
			"between the uncertainty and the mean soundness: a useful estimator gives a negative rho (more uncertain, " +
			"less sound), -1 at best. The ROC-AUCs are the probability that a randomly chosen unsound (or not correct) " +
			"item is more uncertain than a randomly chosen sound (or correct) one: 0.5 is chance, 1 perfect, below " +
			"0.5 backwards. \"Estimator failed\" counts rated items for which the estimator recorded an error " +
			"in the score file; rated items missing from the score file are counted in the index.",
		cols: []column{
			{"estimator", "estimator"}, {"items scored", "items"}, {"estimator failed", "failed"},
			{"Spearman's rho (uncertainty, soundness)", "spearman"},
			{"unsound items", "unsound"}, {"ROC-AUC for unsound", "roc_auc_unsound"},
			{"not correct items", "incorrect"}, {"ROC-AUC for not correct", "roc_auc_incorrect"}, whyColumn,
		},
	}
	for _, e := range a.Estimators {
		t.add((&row{}).text(e.Name).int(e.N).int(e.Failed).stat("rho", e.Spearman).
			int(e.Unsound).stat("AUC unsound", e.UnsoundAUC).int(e.Incorrect).stat("AUC not correct", e.IncorrectAUC))
	}
	return t
}

func quantileTable(a *Analysis) *table {
	t := &table{
		name: "quantiles", title: "Ratings by uncertainty quantile",
		about: fmt.Sprintf("For each estimator, the rated items it scored, sorted by uncertainty and cut into %d "+
			"groups of (nearly) equal size, 1 the least uncertain; items with equal uncertainty stay together, so "+
			"groups can differ in size and a group can be missing. %s For a useful estimator the mean soundness and "+
			"the share rated correct fall from the first group to the last.", a.Config.Quantiles, consensus(a)),
		cols: []column{
			{"estimator", "estimator"}, {"quantile", "quantile"}, {"items", "items"},
			{"lowest uncertainty", "min_uncertainty"}, {"highest uncertainty", "max_uncertainty"},
			{"mean soundness", "mean_soundness"}, {"rated correct", "correct"}, {"share rated correct", "share_correct"},
		},
	}
	for _, e := range a.Estimators {
		for _, q := range e.Quantiles {
			t.add((&row{}).text(e.Name).int(q.Quantile + 1).int(q.N).num(q.Lo).num(q.Hi).
				num(q.MeanSoundness).int(q.Correct).num(float64(q.Correct) / float64(q.N)))
		}
	}
	return t
}

func itemTable(a *Analysis) *table {
	t := &table{
		name: "items", title: "Every rated item",
		about: "One row per rated item: r0's answer class (\"unparsed\" when it could not be parsed) and the gold label from the score file (empty when the " +
			"item is missing from it), the consensus of the ratings, each estimator's uncertainty (\"failed\", empty in CSV, when " +
			"it recorded an error), each annotator's rating (soundness, and C for correct or I for incorrect) and " +
			"the annotators' comments.",
		cols: []column{
			{"id", "id"}, {"r0 answer", "class"}, {"gold label", "label"}, {"annotators", "annotators"},
			{"mean soundness", "mean_soundness"}, {"marked correct by", "correct_votes"}, {"rated correct", "rated_correct"},
		},
	}
	if a.Scores != nil {
		for _, e := range a.Scores.Estimators {
			t.cols = append(t.cols, column{"uncertainty " + e, "u_" + e})
		}
	}
	for _, an := range a.Annotators {
		t.cols = append(t.cols, column{an.Name, "rating_" + an.Name})
	}
	t.cols = append(t.cols, column{"comments", "comments"})
	for _, it := range a.Items {
		r := &row{}
		r.text(it.ID)
		switch {
		case it.Record != nil && !it.Record.OK:
			r.text("unparsed").text(it.Record.Label)
		case it.Record != nil:
			r.text(it.Record.Class).text(it.Record.Label)
		default:
			r.text("").text("")
		}
		r.int(len(it.Ratings)).num(it.MeanSoundness).int(it.CorrectVotes).text(yesNo(it.Correct()))
		if a.Scores != nil {
			for _, e := range a.Scores.Estimators {
				if it.Record == nil {
					r.text("")
				} else if s, err := it.Record.Score(e); err != nil {
					r.cells = append(r.cells, cell{"failed", ""})
				} else {
					r.num(s.Value)
				}
			}
		}
		var comments []string
		k := 0
		for _, an := range a.Annotators {
			if k == len(it.Ratings) || it.Ratings[k].Annotator != an.Name {
				r.text("")
				continue
			}
			rt := it.Ratings[k]
			k++
			verdict := "I"
			if rt.Correct {
				verdict = "C"
			}
			r.text(strconv.Itoa(rt.Soundness) + verdict)
			if rt.Comment != "" {
				comments = append(comments, rt.Annotator+": "+rt.Comment)
			}
		}
		t.add(r.text(strings.Join(comments, " / ")))
	}
	return t
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// num formats x for prose: the shortest decimal.
func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
