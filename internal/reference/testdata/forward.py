#!/usr/bin/env python3
"""Independent float64 forward pass of llama.cpp's qwen3 architecture.

Writes testdata/golden.json, the expected logits, log-probabilities and
entropies that TestGolden (golden_test.go) compares package reference against.
Standard library only; run from internal/reference:

    python3 testdata/forward.py > testdata/golden.json

The weights come from the LCG below, drawn tensor by tensor in the order of
tensor_order(); golden_test.go draws the same values. Every value is a multiple
of 2^-18 below 2 in magnitude, so it is exact in float32 and the GGUF file that
the Go test writes holds exactly these numbers.

What is computed (llama.cpp v0.5.0, src/models/qwen3.cpp and the helpers it calls):
  x = token_embd row of each token                   (build_inp_embd: ggml_get_rows)
  per layer:
    h = rmsnorm(x) * attn_norm                       (build_norm, LLM_NORM_RMS)
    q, k, v = Wq h, Wk h, Wv h, split into heads     (build_qkv, ggml_reshape_3d)
    q = rope(rmsnorm(q_head) * attn_q_norm)          (norm over head_dim, then ggml_rope_ext)
    k = rope(rmsnorm(k_head) * attn_k_norm)
    rope is NEOX (llama_model_rope_type -> LLAMA_ROPE_TYPE_NEOX for qwen3):
      pair (i, i + d/2), angle pos * base^(-2i/d)    (ggml-cpu/ops.cpp rotate_pairs)
    attention: softmax(q.k_j / sqrt(d) + causal mask) (build_attn_mha, ggml_soft_max_ext)
      query head h uses kv head h // (heads // kv_heads) (ggml_mul_mat broadcasting)
    x = x + Wo attn
    h = rmsnorm(x) * ffn_norm
    x = x + Wdown (silu(Wgate h) * Wup h)            (build_ffn, LLM_FFN_SILU, LLM_FFN_PAR)
  logits = output (or token_embd) . (rmsnorm(x) * output_norm)
"""

import json
import math
import struct

# The model of TestGolden. Keep in sync with goldenConfig in golden_test.go.
CONFIG = dict(vocab=11, hidden=16, layers=2, ffn=24, heads=4, kv_heads=2,
              head_dim=6, context=16, rope_base=100.0, eps=1e-5)
TOKENS = [3, 1, 4, 1, 5, 9, 2, 6]
SEED = 12345


def f32(v):
    """Round to float32, as the GGUF file stores the value."""
    return struct.unpack("<f", struct.pack("<f", v))[0]


class LCG:
    """x <- (1664525 x + 1013904223) mod 2^32 (Numerical Recipes)."""

    def __init__(self, seed):
        self.x = seed

    def uniform(self):
        """The top 16 bits of the next state, as a multiple of 2^-16 in [0, 1)."""
        self.x = (1664525 * self.x + 1013904223) % 2**32
        return (self.x >> 16) / 65536.0


def tensor_order(c, tied):
    """(name, element count, kind) in drawing order; kind is 'norm' or 'proj'."""
    h, q, kv = c["hidden"], c["heads"] * c["head_dim"], c["kv_heads"] * c["head_dim"]
    out = [("token_embd.weight", h * c["vocab"], "proj"),
           ("output_norm.weight", h, "norm")]
    if not tied:
        out.append(("output.weight", h * c["vocab"], "proj"))
    for i in range(c["layers"]):
        b = "blk.%d." % i
        out += [(b + "attn_norm.weight", h, "norm"),
                (b + "attn_q.weight", h * q, "proj"),
                (b + "attn_k.weight", h * kv, "proj"),
                (b + "attn_v.weight", h * kv, "proj"),
                (b + "attn_output.weight", q * h, "proj"),
                (b + "attn_q_norm.weight", c["head_dim"], "norm"),
                (b + "attn_k_norm.weight", c["head_dim"], "norm"),
                (b + "ffn_norm.weight", h, "norm"),
                (b + "ffn_gate.weight", h * c["ffn"], "proj"),
                (b + "ffn_up.weight", h * c["ffn"], "proj"),
                (b + "ffn_down.weight", c["ffn"] * h, "proj")]
    return out


def weights(c, tied):
    """Norm weights in [0.75, 1.25), projections in [-1, 1)."""
    rng = LCG(SEED)
    w = {}
    for name, n, kind in tensor_order(c, tied):
        if kind == "norm":
            vals = [0.75 + 0.5 * rng.uniform() for _ in range(n)]
        else:
            vals = [2.0 * rng.uniform() - 1.0 for _ in range(n)]
        assert all(f32(v) == v for v in vals)
        w[name] = vals
    return w


def matvec(flat, n_in, n_out, x):
    """ggml layout: a tensor of shape {n_in, n_out}; element (o, i) at o*n_in + i."""
    assert len(flat) == n_in * n_out and len(x) == n_in
    return [sum(flat[o * n_in + i] * x[i] for i in range(n_in)) for o in range(n_out)]


def rmsnorm(x, w, eps):
    ms = sum(v * v for v in x) / len(x)
    r = 1.0 / math.sqrt(ms + eps)
    return [v * r * wi for v, wi in zip(x, w)]


def rope_neox(x, pos, base):
    d = len(x)
    half = d // 2
    out = list(x)
    for i in range(half):
        theta = pos * base ** (-2.0 * i / d)
        c, s = math.cos(theta), math.sin(theta)
        out[i] = x[i] * c - x[i + half] * s
        out[i + half] = x[i] * s + x[i + half] * c
    return out


def forward(c, w, tokens, tied):
    h, d = c["hidden"], c["head_dim"]
    nh, nkv = c["heads"], c["kv_heads"]
    eps, base = f32(c["eps"]), f32(c["rope_base"])
    emb = w["token_embd.weight"]
    x = [emb[t * h:(t + 1) * h] for t in tokens]
    n = len(tokens)
    for L in range(c["layers"]):
        b = "blk.%d." % L
        qs, ks, vs = [], [], []
        for t in range(n):
            a = rmsnorm(x[t], w[b + "attn_norm.weight"], eps)
            q = matvec(w[b + "attn_q.weight"], h, nh * d, a)
            k = matvec(w[b + "attn_k.weight"], h, nkv * d, a)
            v = matvec(w[b + "attn_v.weight"], h, nkv * d, a)
            qs.append([rope_neox(rmsnorm(q[j * d:(j + 1) * d], w[b + "attn_q_norm.weight"], eps), t, base)
                       for j in range(nh)])
            ks.append([rope_neox(rmsnorm(k[j * d:(j + 1) * d], w[b + "attn_k_norm.weight"], eps), t, base)
                       for j in range(nkv)])
            vs.append([v[j * d:(j + 1) * d] for j in range(nkv)])
        new_x = []
        for t in range(n):
            att = []
            for j in range(nh):
                g = j // (nh // nkv)
                sc = [sum(p * r for p, r in zip(qs[t][j], ks[s][g])) / math.sqrt(d) for s in range(t + 1)]
                m = max(sc)
                e = [math.exp(z - m) for z in sc]
                tot = sum(e)
                att += [sum(e[s] / tot * vs[s][g][i] for s in range(t + 1)) for i in range(d)]
            o = matvec(w[b + "attn_output.weight"], nh * d, h, att)
            new_x.append([xi + oi for xi, oi in zip(x[t], o)])
        x = new_x
        for t in range(n):
            a = rmsnorm(x[t], w[b + "ffn_norm.weight"], eps)
            gate = matvec(w[b + "ffn_gate.weight"], h, c["ffn"], a)
            up = matvec(w[b + "ffn_up.weight"], h, c["ffn"], a)
            act = [gi / (1.0 + math.exp(-gi)) * ui for gi, ui in zip(gate, up)]
            dn = matvec(w[b + "ffn_down.weight"], c["ffn"], h, act)
            x[t] = [xi + di for xi, di in zip(x[t], dn)]
    out_w = emb if tied else w["output.weight"]
    logits = []
    for t in range(n):
        a = rmsnorm(x[t], w["output_norm.weight"], eps)
        logits.append(matvec(out_w, h, c["vocab"], a))
    return logits


def log_softmax(z):
    m = max(z)
    lse = m + math.log(sum(math.exp(v - m) for v in z))
    return [v - lse for v in z]


def main():
    result = {"config": CONFIG, "tokens": TOKENS, "seed": SEED}
    for tied in (False, True):
        logits = forward(CONFIG, weights(CONFIG, tied), TOKENS, tied)
        lps = [log_softmax(z) for z in logits]
        ents = [-sum(math.exp(v) * v for v in lp) for lp in lps]
        result["tied" if tied else "untied"] = {"logits": logits, "logprobs": lps, "entropy": ents}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
