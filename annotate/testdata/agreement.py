#!/usr/bin/env python3
"""Reference values for agreement_test.go, computed independently of the Go code.

Standard library only; run with `python3 testdata/agreement.py`. The functions
kappa, alpha and spearman are also imported by annotate/report/testdata/expected.py.

The Go code builds a coincidence matrix (Krippendorff alpha) and a confusion
matrix (kappa); this script instead works from the definitions over explicit
lists of pairs:

  * Cohen's kappa: kappa_w = 1 - mean over items of w(a_i, b_i) divided by the
    mean of w(a_i, b_j) over all n*n (i, j) combinations, i.e. the expected
    disagreement of independent raters with the observed marginals.
  * Krippendorff's alpha: alpha = 1 - D_o / D_e with
        D_o = (1/n) sum_u 1/(m_u - 1) sum_{i != j in u} delta2(v_i, v_j)
        D_e = 1/(n (n-1)) sum_{i != j over all n pairable values} delta2(v_i, v_j)
    (Krippendorff 2011, eq. for D_o and D_e written over values instead of
    the coincidence matrix).
  * Spearman: Pearson correlation of average ranks, plus the no-ties
    shortcut 1 - 6 sum d^2 / (n (n^2 - 1)) as a cross-check where it applies.
"""
import math

NAN = float("nan")


def kappa(a, b, w):
    n = len(a)
    do = sum(w(x, y) for x, y in zip(a, b)) / n
    de = sum(w(x, y) for x in a for y in b) / (n * n)
    return 1 - do / de


def nominal_w(x, y):
    return 0.0 if x == y else 1.0


def linear_w(x, y):
    return abs(x - y)


def quadratic_w(x, y):
    return (x - y) ** 2


def alpha(ratings, metric):
    units = [[v for v in row if not math.isnan(v)] for row in ratings]
    units = [u for u in units if len(u) >= 2]
    allv = [v for u in units for v in u]
    n = len(allv)
    count = {}
    for v in allv:
        count[v] = count.get(v, 0) + 1
    ordered = sorted(count)

    def delta2(c, k):
        if metric == "nominal":
            return 0.0 if c == k else 1.0
        if metric == "interval":
            return (c - k) ** 2
        lo, hi = min(c, k), max(c, k)
        s = sum(count[g] for g in ordered if lo <= g <= hi)
        return (s - (count[lo] + count[hi]) / 2) ** 2

    do = 0.0
    for u in units:
        m = len(u)
        do += sum(delta2(u[i], u[j]) for i in range(m) for j in range(m) if i != j) / (m - 1)
    do /= n
    de = sum(delta2(allv[i], allv[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    return 1 - do / de


def avg_ranks(x):
    order = sorted(range(len(x)), key=lambda i: x[i])
    r = [0.0] * len(x)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and x[order[j + 1]] == x[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + 1 + j + 1) / 2
        i = j + 1
    return r


def spearman(x, y):
    rx, ry = avg_ranks(x), avg_ranks(y)
    n = len(x)
    mx, my = sum(rx) / n, sum(ry) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    rho = sxy / math.sqrt(sxx * syy)
    if len(set(x)) == n and len(set(y)) == n:
        d2 = sum((a - b) ** 2 for a, b in zip(rx, ry))
        assert abs(rho - (1 - 6 * d2 / (n * (n * n - 1)))) < 1e-12
    return rho


def main():
    # Wikipedia "Cohen's kappa", worked example: 50 applications, both yes 20,
    # A yes/B no 5, A no/B yes 10, both no 15.
    wiki_a = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
    wiki_b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    print("kappa wikipedia", repr(kappa(wiki_a, wiki_b, nominal_w)))

    three_a = ["a", "b", "c", "a", "b", "c", "a", "a", "b", "c"]
    three_b = ["a", "b", "b", "a", "c", "c", "b", "a", "b", "a"]
    print("kappa three", repr(kappa(three_a, three_b, nominal_w)))

    ord_a = [1, 2, 3, 4, 5, 3, 2, 4, 5, 1, 3, 3]
    ord_b = [1, 3, 3, 5, 4, 2, 2, 4, 5, 2, 3, 1]
    print("wkappa none", repr(kappa(ord_a, ord_b, nominal_w)))
    print("wkappa linear", repr(kappa(ord_a, ord_b, linear_w)))
    print("wkappa quadratic", repr(kappa(ord_a, ord_b, quadratic_w)))
    gap_a = [1, 1, 2, 5, 5, 2]
    gap_b = [1, 2, 2, 5, 2, 1]
    print("wkappa gap linear", repr(kappa(gap_a, gap_b, linear_w)))

    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C:
    # 4 observers x 12 units, nominal, missing values. Rows here are units.
    k2011 = [
        [1, 1, NAN, 1],
        [2, 2, 3, 2],
        [3, 3, 3, 3],
        [3, 3, 3, 3],
        [2, 2, 2, 2],
        [1, 2, 3, 4],
        [4, 4, 4, 4],
        [1, 1, 2, 1],
        [2, 2, 2, 2],
        [NAN, 5, 5, 5],
        [NAN, NAN, 1, 1],
        [NAN, 3, NAN, NAN],
    ]
    for m in ("nominal", "ordinal", "interval"):
        print("alpha k2011", m, repr(alpha(k2011, m)))

    # fast-krippendorff's 3 coders x 15 units test data (transposed to units x coders).
    fk = [
        [NAN, NAN, NAN, NAN, NAN, 3, 4, 1, 2, 1, 1, 3, 3, NAN, 3],
        [1, NAN, 2, 1, 3, 3, 4, 3, NAN, NAN, NAN, NAN, NAN, NAN, NAN],
        [NAN, NAN, 2, 1, 3, 4, 4, NAN, 2, 1, 1, 3, 3, NAN, 4],
    ]
    fk_units = [list(col) for col in zip(*fk)]
    for m in ("nominal", "ordinal", "interval"):
        print("alpha fk", m, repr(alpha(fk_units, m)))

    # Two coders, no missing values: soundness ratings 1-5.
    two = [[a, b] for a, b in zip(ord_a, ord_b)]
    for m in ("nominal", "ordinal", "interval"):
        print("alpha two", m, repr(alpha(two, m)))

    sx = [0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.5]
    sy = [1, 3, 2, 5, 2, 4, 4]
    print("spearman ties", repr(spearman(sx, sy)))
    nx = [3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.6]
    ny = [2.0, 7.0, 1.0, 8.0, 2.8, 1.8, 2.9]
    print("spearman noties", repr(spearman(nx, ny)))

    # example_test.go, ExampleKrippendorffAlpha: 5 traces x 3 annotators.
    example = [[4, 4, 5], [2, 1, 2], [5, 5, 5], [3, 4, NAN], [1, 1, NAN]]
    for m in ("nominal", "ordinal", "interval"):
        print("alpha example", m, "%.3f" % alpha(example, m))


if __name__ == "__main__":
    main()
