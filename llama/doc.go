// Package llama runs local GGUF models through llama.cpp and reports the exact
// log-probability of every token. It is the only package of labelfree that
// uses cgo; the pure packages depend on interfaces it satisfies.
//
// # Installation
//
// The package compiles against llama.cpp v0.5.0 found through pkg-config
// (`#cgo pkg-config: llama`). scripts/install-llama.sh installs the prebuilt
// Linux x64 libraries (or builds them, with CUDA if asked) into a cache and
// prints where; point PKG_CONFIG_PATH at its lib/pkgconfig. The libraries carry
// an rpath, so programs run without LD_LIBRARY_PATH. Built with
// CGO_ENABLED=0 the package still compiles, and every constructor returns
// ErrNoCgo.
//
// ggml's compute backends (CPU variants, CUDA) are shared libraries loaded at
// run time from the directory libllama lives in, or from the directory named
// by the environment variable LABELFREE_GGML_BACKEND_DIR. Set
// LABELFREE_LLAMA_LOG=1 to see llama.cpp's own log on stderr; otherwise its
// warnings and errors are kept and attached to the errors this package returns.
//
// # Conventions
//
// Log-probabilities are natural logs of the model's raw distribution: the
// log-softmax of the logits over the full vocabulary, before temperature or
// any other sampling transform. They are exact, in the sense proven by this
// package's tests against a float64 reference forward pass, only in the
// configuration ExactSession returns (F32 KV cache, flash attention off);
// llama.cpp's faster defaults (F16 KV cache, flash attention) move them by up
// to about 1e-2 nats.
//
// A Model is safe for concurrent use by several Sessions; a Session is not
// safe for concurrent use. Close releases C memory and is idempotent.
package llama
