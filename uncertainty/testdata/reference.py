#!/usr/bin/env python3
"""Independent reference values for the uncertainty package's tests.

Python 3 standard library only (no numpy): the eigen-decompositions use a
cyclic Jacobi method written here. Every formula is written out from its
definition or, where the test says so, transcribed from LM-Polygraph's
estimator and ue_metric sources (github.com/IINemo/lm-polygraph,
src/lm_polygraph/estimators/{deg_mat,eig_val_laplacian,eccentricity,
lexical_similarity,cocoa,perplexity,max_probability,semantic_entropy}.py and
src/lm_polygraph/ue_metrics/{pred_rej_area,risk_cov_curve,ue_metric}.py),
not from the Go code.

Regenerate with:  python3 testdata/reference.py > testdata/reference.json
"""

import itertools
import json
import math


# ---------------------------------------------------------------- linear algebra

def jacobi_eigh(a, sweeps=100):
    """Eigenvalues (ascending) and eigenvectors (columns) of symmetric a."""
    n = len(a)
    a = [row[:] for row in a]
    v = [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]
    for _ in range(sweeps):
        off = sum(a[i][j] ** 2 for i in range(n) for j in range(i + 1, n))
        if off < 1e-32:
            break
        for p in range(n):
            for q in range(p + 1, n):
                if abs(a[p][q]) < 1e-300:
                    continue
                theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
                t = (1.0 if theta >= 0 else -1.0) / (abs(theta) + math.sqrt(theta * theta + 1))
                c = 1 / math.sqrt(t * t + 1)
                s = t * c
                for k in range(n):
                    akp, akq = a[k][p], a[k][q]
                    a[k][p], a[k][q] = c * akp - s * akq, s * akp + c * akq
                for k in range(n):
                    apk, aqk = a[p][k], a[q][k]
                    a[p][k], a[q][k] = c * apk - s * aqk, s * apk + c * aqk
                for k in range(n):
                    vkp, vkq = v[k][p], v[k][q]
                    v[k][p], v[k][q] = c * vkp - s * vkq, s * vkp + c * vkq
    vals = [a[i][i] for i in range(n)]
    order = sorted(range(n), key=lambda i: vals[i])
    vals = [vals[i] for i in order]
    vecs = [[v[k][i] for i in order] for k in range(n)]
    return vals, vecs


def check_eigh(m, vals, vecs):
    n = len(m)
    for j in range(n):
        for i in range(n):
            mv = sum(m[i][k] * vecs[k][j] for k in range(n))
            assert abs(mv - vals[j] * vecs[i][j]) < 1e-12, "Jacobi did not converge"


def norm_laplacian(w):
    """L = I - D^-1/2 W D^-1/2, as LM-Polygraph's EigValLaplacian builds it."""
    n = len(w)
    d = [sum(w[i]) for i in range(n)]
    return [[(1.0 if i == j else 0.0) - w[i][j] / math.sqrt(d[i] * d[j]) for j in range(n)] for i in range(n)]


# ------------------------------------------------------- LM-Polygraph estimators

def degmat(w):
    # deg_mat.py: D = diag(W.sum(axis=1)); trace(len(answers) - D) / len(answers)**2
    m = len(w)
    d = [sum(row) for row in w]
    return sum(m - d[i] for i in range(m)) / m ** 2


def eigval_laplacian(w):
    # eig_val_laplacian.py: sum(max(0, 1 - lambda_k) for lambda_k in eig(L))
    l = norm_laplacian(w)
    vals, vecs = jacobi_eigh(l)
    check_eigh(l, vals, vecs)
    return sum(max(0.0, 1 - x) for x in vals)


def eccentricity(w, thres=0.9):
    # eccentricity.py: eigh(L); keep eigenvalues < thres; for each kept
    # eigenvector x: norm(x - x.mean()); U = norm of those norms.
    l = norm_laplacian(w)
    vals, vecs = jacobi_eigh(l)
    check_eigh(l, vals, vecs)
    m = len(w)
    norms = []
    for k, lam in enumerate(vals):
        assert abs(lam - thres) > 1e-6, "eigenvalue too close to the threshold for a stable reference"
        if lam < thres:
            x = [vecs[i][k] for i in range(m)]
            mu = sum(x) / m
            norms.append(math.sqrt(sum((xi - mu) ** 2 for xi in x)))
    return math.sqrt(sum(c * c for c in norms))


def mean_pairwise(w):
    # lexical_similarity.py: mean over i < j of the similarity (it reports -mean)
    m = len(w)
    sims = [w[i][j] for i in range(m) for j in range(i + 1, m)]
    return sum(sims) / len(sims)


def logaddexp_reduce(xs):
    mx = max(xs)
    return mx + math.log(sum(math.exp(x - mx) for x in xs))


def semantic_entropy_mc(classes, lps):
    # semantic_entropy.py batched_call: class_lp = logaddexp.reduce of the
    # class's log-likelihoods; SE = -mean_j class_lp[class(j)].
    cls = unique_unparsed(classes)
    class_lp = {c: logaddexp_reduce([lp for lp, d in zip(lps, cls) if d == c]) for c in set(cls)}
    return -sum(class_lp[c] for c in cls) / len(cls)


# ------------------------------------------------------------ other definitions

def unique_unparsed(classes):
    """Give every unparsed answer (None or negative) a class of its own."""
    out = []
    for i, c in enumerate(classes):
        out.append(("unparsed", i) if c is None or (isinstance(c, int) and c < 0) else c)
    return out


def semantic_entropy(classes, logw=None):
    cls = unique_unparsed(classes)
    if logw is None:
        logw = [0.0] * len(cls)
    top = max(logw)  # shift by the largest: exp(-850) underflows to 0
    ws = [math.exp(x - top) for x in logw]
    total = sum(ws)
    mass = {}
    for c, wt in zip(cls, ws):
        mass[c] = mass.get(c, 0.0) + wt
    return -sum(p / total * math.log(p / total) for p in mass.values() if p > 0)


def lcs_dp(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def rouge_l(a, b):
    # rouge_score's _score_lcs: 0 if either is empty; else P, R, F = 2PR/(P+R)
    if not a or not b:
        return 0.0
    l = lcs_dp(a, b)
    p, r = l / len(b), l / len(a)
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def jaccard(a, b):
    sa, sb = set(a), set(b)
    u = sa | sb
    return 0.0 if not u else len(sa & sb) / len(u)


def prr_lmpolygraph(u, q):
    # pred_rej_area.py (ac173f3): argsort(u) ascending, cumsum / arange,
    # reversed, sum / n. Valid as is only without ties.
    n = len(u)
    order = sorted(range(n), key=lambda i: u[i])
    cum, scores = 0.0, []
    for k, i in enumerate(order, 1):
        cum += q[i]
        scores.append(cum / k)
    return sum(scores[::-1]) / n


def rcauc_lmpolygraph(u, q):
    # risk_cov_curve.py (c0329231): sort by estimator ascending, risk = 1 - q,
    # cumulative risk / arange, mean.
    n = len(u)
    pairs = sorted(zip(u, [1 - x for x in q]), key=lambda p: p[0])
    cum, out = 0.0, []
    for k, (_, r) in enumerate(pairs, 1):
        cum += r
        out.append(cum / k)
    return sum(out) / n


def over_tie_orders(f, u, q):
    """Mean of f over every order of the items that sorts u ascending: the
    expectation over how ties are broken. Brute force over permutations."""
    n = len(u)
    vals = []
    for perm in itertools.permutations(range(n)):
        if all(u[perm[i]] <= u[perm[i + 1]] for i in range(n - 1)):
            # distinct increasing keys that realise this order
            keys = [0.0] * n
            for rank, i in enumerate(perm):
                keys[i] = float(rank)
            vals.append(f(keys, q))
    return sum(vals) / len(vals)


def mean_over_all_orders(f, q):
    n = len(q)
    vals = []
    for perm in itertools.permutations(range(n)):
        keys = [0.0] * n
        for rank, i in enumerate(perm):
            keys[i] = float(rank)
        vals.append(f(keys, q))
    return sum(vals) / len(vals)


def roc_auc_pairs(score, positive):
    pos = [s for s, p in zip(score, positive) if p]
    neg = [s for s, p in zip(score, positive) if not p]
    tot = 0.0
    for a in pos:
        for b in neg:
            tot += 1.0 if a > b else 0.5 if a == b else 0.0
    return tot / (len(pos) * len(neg))


def retention(u, pred, gold, fractions):
    n = len(u)
    order = sorted(range(n), key=lambda i: u[i])
    out = []
    for f in fractions:
        k = max(1, math.ceil(round(f * n, 9)))
        while k < n and u[order[k]] == u[order[k - 1]]:
            k += 1
        keep = order[:k]
        acc = sum(pred[i] == gold[i] for i in keep) / k
        labels = {pred[i] for i in keep} | {gold[i] for i in keep}
        f1s = []
        for lab in labels:
            tp = sum(pred[i] == lab and gold[i] == lab for i in keep)
            fp = sum(pred[i] == lab and gold[i] != lab for i in keep)
            fn = sum(pred[i] != lab and gold[i] == lab for i in keep)
            f1s.append(2 * tp / (2 * tp + fp + fn))
        out.append({"fraction": f, "n": k, "threshold": u[order[k - 1]],
                    "accuracy": acc, "macro_f1": sum(f1s) / len(f1s)})
    return out


def split_reasoning(tokens, open_="<think>", close="</think>"):
    starts, off = [], 0
    for t in tokens:
        starts.append(off)
        off += len(t.encode())
    ends = [s + len(t.encode()) for s, t in zip(starts, tokens)]
    text = "".join(tokens).encode()
    n = len(tokens)
    ci = text.find(close.encode())
    oi = text.find(open_.encode(), 0, ci if ci >= 0 else len(text))
    start = 0
    if oi >= 0:
        start = next((i for i in range(n) if starts[i] >= oi + len(open_.encode())), n)
    if ci < 0:
        return [start, n], [n, n], False
    end = start
    while end < n and ends[end] <= ci:
        end += 1
    a = next((i for i in range(n) if starts[i] >= ci + len(close.encode())), n)
    return [start, end], [a, n], True


# ------------------------------------------------------------------ test cases

def info_cases():
    cases = []
    for name, lps, hs in [
        ("three tokens", [-0.1, -2.0, -0.5], [0.3, 1.2, 0.9]),
        ("one certain token", [0.0], [0.0]),
        ("five tokens", [-1e-3, -0.69314718, -3.2, -0.05, -1.5], [0.01, 0.7, 2.5, 0.2, 1.1]),
    ]:
        msp = -sum(lps)
        cases.append({"name": name, "log_probs": lps, "entropies": hs, "msp": msp,
                      "log_perplexity": msp / len(lps), "perplexity": math.exp(msp / len(lps)),
                      "mte": sum(hs) / len(hs), "max_entropy": max(hs)})
    return cases


def lexical_cases():
    pairs = [
        ("identical", "a b c d".split(), "a b c d".split()),
        ("classic", "the cat sat on the mat".split(), "the cat lay on a mat".split()),
        ("disjoint", "x y".split(), "p q r".split()),
        ("one empty", [], "p q".split()),
        ("both empty", [], []),
        ("repeats", "a a b a b b a".split(), "b a a b a".split()),
        ("reordered", "up down none up".split(), "none up up down down".split()),
    ]
    return [{"name": n, "a": a, "b": b, "lcs": lcs_dp(a, b), "rouge_l": rouge_l(a, b), "jaccard": jaccard(a, b)}
            for n, a, b in pairs]


def graph_cases():
    cases = []

    def add(name, w):
        m = len(w)
        c = {"name": name, "w": w, "degmat": degmat(w), "eigval_laplacian": eigval_laplacian(w),
             "eccentricity": eccentricity(w)}
        if m >= 2:
            c["lexical_similarity"] = mean_pairwise(w)
        cases.append(c)

    def answer_matrix(classes):
        return [[1.0 if i == j or (a is not None and a == b) else 0.0 for j, b in enumerate(classes)]
                for i, a in enumerate(classes)]

    add("answers up up down", answer_matrix(["up", "up", "down"]))
    add("answers all agree", answer_matrix(["up"] * 4))
    add("answers all differ", answer_matrix(["a", "b", "c", "d"]))
    add("answers with unparsed", answer_matrix(["up", None, "up", "down", None]))
    add("one trace", [[1.0]])
    texts = ["the gene is up", "the gene is down", "gene is up regulated", "no change at all"]
    words = [t.lower().split() for t in texts]
    # LM-Polygraph common.py _compute_Jaccard_score: eye, then pairwise Jaccard of lower().split()
    jw = [[1.0 if i == j else jaccard(words[i], words[j]) for j in range(4)] for i in range(4)]
    add("jaccard of four texts", jw)
    add("dense fractional", [[1.0, 0.8, 0.3], [0.8, 1.0, 0.45], [0.3, 0.45, 1.0]])
    # Not positive semi-definite (a~b, b~c, a!~c): the Laplacian has an
    # eigenvalue above 1, which max(0, 1 - lambda) must drop.
    add("non-transitive", [[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]])
    add("fractional chain", [[1.0, 0.9, 0.05, 0.0], [0.9, 1.0, 0.9, 0.1], [0.05, 0.9, 1.0, 0.7], [0.0, 0.1, 0.7, 1.0]])
    return cases


def consistency_cases():
    cases = []
    for name, r0, samples in [
        ("all agree", 0, [0, 0, 0, 0]),
        ("half", 0, [0, 1, 0, 1]),
        ("majority not r0", 0, [1, 1, 0, 2, -1]),
        ("tie prefers r0", 2, [1, 2, 1, 2]),
        ("tie without r0 takes smallest", 0, [3, 1, 3, 1]),
        ("all unparsed", 0, [-1, -1]),
    ]:
        agree = sum(1 for c in samples if c == r0) / len(samples)
        counts = {}
        for c in samples:
            if c >= 0:
                counts[c] = counts.get(c, 0) + 1
        if counts:
            top = max(counts.values())
            tied = sorted(c for c, n in counts.items() if n == top)
            maj = r0 if r0 in tied else tied[0]
            share = top / len(samples)
        else:
            maj, share = -1, 0.0
        cases.append({"name": name, "r0": r0, "samples": samples, "agreement": agree,
                      "majority": maj, "share": share})
    return cases


def semantic_cases():
    cases = []
    for name, classes, lps in [
        ("two classes", [0, 0, 1, 0], [-1.0, -2.0, -0.5, -3.0]),
        ("one class", [4, 4, 4], [-0.2, -0.4, -0.9]),
        ("unparsed are singletons", [0, -1, 0, -1, 1], [-1.5, -0.3, -2.2, -0.7, -1.1]),
        ("single trace", [2], [-0.6]),
        ("long sequences", [0, 1, 1, 2], [-850.0, -900.0, -870.0, -1200.0]),
    ]:
        cases.append({"name": name, "classes": classes, "log_weights": lps,
                      "frequency": semantic_entropy(classes),
                      "weighted": semantic_entropy(classes, lps),
                      "mc": semantic_entropy_mc(classes, lps),
                      "num_sem_sets": len(set(unique_unparsed(classes)))})
    return cases


def cocoa_cases():
    cases = []
    for name, lps, hs, sims in [
        ("answer match", [-0.2, -1.0, -0.3], [0.5, 1.5, 0.4], [1, 0, 1, 1]),
        ("all match", [-0.2, -1.0, -0.3], [0.5, 1.5, 0.4], [1, 1, 1]),
        ("fractional", [-2.5, -0.01], [2.0, 0.05], [0.25, 0.5, 0.9]),
    ]:
        dis = sum(1 - s for s in sims) / len(sims)  # np.mean(1 - greedy_sentence_similarity)
        cases.append({"name": name, "log_probs": lps, "entropies": hs, "sims": sims,
                      "msp": -sum(lps) * dis,                     # CocoaMSP: -sum(ll) * dis
                      "ppl": -(sum(lps) / len(lps)) * dis,        # CocoaPPL: -mean(ll) * dis
                      "mte": (sum(hs) / len(hs)) * dis})          # CocoaMTE: mean(entropy) * dis
    return cases


def metric_cases():
    cases = []
    for name, u, q in [
        ("no ties", [0.1, 0.9, 0.3, 0.7, 0.5, 0.2], [1, 0, 1, 0, 1, 0]),
        ("oracle", [0.0, 1.0, 0.5, 0.2], [1, 0, 0, 1]),
        ("ties", [0.2, 0.2, 0.5, 0.5, 0.5, 0.9], [1, 0, 1, 1, 0, 0]),
        ("graded quality", [3.0, 1.0, 2.0, 5.0, 4.0], [0.2, 0.9, 0.5, 0.0, 0.7]),
        ("all tied", [1.0, 1.0, 1.0, 1.0], [1, 0, 0, 1]),
    ]:
        q = [float(x) for x in q]
        ties = len(set(u)) < len(u)
        prr = over_tie_orders(prr_lmpolygraph, u, q) if ties else prr_lmpolygraph(u, q)
        rc = over_tie_orders(rcauc_lmpolygraph, u, q) if ties else rcauc_lmpolygraph(u, q)
        random = mean_over_all_orders(prr_lmpolygraph, q)   # exact expectation over shuffles
        oracle = prr_lmpolygraph([-x for x in q], q)        # LM-Polygraph: metric(-target, target)
        cases.append({"name": name, "u": u, "q": q, "prr": prr, "random": random, "oracle": oracle,
                      "normalized_prr": (prr - random) / (oracle - random), "rc_auc": rc,
                      "roc_auc_wrong": roc_auc_pairs(u, [x < 0.5 for x in q])})
    return cases


def retention_cases():
    u = [0.1, 0.4, 0.4, 0.2, 0.9, 0.6, 0.05, 0.4, 0.8, 0.3]
    pred = ["up", "down", "none", "up", "none", "none", "down", "up", "", "none"]
    gold = ["up", "down", "up", "none", "none", "none", "down", "up", "none", "none"]
    fractions = [0.1, 0.3, 0.5, 0.65, 1.0]
    return [{"name": "ten items", "u": u, "pred": pred, "gold": gold, "fractions": fractions,
             "retained": retention(u, pred, gold, fractions)}]


def split_cases():
    out = []
    for name, toks in [
        ("special tokens", ["<think>", "\n", "hmm", " ok", "</think>", "\n\n", "<answer>", "up", "</answer>", "<|im_end|>"]),
        ("open in prompt", ["so", " up", "\n", "</think>", "\n", "up", "<|im_end|>"]),
        ("split markers", ["<th", "ink>", "a", "b", "</", "think", ">", "c"]),
        ("straddling", ["<think>a", "b", "c</", "think>d", "e"]),
        ("unclosed", ["<think>", "a", "b"]),
        ("no markers", ["a", "b", "c"]),
        ("close at end", ["a", "</think>"]),
    ]:
        r, a, closed = split_reasoning(toks)
        out.append({"name": name, "tokens": toks, "reasoning": r, "answer": a, "closed": closed})
    return out


# ------------------------------------------------------- whole-group estimators

GROUPS = [
    {
        "name": "mixed answers",
        "greedy": {"tokens": ["<think>", "STAT1", " binds", " IRF1", "</think>", "<answer>", "up", "</answer>", "<|im_end|>"],
                   "log_probs": [-0.01, -1.2, -0.8, -0.4, -0.05, -0.02, -0.7, -0.01, -0.03],
                   "entropies": [0.05, 2.1, 1.6, 0.9, 0.2, 0.1, 1.3, 0.04, 0.1],
                   "answer": "up", "ok": True},
        "samples": [
            {"tokens": ["<think>", "STAT1", " binds", "</think>", "<answer>", "up", "</answer>", "<|im_end|>"],
             "log_probs": [-0.02, -1.0, -0.9, -0.1, -0.02, -0.5, -0.01, -0.02],
             "entropies": [0.1, 1.9, 1.7, 0.3, 0.1, 1.1, 0.05, 0.1], "answer": "up", "ok": True},
            {"tokens": ["<think>", "IRF1", " falls", "</think>", "<answer>", "down", "</answer>", "<|im_end|>"],
             "log_probs": [-0.03, -2.2, -1.9, -0.2, -0.03, -1.4, -0.02, -0.05],
             "entropies": [0.2, 2.8, 2.5, 0.6, 0.2, 1.9, 0.1, 0.2], "answer": "down", "ok": True},
            {"tokens": ["<think>", "STAT1", " binds", " IRF1", "</think>", "<answer>", "up", "</answer>", "<|im_end|>"],
             "log_probs": [-0.01, -1.1, -0.7, -0.5, -0.04, -0.02, -0.6, -0.01, -0.02],
             "entropies": [0.05, 2.0, 1.5, 1.0, 0.2, 0.1, 1.2, 0.04, 0.1], "answer": "up", "ok": True},
            {"tokens": ["<think>", "unclear", "</think>", "maybe", "<|im_end|>"],
             "log_probs": [-0.05, -3.0, -0.4, -2.5, -0.3],
             "entropies": [0.3, 3.1, 1.0, 2.7, 0.9], "answer": "", "ok": False},
        ],
    },
    {
        "name": "all agree",
        "greedy": {"tokens": ["<think>", "no", " effect", "</think>", "none", "<|im_end|>"],
                   "log_probs": [-0.02, -0.3, -0.2, -0.01, -0.1, -0.01],
                   "entropies": [0.1, 0.8, 0.6, 0.05, 0.4, 0.05], "answer": "none", "ok": True},
        "samples": [
            {"tokens": ["<think>", "no", " effect", "</think>", "none", "<|im_end|>"],
             "log_probs": [-0.02, -0.3, -0.2, -0.01, -0.1, -0.01],
             "entropies": [0.1, 0.8, 0.6, 0.05, 0.4, 0.05], "answer": "none", "ok": True},
            {"tokens": ["<think>", "no", " change", "</think>", "none", "<|im_end|>"],
             "log_probs": [-0.02, -0.35, -1.2, -0.01, -0.1, -0.01],
             "entropies": [0.1, 0.9, 1.6, 0.05, 0.4, 0.05], "answer": "none", "ok": True},
        ],
    },
    {
        "name": "unparsed greedy",
        "greedy": {"tokens": ["<think>", "long", " musing", " cut"],
                   "log_probs": [-0.1, -1.7, -2.3, -0.9],
                   "entropies": [0.4, 2.2, 2.9, 1.4], "answer": "", "ok": False},
        "samples": [
            {"tokens": ["<think>", "x", "</think>", "up"],
             "log_probs": [-0.1, -0.6, -0.2, -0.9], "entropies": [0.3, 1.0, 0.5, 1.2], "answer": "up", "ok": True},
        ],
    },
]

CONFIGS = [
    {"name": "defaults", "part": "whole", "with_greedy": False, "similarity": "answer"},
    {"name": "reasoning, with greedy, rouge", "part": "reasoning", "with_greedy": True, "similarity": "rouge"},
    {"name": "answer part, jaccard", "part": "answer", "with_greedy": False, "similarity": "jaccard"},
]


def part_of(trace, part):
    r, a, _ = split_reasoning(trace["tokens"])
    lo, hi = {"whole": (0, len(trace["tokens"])), "reasoning": tuple(r), "answer": tuple(a)}[part]
    return trace["log_probs"][lo:hi], trace["entropies"][lo:hi]


def similarity(kind, x, y):
    if kind == "answer":
        return 1.0 if x["ok"] and y["ok"] and x["answer"] == y["answer"] else 0.0
    if kind == "rouge":
        return rouge_l(x["tokens"], y["tokens"])
    return jaccard(x["tokens"], y["tokens"])


def group_expect(g, cfg):
    r0, samples = g["greedy"], g["samples"]
    out = {}

    def info(trace):
        lps, hs = part_of(trace, cfg["part"])
        if not lps:
            return None
        return {"msp": -sum(lps), "log-perplexity": -sum(lps) / len(lps),
                "perplexity": math.exp(-sum(lps) / len(lps)), "mte": sum(hs) / len(hs), "max-entropy": max(hs)}

    i0 = info(r0)
    for k in ["msp", "perplexity", "log-perplexity", "mte", "max-entropy"]:
        out[k] = i0[k] if i0 else "ErrEmpty"
    K = len(samples)
    out["self-consistency"] = (1 - sum(1 for s in samples if s["ok"] and s["answer"] == r0["answer"]) / K) if r0["ok"] else "ErrNoAnswer"
    tset = ([r0] if cfg["with_greedy"] else []) + samples
    classes = [t["answer"] if t["ok"] else None for t in tset]
    if any(t["ok"] for t in tset):
        out["semantic-entropy"] = semantic_entropy(classes)
        infos = [info(t) for t in tset]
        out["semantic-entropy-weighted"] = "ErrEmpty" if None in infos else semantic_entropy(classes, [-x["log-perplexity"] for x in infos])
        out["num-sem-sets"] = float(len(set(unique_unparsed(classes))))
    else:
        out["semantic-entropy"] = out["semantic-entropy-weighted"] = out["num-sem-sets"] = "ErrNoAnswer"
    m = len(tset)
    w = [[1.0 if i == j else similarity(cfg["similarity"], tset[i], tset[j]) for j in range(m)] for i in range(m)]
    out["degmat"] = degmat(w)
    out["eigval-laplacian"] = eigval_laplacian(w)
    out["eccentricity"] = eccentricity(w)
    if m >= 2:
        rw = [[1.0 if i == j else rouge_l(tset[i]["tokens"], tset[j]["tokens"]) for j in range(m)] for i in range(m)]
        out["lexical-similarity"] = -mean_pairwise(rw)
    else:
        out["lexical-similarity"] = "ErrNoSamples"
    sims = [similarity(cfg["similarity"], r0, s) for s in samples]
    dis = sum(1 - s for s in sims) / K
    for name, key in [("cocoa-msp", "msp"), ("cocoa-ppl", "log-perplexity"), ("cocoa-mte", "mte")]:
        out[name] = {"value": i0[key] * dis, "tiebreak": i0[key]} if i0 else "ErrEmpty"
    return out


def group_cases():
    out = []
    for g in GROUPS:
        for cfg in CONFIGS:
            out.append({"group": g["name"], "config": cfg, "want": group_expect(g, cfg)})
    return {"groups": GROUPS, "cases": out}


def main():
    ref = {
        "info": info_cases(),
        "lexical": lexical_cases(),
        "graph": graph_cases(),
        "consistency": consistency_cases(),
        "semantic": semantic_cases(),
        "cocoa": cocoa_cases(),
        "metrics": metric_cases(),
        "retention": retention_cases(),
        "split": split_cases(),
        "estimators": group_cases(),
    }
    print(json.dumps(ref, indent=1))


if __name__ == "__main__":
    main()
