#!/usr/bin/env python3
"""Independent reference values for the eval package's tests.

Python 3 standard library only. Every metric is written out here from its
definition, not from the Go code:

- classification: the one-vs-rest counts of sklearn's
  precision_recall_fscore_support(y_true, y_pred, labels=LABELS,
  zero_division=0) and accuracy_score, a prediction outside LABELS (an
  unparsed answer, "") counting as wrong and as a false positive of no
  class; the macro mean is over every label of LABELS;
- ROC-AUC: by comparing every positive with every negative, ties counting
  one half (the definition, not the rank formula the Go code uses);
- auc_per_gene: transcribed from perturbqa/eval.py of the PerturbQA
  repository (github.com/genentech/PerturbQA): group by gene in order of
  first appearance, skip a group whose labels sum to 0 or to its size, mean
  of the per-group ROC-AUCs;
- P(DE) and P(up | DE) from vote counts, as eval.DEScore and
  eval.DirectionScore document them;
- reliability bins: sort by (value, tie-break, index), cut at
  floor(b*n/bins).

testdata/sklearn_check.py recomputes the classification and AUC values of
the output with scikit-learn, for whoever has it.

Regenerate with:  python3 testdata/reference.py > testdata/reference.json
"""

import json
import random

LABELS = ["up", "down", "none"]


def classification(pred, gold):
    per = []
    correct = sum(1 for p, g in zip(pred, gold) if p == g)
    for c in LABELS:
        tp = sum(1 for p, g in zip(pred, gold) if p == c and g == c)
        fp = sum(1 for p, g in zip(pred, gold) if p == c and g != c)
        fn = sum(1 for p, g in zip(pred, gold) if p != c and g == c)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else 0.0
        per.append({"label": c, "tp": tp, "support": tp + fn, "predicted": tp + fp,
                    "precision": precision, "recall": recall, "f1": f1})
    confusion = [[sum(1 for p, g in zip(pred, gold) if g == r and p == c) for c in LABELS + [""]]
                 for r in LABELS]
    k = len(LABELS)
    return {
        "per_class": per,
        "confusion": confusion,
        "accuracy": correct / len(gold),
        "macro_precision": sum(m["precision"] for m in per) / k,
        "macro_recall": sum(m["recall"] for m in per) / k,
        "macro_f1": sum(m["f1"] for m in per) / k,
        "unparsed": sum(1 for p in pred if p == ""),
    }


def roc_auc(score, positive):
    pos = [s for s, p in zip(score, positive) if p]
    neg = [s for s, p in zip(score, positive) if not p]
    wins = 0.0
    for a in pos:
        for b in neg:
            wins += 1.0 if a > b else 0.5 if a == b else 0.0
    return wins / (len(pos) * len(neg))


def auc_per_gene(genes, pred, true):
    groups = {}
    for i, g in enumerate(genes):  # dicts keep insertion order
        groups.setdefault(g, []).append(i)
    metrics, names, skipped = [], [], 0
    for g, idx in groups.items():
        ts = [true[i] for i in idx]
        ps = [pred[i] for i in idx]
        if sum(ts) == 0 or sum(ts) == len(ts):
            skipped += 1
            continue
        metrics.append(roc_auc(ps, ts))
        names.append(g)
    mean = sum(metrics) / len(metrics) if metrics else None
    return {"mean": mean, "genes": names, "aucs": metrics, "skipped": skipped}


def de_score(v):
    n = v.get("up", 0) + v.get("down", 0) + v.get("none", 0)
    return 0.5 if n == 0 else (v.get("up", 0) + v.get("down", 0)) / n


def dir_score(v):
    n = v.get("up", 0) + v.get("down", 0)
    return 0.5 if n == 0 else v.get("up", 0) / n


def reliability(values, ties, correct, bins):
    n = len(values)
    bins = min(bins, n)
    order = sorted(range(n), key=lambda i: (values[i], ties[i], i))
    out = []
    for b in range(bins):
        lo, hi = b * n // bins, (b + 1) * n // bins
        idx = order[lo:hi]
        c = sum(1 for i in idx if correct[i])
        out.append({"n": len(idx), "correct": c, "accuracy": c / len(idx),
                    "lo": values[idx[0]], "hi": values[idx[-1]]})
    return out


def main():
    rnd = random.Random(20251006)
    out = {"labels": LABELS, "classification": [], "auc": [], "auc_per_gene": [],
           "perturbqa": [], "reliability": []}

    # Classification: hand-sized cases, then random ones with unparsed
    # answers and, in one, a class that is neither predicted nor labelled.
    cases = [
        ("perfect", ["up", "down", "none"], ["up", "down", "none"]),
        ("all_unparsed", ["", "", ""], ["up", "none", "none"]),
        ("never_predicted_down", ["none", "none", "up", "none"], ["down", "none", "up", "down"]),
        ("down_absent", ["up", "none", "none", "", "up"], ["up", "none", "up", "none", "none"]),
    ]
    for i in range(4):
        n = rnd.randint(20, 60)
        gold = rnd.choices(LABELS, weights=[1, 1, 6], k=n)
        pred = [g if rnd.random() < 0.6 else rnd.choice(LABELS + [""]) for g in gold]
        cases.append((f"random{i}", pred, gold))
    for name, pred, gold in cases:
        out["classification"].append({"name": name, "pred": pred, "gold": gold,
                                      "want": classification(pred, gold)})

    # ROC-AUC with ties.
    for i in range(3):
        n = rnd.randint(8, 30)
        score = [float(rnd.randint(0, 5)) for _ in range(n)]
        positive = [rnd.random() < 0.4 for _ in range(n)]
        positive[0], positive[1] = True, False
        out["auc"].append({"score": score, "positive": positive, "want": roc_auc(score, positive)})

    # auc_per_gene: genes g3 (all negative) and g4 (all positive) are
    # skipped; g1 and g2 are scored; items interleave.
    genes = ["g1", "g2", "g3", "g1", "g4", "g2", "g1", "g3", "g2", "g4", "g1", "g2"]
    score = [0.9, 0.2, 0.5, 0.1, 0.7, 0.8, 0.6, 0.5, 0.3, 0.2, 0.6, 0.8]
    true = [1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1]
    out["auc_per_gene"].append({"name": "skipped_genes", "genes": genes, "score": score,
                                "positive": [t == 1 for t in true],
                                "want": auc_per_gene(genes, score, true)})
    genes, score, true = [], [], []
    for g in range(25):
        for p in range(rnd.randint(2, 12)):
            genes.append(f"gene{g}")
            score.append(rnd.choice([0.0, 0.25, 0.5, 0.75, 1.0, rnd.random()]))
            true.append(1 if rnd.random() < 0.3 else 0)
    order = list(range(len(genes)))
    rnd.shuffle(order)
    genes = [genes[i] for i in order]
    score = [score[i] for i in order]
    true = [true[i] for i in order]
    out["auc_per_gene"].append({"name": "random", "genes": genes, "score": score,
                                "positive": [t == 1 for t in true],
                                "want": auc_per_gene(genes, score, true)})

    # PerturbQA: votes of 1 + K = 5 traces per group, two cell lines sharing
    # gene names, some unparsed traces.
    ids, gold, votes = [], [], []
    for cell in ["k562", "rpe1"]:
        for p in range(4):
            for g in range(8):
                label = rnd.choices(LABELS, weights=[1, 1, 3])[0]
                v = {}
                for _ in range(5):
                    if rnd.random() < 0.1:
                        a = ""
                    elif rnd.random() < 0.3:
                        a = label
                    else:
                        a = rnd.choice(LABELS)
                    v[a] = v.get(a, 0) + 1
                ids.append(f"{cell}/P{p}/G{g}" if g != 7 else f"{cell}/P{p}/set/{g}")
                gold.append(label)
                votes.append(v)
    keys = [i.split("/", 1)[0] + "/" + i.split("/", 2)[2] for i in ids]
    de = auc_per_gene(keys, [de_score(v) for v in votes], [0 if g == "none" else 1 for g in gold])
    di = [(k, dir_score(v), 1 if g == "up" else 0) for k, v, g in zip(keys, votes, gold) if g != "none"]
    dr = auc_per_gene([d[0] for d in di], [d[1] for d in di], [d[2] for d in di])
    out["perturbqa"].append({"ids": ids, "gold": gold, "votes": votes,
                             "de_scores": [de_score(v) for v in votes],
                             "dir_scores": [dir_score(v) for v in votes],
                             "de": de, "direction": dr})

    # Reliability: values with ties, tie-breaks in half of them.
    for bins, n in [(10, 53), (10, 7), (4, 20)]:
        values = [float(rnd.randint(0, 9)) for _ in range(n)]
        ties = [float(rnd.randint(0, 2)) if rnd.random() < 0.5 else 0.0 for _ in range(n)]
        correct = [rnd.random() < 1 - values[i] / 12 for i in range(n)]
        out["reliability"].append({"bins": bins, "values": values, "ties": ties, "correct": correct,
                                   "want": reliability(values, ties, correct, bins)})

    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
