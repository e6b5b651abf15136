// Package testmodel writes Qwen3-architecture GGUF models with seeded random
// weights, so that tests and benchmarks never need a model hub.
//
// The weights are random: a generated model's text means nothing. What it
// offers is a file that llama.cpp loads and runs exactly like a real Qwen3
// (arch "qwen3": RMSNorm, NEOX RoPE, grouped-query attention with per-head
// q/k RMSNorm, SwiGLU, tied or separate output head), whose log-probabilities
// the pure-Go reference forward pass in internal/reference can recompute.
//
// Shapes are Tiny (a few hundred KB, byte-level vocabulary plus the Qwen chat
// specials) for unit tests, and the real Qwen3-0.6B and Qwen3-1.7B shapes for
// benchmarks. The real shapes need the real 151,936-token Qwen vocabulary,
// copied from a vocab-only GGUF such as models/ggml-vocab-qwen2.gguf of the
// pinned llama.cpp source (installed by scripts/install-llama.sh).
//
// The same Options always produce the same bytes: each tensor draws from its
// own PCG stream seeded by (Seed, tensor name).
package testmodel
