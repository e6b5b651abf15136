//go:build cgo

package llama

import (
	"errors"
	"fmt"

	"github.com/labelfree/labelfree/internal/gguf"
)

// checkVocab rejects tokenizer metadata that llama.cpp v0.5.0 would abort
// the process on (GGML_ASSERT in llama-vocab.cpp) rather than report: two
// tokens with the same text, or a token-type array of another length than
// the token list. A file without tokens is left to llama.cpp, which
// reports it.
func checkVocab(f *gguf.File) error {
	tokens, err := f.Strings("tokenizer.ggml.tokens")
	if errors.Is(err, gguf.ErrMissingKey) {
		return nil
	}
	if err != nil {
		return err
	}
	seen := make(map[string]int, len(tokens))
	for i, t := range tokens {
		if j, dup := seen[t]; dup {
			return fmt.Errorf("tokenizer.ggml.tokens: tokens %d and %d are both %q", j, i, t)
		}
		seen[t] = i
	}
	if kv, ok := f.Lookup("tokenizer.ggml.token_type"); ok {
		if types, ok := kv.Value.([]int32); !ok || len(types) != len(tokens) {
			return fmt.Errorf("tokenizer.ggml.token_type: want %d int32 types, one per token", len(tokens))
		}
	}
	return nil
}
