//go:build !cgo

package llama

import "context"

// Devices returns ErrNoCgo: the package was built without cgo.
func Devices() ([]Device, error) { return nil, ErrNoCgo }

// SystemInfo returns ErrNoCgo: the package was built without cgo.
func SystemInfo() (string, error) { return "", ErrNoCgo }

// Model is a loaded GGUF model; without cgo none can be loaded.
type Model struct{}

// Load returns ErrNoCgo: the package was built without cgo.
func Load(ctx context.Context, path string, cfg *ModelConfig) (*Model, error) { return nil, ErrNoCgo }

// Close does nothing.
func (m *Model) Close() error { return nil }

// Quantize returns ErrNoCgo: the package was built without cgo.
func Quantize(ctx context.Context, in, out string, q QuantType, threads int) error { return ErrNoCgo }

// Path returns "".
func (m *Model) Path() string { return "" }

// VocabSize returns 0.
func (m *Model) VocabSize() int { return 0 }

// TrainContext returns 0.
func (m *Model) TrainContext() int { return 0 }

// Tokenize returns ErrNoCgo.
func (m *Model) Tokenize(text string, parseSpecial bool) ([]int32, error) { return nil, ErrNoCgo }

// TokenText returns ErrNoCgo.
func (m *Model) TokenText(token int32) (string, error) { return "", ErrNoCgo }

// Session is an inference context; without cgo none can be opened.
type Session struct{ model *Model }

// NewSession returns ErrNoCgo.
func (m *Model) NewSession(cfg *SessionConfig) (*Session, error) { return nil, ErrNoCgo }

// ContextLen returns 0.
func (s *Session) ContextLen() int { return 0 }

// Close does nothing.
func (s *Session) Close() error { return nil }

// Logits returns ErrNoCgo.
func (s *Session) Logits(ctx context.Context, tokens []int32) ([][]float32, error) {
	return nil, ErrNoCgo
}

// LogProbs returns ErrNoCgo.
func (s *Session) LogProbs(ctx context.Context, tokens []int32) ([][]float64, error) {
	return nil, ErrNoCgo
}

// Generate returns ErrNoCgo.
func (s *Session) Generate(ctx context.Context, prompt []int32, cfg *GenerateConfig) ([]Trace, error) {
	return nil, ErrNoCgo
}

// Score returns ErrNoCgo.
func (s *Session) Score(ctx context.Context, reqs []ScoreRequest) ([][]Token, error) {
	return nil, ErrNoCgo
}

// Detokenize returns ErrNoCgo.
func (m *Model) Detokenize(tokens []int32, renderSpecial bool) (string, error) { return "", ErrNoCgo }

// ChatTemplate returns ErrNoCgo.
func (m *Model) ChatTemplate(msgs []Message, opts *ChatOptions) (string, error) { return "", ErrNoCgo }

// Embed returns ErrNoCgo.
func (s *Session) Embed(ctx context.Context, texts [][]int32) ([][]float32, error) {
	return nil, ErrNoCgo
}
