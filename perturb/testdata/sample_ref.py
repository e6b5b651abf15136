#!/usr/bin/env python3
"""Independent reference for perturb.Sample, from its documented scheme.

PCG-DXSM as in Go's math/rand/v2 (128-bit LCG state = seed1<<64 | seed2,
multiplier and increment from pcg-cpp), Lemire's bounded draw, and a
partial Fisher-Yates shuffle whose first n indices, sorted, are the sample.
Run: python3 testdata/sample_ref.py
"""

M64 = (1 << 64) - 1
MUL = (2549297995355413924 << 64) | 4865540595714422341
INC = (6364136223846793005 << 64) | 1442695040888963407


class PCG:
    def __init__(self, seed1, seed2):
        self.state = (seed1 << 64) | seed2

    def uint64(self):
        self.state = (self.state * MUL + INC) & ((1 << 128) - 1)
        hi, lo = self.state >> 64, self.state & M64
        hi ^= hi >> 32
        hi = (hi * 0xDA942042E4DD58B5) & M64
        hi ^= hi >> 48
        hi = (hi * (lo | 1)) & M64
        return hi


def below(src, m):
    while True:
        x = src.uint64() * m
        hi, lo = x >> 64, x & M64
        if lo >= (1 << 64) % m:
            return hi


def sample(N, n, seed):
    src = PCG(seed, 0)
    idx = list(range(N))
    for i in range(n):
        j = i + below(src, N - i)
        idx[i], idx[j] = idx[j], idx[i]
    return sorted(idx[:n])


if __name__ == "__main__":
    for N, n, seed in [(1000, 10, 42), (23212, 50, 1), (7, 3, 0)]:
        print("sample", N, n, seed, sample(N, n, seed))
    # m just above 2**63: about half the raw draws are rejected.
    src = PCG(3, 0)
    print("below", [below(src, (1 << 63) + 1) for _ in range(6)])
