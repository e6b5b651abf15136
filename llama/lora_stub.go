//go:build !cgo

package llama

import "errors"

// LoRA is a LoRA adapter; without cgo none can be loaded.
type LoRA struct{}

// Adapter is a LoRA and the scale a Session applies it with.
type Adapter struct {
	LoRA  *LoRA
	Scale float32
}

// ErrLoRAInUse is returned by LoRA.Close while a Session applies it.
var ErrLoRAInUse = errors.New("llama: lora adapter in use by an open session")

// LoadLoRA returns ErrNoCgo.
func (m *Model) LoadLoRA(path string) (*LoRA, error) { return nil, ErrNoCgo }

// Path returns "".
func (l *LoRA) Path() string { return "" }

// Close does nothing.
func (l *LoRA) Close() error { return nil }

// SetLoRA returns ErrNoCgo.
func (s *Session) SetLoRA(adapters ...Adapter) error { return ErrNoCgo }
