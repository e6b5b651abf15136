// Package sampling turns questions into traces: the Generator and Scorer
// interfaces that backends implement, the sampling parameters, and the trace
// and token records.
//
// Log-probabilities are natural logs of the model's raw distribution (the
// log-softmax of the raw logits over the full vocabulary, before temperature
// or any other sampling transform); entropies are in nats over that same
// distribution.
//
// # Trace files
//
// Run turns items into a trace file, resumably and in shards that Merge
// joins; Rescore gives the traces of a backend without log-probabilities
// the full ones of a local model (a Scorer); Reader and Writer read and
// write the format, which is JSON Lines:
// a header (Header), then one line per item (Group) with its traces
// (TraceRecord), for example
//
//	{"labelfree":"traces","version":1,"run":{"model":{"name":"qwen3-0.6b.gguf"},"backend":"llama","task":"perturbqa/k562","params":{"samples":8,"max_tokens":1024,"temperature":0.6,"top_k":20,"top_p":0.95,"min_p":0},"seed":42,"shard":"0/3"}}
//	{"id":"q1","item":{"id":"q1","fields":{"gene":"IRF1"}},"prompt":{"messages":[…]},"traces":[{"greedy":true,"seed":0,"text":"<think>…</think>\n<answer>up</answer>","answer":{"text":"up","class":"up","ok":true},"finish":"eog","logprobs_kind":"full","logprobs":[-0.5,-0.0012,-3.1e-05],"entropies":[1.25,0.01,0.0004]},…]}
//
// Numbers are float32s in their shortest form and a −Inf log-probability is
// null (see Writer); logprobs_kind says what the numbers are (LogProbKind).
// The file holds no wall-clock time: a run killed and resumed any number of
// times writes the same bytes as one that was not.
//
// The package is pure Go; the llama package implements Generator and Scorer
// with a local model.
package sampling
