#!/usr/bin/env python3
"""Checks reference.json against scikit-learn, for whoever has it.

reference.py writes its values from the definitions with the standard
library only; this script recomputes the classification metrics with
sklearn.metrics.precision_recall_fscore_support(labels=..., zero_division=0),
accuracy_score and confusion_matrix, the ROC-AUCs with roc_auc_score, and
auc_per_gene with the function of perturbqa/eval.py (genentech/PerturbQA)
as published, and exits non-zero on a difference above 1e-12. It was last
run with Debian bookworm's python3-sklearn 1.2.1 (numpy 1.24.2): all
checks passed.

Run with:  python3 testdata/sklearn_check.py testdata/reference.json
"""

import json
import sys
from collections import defaultdict

import numpy as np
from sklearn.metrics import (accuracy_score, confusion_matrix,
                             precision_recall_fscore_support, roc_auc_score)

TOL = 1e-12
failures = 0


def close(name, got, want):
    global failures
    if abs(got - want) > TOL:
        failures += 1
        print(f"FAIL {name}: sklearn {got!r}, reference {want!r}")


# --- perturbqa/eval.py, genentech/PerturbQA, as published -----------------
def get_group_to_idx(vals):
    group_to_idx = defaultdict(list)
    for i, v in enumerate(vals):
        group_to_idx[v].append(i)
    return dict(group_to_idx)


def auc_per_gene(keys, pred, true, reduce=True):
    if not isinstance(pred, np.ndarray):
        pred = np.array(pred)
    if not isinstance(true, np.ndarray):
        true = np.array(true)
    genes = [k[1] for k in keys]
    groups = get_group_to_idx(genes)
    metrics = []
    for group, idx in groups.items():
        ts = true[idx]
        ps = pred[idx]
        if sum(ts) == 0 or sum(ts) == len(ts):
            continue
        metrics.append(roc_auc_score(ts, ps))
    if reduce:
        metrics = np.mean(metrics).item()
    return metrics
# ---------------------------------------------------------------------------


def main(path):
    ref = json.load(open(path))
    labels = ref["labels"]
    for case in ref["classification"]:
        # An unparsed prediction is a value outside labels.
        pred = [p if p else "unparsed" for p in case["pred"]]
        gold = case["gold"]
        want = case["want"]
        p, r, f, s = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
        for i, m in enumerate(want["per_class"]):
            close(f"{case['name']} precision {m['label']}", p[i], m["precision"])
            close(f"{case['name']} recall {m['label']}", r[i], m["recall"])
            close(f"{case['name']} f1 {m['label']}", f[i], m["f1"])
            close(f"{case['name']} support {m['label']}", s[i], m["support"])
        for avg, key in [("macro", "macro_f1")]:
            got = precision_recall_fscore_support(gold, pred, labels=labels, average=avg, zero_division=0)[2]
            close(f"{case['name']} {key}", got, want[key])
        close(f"{case['name']} accuracy", accuracy_score(gold, pred), want["accuracy"])
        cm = confusion_matrix(gold, pred, labels=labels + ["unparsed"])
        for i in range(len(labels)):
            for j in range(len(labels) + 1):
                close(f"{case['name']} confusion {i},{j}", cm[i][j], want["confusion"][i][j])
    for i, case in enumerate(ref["auc"]):
        close(f"auc {i}", roc_auc_score(case["positive"], case["score"]), case["want"])
    for case in ref["auc_per_gene"]:
        keys = [("pert", g) for g in case["genes"]]
        got = auc_per_gene(keys, case["score"], [int(p) for p in case["positive"]])
        close(f"auc_per_gene {case['name']}", got, case["want"]["mean"])
    for case in ref["perturbqa"]:
        keys = [(i.split("/")[1], i.split("/", 1)[0] + "/" + i.split("/", 2)[2]) for i in case["ids"]]
        de_true = [0 if g == "none" else 1 for g in case["gold"]]
        close("perturbqa de", auc_per_gene(keys, case["de_scores"], de_true), case["de"]["mean"])
        sel = [i for i, g in enumerate(case["gold"]) if g != "none"]
        got = auc_per_gene([keys[i] for i in sel], [case["dir_scores"][i] for i in sel],
                           [1 if case["gold"][i] == "up" else 0 for i in sel])
        close("perturbqa direction", got, case["direction"]["mean"])
    if failures:
        sys.exit(f"{failures} checks failed")
    print("all checks passed")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "testdata/reference.json")
