package llama

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNoCgo is returned by every constructor when the package was built
// without cgo.
var ErrNoCgo = errors.New("llama: built without cgo (CGO_ENABLED=0): llama.cpp is not available")

// ErrClosed is returned by methods of a closed Model or Session.
var ErrClosed = errors.New("llama: use of closed model or session")

// ModelConfig configures Load. A nil *ModelConfig means the zero value: all
// layers on the CPU, the file memory-mapped, no mlock.
type ModelConfig struct {
	// GPULayers is the number of layers offloaded to the GPU; 0 keeps the
	// model on the CPU and a negative value offloads every layer. It has an
	// effect only with a GPU backend (a CUDA build of llama.cpp).
	GPULayers int
	// MainGPU is the index of the GPU that holds the model when it is not split.
	MainGPU int
	// NoMmap reads the file into memory instead of mapping it.
	NoMmap bool
	// Mlock asks the OS to keep the model in RAM.
	Mlock bool
	// VocabOnly loads only the tokenizer.
	VocabOnly bool
}

// KVCacheType is the element type of the attention key/value cache.
type KVCacheType int

// KV cache types. The zero value is llama.cpp's default, F16.
const (
	KVCacheF16 KVCacheType = iota
	KVCacheF32
	KVCacheQ8_0
)

func (t KVCacheType) String() string {
	switch t {
	case KVCacheF16:
		return "f16"
	case KVCacheF32:
		return "f32"
	case KVCacheQ8_0:
		return "q8_0"
	}
	return fmt.Sprintf("KVCacheType(%d)", int(t))
}

// FlashAttention selects llama.cpp's flash attention kernels.
type FlashAttention int

// Flash attention settings. The zero value lets llama.cpp decide.
const (
	FlashAttentionAuto FlashAttention = iota
	FlashAttentionOff
	FlashAttentionOn
)

// SessionConfig configures a Session. A nil *SessionConfig means the zero
// value, whose fields document their defaults.
type SessionConfig struct {
	// ContextLen is the number of token positions the session holds;
	// 0 means 4096, capped at the model's training context.
	ContextLen int
	// BatchSize is the most tokens submitted to one decode; 0 means 512.
	BatchSize int
	// Threads is the number of CPU threads; 0 means runtime.NumCPU().
	Threads int
	// KVCache is the KV cache element type; the zero value is F16.
	KVCache KVCacheType
	// FlashAttention; the zero value lets llama.cpp decide.
	FlashAttention FlashAttention
	// Sequences is the most sequences decoded together: Generate with K
	// samples and a greedy trace needs K+1. 0 means 1.
	Sequences int
	// Embeddings opens a session for Embed (mean-pooled hidden states)
	// instead of log-probabilities.
	Embeddings bool
}

// ExactSession returns the configuration whose log-probabilities are exact:
// an F32 KV cache and flash attention off. In it llama.cpp agrees with an
// independent float64 forward pass to about 1e-6 nats (see the package
// tests). contextLen is as in SessionConfig.
func ExactSession(contextLen int) *SessionConfig {
	return &SessionConfig{ContextLen: contextLen, KVCache: KVCacheF32, FlashAttention: FlashAttentionOff}
}

// Device is a compute device that ggml found.
type Device struct {
	Name        string // e.g. "CPU", "CUDA0"
	Description string
	Type        string // "cpu", "gpu", "igpu" or "accel"
}

// QuantType is a target of Quantize.
type QuantType int

// Quantization targets (values of enum llama_ftype).
const (
	Q8_0   QuantType = 7
	Q4_K_M QuantType = 15
	Q5_K_M QuantType = 17
	Q6_K   QuantType = 18
	F16    QuantType = 1
)

func (q QuantType) String() string {
	switch q {
	case Q8_0:
		return "Q8_0"
	case Q4_K_M:
		return "Q4_K_M"
	case Q5_K_M:
		return "Q5_K_M"
	case Q6_K:
		return "Q6_K"
	case F16:
		return "F16"
	}
	return fmt.Sprintf("QuantType(%d)", int(q))
}

// ParseQuantType parses a name such as "Q4_K_M" (case-insensitive).
func ParseQuantType(s string) (QuantType, error) {
	for _, q := range []QuantType{Q8_0, Q4_K_M, Q5_K_M, Q6_K, F16} {
		if strings.EqualFold(q.String(), s) {
			return q, nil
		}
	}
	return 0, fmt.Errorf("llama: unknown quantization %q (known: Q8_0, Q4_K_M, Q5_K_M, Q6_K, F16)", s)
}
