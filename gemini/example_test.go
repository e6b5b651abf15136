package gemini_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/labelfree/labelfree/gemini"
	"github.com/labelfree/labelfree/sampling"
)

// Example draws a greedy and a sampled trace with per-token
// log-probabilities. So that it runs offline, a local server stands in for
// the Gemini API, answering every request as the API answers a model with
// log-probabilities; against the real API, leave out BaseURL and
// APIKeyEnv and put the key in GEMINI_API_KEY.
func Example() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"candidates": [{"content": {"role": "model", "parts": [{"text": "Blue."}]},
			"finishReason": "STOP",
			"logprobsResult": {
				"chosenCandidates": [{"token": "Blue", "tokenId": 5, "logProbability": -0.03}, {"token": ".", "tokenId": 6, "logProbability": -0.5}],
				"topCandidates": [
					{"candidates": [{"token": "Blue", "tokenId": 5, "logProbability": -0.03}, {"token": "Gray", "tokenId": 9, "logProbability": -3.6}]},
					{"candidates": [{"token": ".", "tokenId": 6, "logProbability": -0.5}, {"token": "!", "tokenId": 7, "logProbability": -1.2}]}]}}],
			"usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 2}}`)
	}))
	defer api.Close()
	os.Setenv("EXAMPLE_GEMINI_KEY", "not-a-real-key")

	ctx := context.Background()
	b, err := gemini.New(ctx, &gemini.Config{
		Model:     "gemini-2.0-flash",
		BaseURL:   api.URL,
		APIKeyEnv: "EXAMPLE_GEMINI_KEY",
		Logprobs:  2, // the two most likely tokens at each step
	})
	if err != nil {
		log.Fatal(err)
	}
	traces, err := b.GenerateTraces(ctx, sampling.Chat("Answer in one word.", "What colour is the sky?"), &sampling.Params{Samples: 1, Seed: 42})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range traces {
		fmt.Printf("greedy=%v seed=%d text=%q kind=%s finish=%s\n", t.Greedy, t.Seed, t.Text, t.LogProbKind, t.Finish)
		for _, tok := range t.Tokens {
			// The entropy is over the two alternatives returned: a lower
			// bound of the token's entropy (see the package comment).
			fmt.Printf("  %-7q logprob %.2f  entropy ≥ %.3f\n", tok.Text, tok.LogProb, tok.Entropy)
		}
	}
	// Output:
	// greedy=true seed=0 text="Blue." kind=top-2 finish=eog
	//   "Blue"  logprob -0.03  entropy ≥ 0.127
	//   "."     logprob -0.50  entropy ≥ 0.665
	// greedy=false seed=43 text="Blue." kind=top-2 finish=eog
	//   "Blue"  logprob -0.03  entropy ≥ 0.127
	//   "."     logprob -0.50  entropy ≥ 0.665
}
