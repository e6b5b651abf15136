// Package reference is a float64 forward pass of llama.cpp's qwen3 architecture,
// written to be read rather than to be fast. It is the oracle against which the
// log-probabilities that llama.cpp reports are checked: with F32 weights, an F32
// KV cache and flash attention off, the two agree to within 1e-5 (measured: 8e-6
// in log-probability on a random two-layer model, the difference being
// llama.cpp's float32 arithmetic).
//
// The computation follows src/models/qwen3.cpp of the pinned llama.cpp v0.5.0.
// For each position t = 0..n-1 of the input and each of the model's layers:
//
//	h  = RMSNorm(x) ⊙ attn_norm
//	q  = attn_q·h,  k = attn_k·h,  v = attn_v·h        (split into heads)
//	q  = RoPE_t(RMSNorm(q_head) ⊙ attn_q_norm)           (each head)
//	k  = RoPE_t(RMSNorm(k_head) ⊙ attn_k_norm)
//	a  = softmax_j≤t(q·k_j / √head_dim) · v_j            (query head h reads KV head h/(heads/kv_heads))
//	x  = x + attn_output·a
//	h  = RMSNorm(x) ⊙ ffn_norm
//	x  = x + ffn_down·(silu(ffn_gate·h) ⊙ ffn_up·h)
//
// then logits = output·(RMSNorm(x) ⊙ output_norm), where output is token_embd
// when the file has no output.weight. RMSNorm(x) = x / √(mean(x²) + ε) and
// silu(z) = z / (1 + e^−z). RoPE is the NEOX variant: within a head of
// dimension d, element i (i < d/2) is rotated together with element i + d/2 by
// the angle t·base^(−2i/d).
//
// Conventions:
//   - Everything is computed in float64; weights are converted from the file's
//     F32, F16 or BF16 once, at load. Only F32 weights make llama.cpp comparable
//     to this package: with F16 weights llama.cpp also rounds the activations to
//     F16 before each matrix product, and this package does not.
//   - Matrices keep ggml's layout: a projection from n inputs to m outputs has
//     shape {n, m} (ne0 = n is contiguous), so element (out o, in i) is at o*n+i.
//   - Log-probabilities are natural logs; entropy is in nats.
//   - Load accepts only what it implements: a tensor it does not know (a bias,
//     a fused attn_qkv, a ".scale"), rope scaling, or non-causal attention is an
//     error rather than something silently ignored that llama.cpp would apply.
//
// A Model is not modified after Load and is safe for concurrent use.
package reference
