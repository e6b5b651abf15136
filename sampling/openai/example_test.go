package openai_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/openai"
)

// A stand-in for llama-server that answers every request with the one-token
// completion "up", its log-probability and one alternative.
func exampleServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		alt := func(id int, text string, lp float64) map[string]any {
			var b []int
			for i := range len(text) {
				b = append(b, int(text[i]))
			}
			return map[string]any{"id": id, "token": text, "bytes": b, "logprob": lp}
		}
		up := alt(455, "up", -0.2)
		up["top_logprobs"] = []any{alt(455, "up", -0.2), alt(3196, "down", -1.8)}
		json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{
			"index": 0, "finish_reason": "length",
			"message":  map[string]any{"role": "assistant", "content": "up"},
			"logprobs": map[string]any{"content": []any{up}},
		}}})
	}))
}

func Example() {
	srv := exampleServer() // e.g. llama-server -m model.gguf -np 4
	defer srv.Close()

	c, err := openai.New(&openai.Config{BaseURL: srv.URL + "/v1", TopLogprobs: 2})
	if err != nil {
		log.Fatal(err)
	}
	prompt := sampling.Chat("Answer up or down.", "Is IRF1 up when STAT1 is knocked down?")
	traces, err := c.GenerateTraces(context.Background(), prompt, &sampling.Params{Samples: 2, MaxTokens: 1, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range traces {
		tok := t.Tokens[0]
		fmt.Printf("greedy=%v seed=%d %q kind=%s logprob=%.2f entropy(top 2)=%.3f\n",
			t.Greedy, t.Seed, t.Text, t.LogProbKind, tok.LogProb, tok.Entropy)
	}
	// Output:
	// greedy=true seed=0 "up" kind=top-2 logprob=-0.20 entropy(top 2)=0.461
	// greedy=false seed=2 "up" kind=top-2 logprob=-0.20 entropy(top 2)=0.461
	// greedy=false seed=3 "up" kind=top-2 logprob=-0.20 entropy(top 2)=0.461
}
