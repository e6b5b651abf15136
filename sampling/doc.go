// Package sampling turns questions into traces: the Generator and Scorer
// interfaces that backends implement, the sampling parameters, and the trace
// and token records.
//
// Log-probabilities are natural logs of the model's raw distribution (the
// log-softmax of the raw logits over the full vocabulary, before temperature
// or any other sampling transform); entropies are in nats over that same
// distribution.
//
// The package is pure Go; the llama package implements Generator and Scorer
// with a local model.
package sampling
