#!/usr/bin/env python3
"""Expected numbers of the fixture, computed independently of the Go code.

Standard library only. From annotate/report:

    python3 testdata/expected.py > testdata/expected.json

It reads the fixture itself (testdata/ratings/*.jsonl, testdata/scores.jsonl)
with the json module and follows the definitions in annotate/report/doc.go:

  * ratings: the last line of each (annotator, id) counts; a last line
    without a newline is torn and skipped;
  * an item's soundness is the mean over its annotators; it is rated correct
    when more than half of its annotators marked it correct; it is unsound
    when its mean soundness is below SOUND = 3;
  * statistics over fewer than MIN_ITEMS = 3 items are undefined (null here);
  * kappa, Krippendorff's alpha and Spearman are those of
    annotate/testdata/agreement.py (kappa and alpha from their definitions
    over explicit pairs, checked there against published examples);
  * ROC-AUC is computed from its definition, the share of (positive,
    negative) pairs in which the positive item is more uncertain, ties
    counting one half (the Go code uses ranks, the Mann-Whitney form);
  * quantiles: items sorted by (u, id); the run of equal u starting at
    0-based position i falls in quantile floor(QUANTILES * i / n).
"""
import glob
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "testdata"))
from agreement import alpha, kappa, linear_w, nominal_w, quadratic_w, spearman  # noqa: E402

SOUND = 3
MIN_ITEMS = 3
QUANTILES = 4


def read_ratings(path):
    text = open(path, encoding="utf-8").read()
    lines = text.split("\n")
    torn = lines[-1] != ""  # text after the last newline
    latest = {}
    for line in lines[:-1]:
        r = json.loads(line)
        latest[r["id"]] = r  # a later line overrides
    return latest, torn


def auc(u, positive):
    pos = [x for x, p in zip(u, positive) if p]
    neg = [x for x, p in zip(u, positive) if not p]
    if not pos or not neg:
        return None
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in pos for b in neg)
    return wins / (len(pos) * len(neg))


def defined(n, f):
    return f() if n >= MIN_ITEMS else None


def main():
    ratings = {}  # annotator -> id -> rating
    torn = []
    for path in sorted(glob.glob(os.path.join(HERE, "ratings", "*.jsonl"))):
        name = os.path.basename(path)[: -len(".jsonl")]
        ratings[name], t = read_ratings(path)
        if t:
            torn.append(name)
    names = sorted(ratings)
    ids = sorted({i for r in ratings.values() for i in r})

    out = {"torn": torn, "items": len(ids)}
    out["annotators"] = []
    for a in names:
        rs = list(ratings[a].values())
        out["annotators"].append({
            "name": a,
            "rated": len(rs),
            "correct": sum(r["correct"] for r in rs),
            "mean_soundness": sum(r["soundness"] for r in rs) / len(rs),
            "soundness": [sum(r["soundness"] == s for r in rs) for s in range(1, 6)],
        })

    out["pairs"] = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            both = [x for x in ids if x in ratings[a] and x in ratings[b]]
            ca = [ratings[a][x]["correct"] for x in both]
            cb = [ratings[b][x]["correct"] for x in both]
            sa = [ratings[a][x]["soundness"] for x in both]
            sb = [ratings[b][x]["soundness"] for x in both]
            n = len(both)
            out["pairs"].append({
                "a": a, "b": b, "n": n,
                "correct_agreement": defined(n, lambda: sum(x == y for x, y in zip(ca, cb)) / n),
                "correct_kappa": defined(n, lambda: kappa(ca, cb, nominal_w)),
                "soundness_agreement": defined(n, lambda: sum(x == y for x, y in zip(sa, sb)) / n),
                "linear": defined(n, lambda: kappa(sa, sb, linear_w)),
                "quadratic": defined(n, lambda: kappa(sa, sb, quadratic_w)),
            })

    nan = float("nan")
    rows_c = [[float(ratings[a][x]["correct"]) if x in ratings[a] else nan for a in names] for x in ids]
    rows_s = [[float(ratings[a][x]["soundness"]) if x in ratings[a] else nan for a in names] for x in ids]
    pairable = [row for row in rows_s if sum(not math.isnan(v) for v in row) >= 2]
    values = sum(sum(not math.isnan(v) for v in row) for row in pairable)
    out["alpha"] = {
        "items": len(ids), "pairable": len(pairable), "values": values,
        "correct": defined(len(pairable), lambda: alpha(rows_c, "nominal")),
        "soundness": defined(len(pairable), lambda: alpha(rows_s, "ordinal")),
    }

    # Items: mean soundness and majority verdict.
    item = {}
    for x in ids:
        rs = [ratings[a][x] for a in names if x in ratings[a]]
        item[x] = {
            "mean": sum(r["soundness"] for r in rs) / len(rs),
            "correct": 2 * sum(r["correct"] for r in rs) > len(rs),
        }

    lines = open(os.path.join(HERE, "scores.jsonl"), encoding="utf-8").read().splitlines()
    header = json.loads(lines[0])
    records = {r["id"]: r for r in map(json.loads, lines[1:])}
    out["unscored"] = [x for x in ids if x not in records]
    out["estimators"] = []
    for e in header["estimators"]:
        scored = [x for x in ids if x in records and e in records[x]["scores"]]
        failed = [x for x in ids if x in records and e in records[x].get("errors", {})]
        u = [records[x]["scores"][e]["u"] for x in scored]
        mean = [item[x]["mean"] for x in scored]
        unsound = [item[x]["mean"] < SOUND for x in scored]
        incorrect = [not item[x]["correct"] for x in scored]
        n = len(scored)
        est = {
            "name": e, "n": n, "failed": len(failed),
            "spearman": defined(n, lambda: spearman(u, mean)),
            "unsound": sum(unsound), "auc_unsound": defined(n, lambda: auc(u, unsound)),
            "incorrect": sum(incorrect), "auc_incorrect": defined(n, lambda: auc(u, incorrect)),
            "quantiles": [],
        }
        order = sorted(zip(u, scored))
        groups = {}
        i = 0
        while i < n:
            j = i
            while j < n and order[j][0] == order[i][0]:
                groups.setdefault(QUANTILES * i // n, []).append(order[j])
                j += 1
            i = j
        for q in sorted(groups):
            g = groups[q]
            est["quantiles"].append({
                "quantile": q, "n": len(g),
                "lo": min(v for v, _ in g), "hi": max(v for v, _ in g),
                "mean_soundness": sum(item[x]["mean"] for _, x in g) / len(g),
                "correct": sum(item[x]["correct"] for _, x in g),
                "ids": sorted(x for _, x in g),
            })
        out["estimators"].append(est)

    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
