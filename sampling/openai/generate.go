package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/labelfree/labelfree/sampling"
)

// Trace is a sampled trace with what its per-token numbers are.
type Trace struct {
	sampling.Trace
	// LogProbKind is sampling.LogProbsTop(n), n the Client's TopLogprobs,
	// when each token has the log-probability the server returned and an
	// entropy over the at most n alternatives it returned with it,
	// −Σ p log p over them: a lower bound of the full entropy, equal to it
	// only when they cover the vocabulary. It is sampling.LogProbsNone when
	// the server returned no log-probabilities, or not one for every token
	// of the trace (see Note): Tokens is then nil, and Text is the bytes of
	// the tokens it did return when they make the text it returned, else
	// that text (in which llama-server replaces bytes that are not UTF-8 by
	// U+FFFD).
	LogProbKind sampling.LogProbKind
	// Reasoning is the reasoning a chat server returned apart from the
	// answer (message.reasoning_content or message.reasoning) when the
	// trace has no tokens to rebuild the raw text from; Text then holds
	// message.content only. "" otherwise.
	Reasoning string
	// Note says, when not "", why the server's log-probabilities were set
	// aside.
	Note string
}

// Generate returns the greedy trace (unless p.NoGreedy) and p.Samples
// sampled ones for prompt, as sampling.Generator asks: GenerateTraces with
// each trace's kind in its sampling.Trace.LogProbKind, so that a
// sampling.Run records what the numbers are trace by trace ("top-n":
// entropies over the n returned alternatives only; "none": no Tokens).
func (c *Client) Generate(ctx context.Context, prompt sampling.Prompt, p *sampling.Params) ([]sampling.Trace, error) {
	ts, err := c.GenerateTraces(ctx, prompt, p)
	if err != nil {
		return nil, err
	}
	out := make([]sampling.Trace, len(ts))
	for i := range ts {
		out[i] = ts[i].Trace
		out[i].LogProbKind = ts[i].LogProbKind
	}
	return out, nil
}

// GenerateTraces returns the greedy trace (unless p.NoGreedy) and p.Samples
// sampled ones for prompt, each labelled with what its numbers are. Chat
// prompts go to /chat/completions, raw ones to /completions (see
// Config.Endpoint). The greedy trace is drawn at temperature 0; sampled
// trace k (1 ≤ k ≤ p.Samples) with seed uint32(p.Seed)+k. Requests run
// concurrently, within Config.MaxConcurrency; the first error cancels the
// others.
//
// Token ids are −1 when the server does not return them (only llama-server
// does). A server that ends a trace with an end-of-generation token may or
// may not return that token (llama-server does; OpenAI does not).
func (c *Client) GenerateTraces(ctx context.Context, prompt sampling.Prompt, p *sampling.Params) ([]Trace, error) {
	var z sampling.Params
	if p == nil {
		p = &z
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("openai: %w", err)
	}
	d := p.WithDefaults()
	chat, err := c.route(prompt)
	if err != nil {
		return nil, err
	}

	// One job per request: the greedy trace, then batches of up to N
	// sampled traces.
	type job struct {
		first, n int // traces first … first+n−1 of the result
		k        int // the first trace's k (0: greedy)
	}
	var jobs []job
	pos := 0
	if !d.NoGreedy {
		jobs = append(jobs, job{first: 0, n: 1, k: 0})
		pos = 1
	}
	for k := 1; k <= d.Samples; k += c.s.n {
		n := min(c.s.n, d.Samples-k+1)
		jobs = append(jobs, job{first: pos, n: n, k: k})
		pos += n
	}
	traces := make([]Trace, pos)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for _, j := range jobs {
		wg.Go(func() {
			var seed uint32
			if j.k > 0 {
				seed = uint32(d.Seed) + uint32(j.k)
			}
			ts, err := c.request(ctx, prompt, chat, &d, j.k == 0, seed, j.n)
			if err == nil {
				for i := range ts {
					if j.k > 0 {
						ts[i].Seed = seed + uint32(i)
					} else {
						ts[i].Greedy = true
					}
				}
				copy(traces[j.first:], ts)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if firstErr == nil || errors.Is(firstErr, context.Canceled) && !errors.Is(err, context.Canceled) {
				// Prefer the cause to the cancellations it caused.
				firstErr = err
			}
			cancel()
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return traces, nil
}

// route reports whether prompt goes to the chat endpoint.
func (c *Client) route(prompt sampling.Prompt) (chat bool, err error) {
	chat = len(prompt.Messages) > 0
	switch {
	case chat && c.s.endpoint == EndpointCompletions:
		return false, errors.New("openai: a chat prompt, but the Endpoint is completions")
	case !chat && c.s.endpoint == EndpointChat:
		return false, errors.New("openai: a raw prompt, but the Endpoint is chat")
	case prompt.NoThinking && !chat:
		return false, errors.New("openai: NoThinking needs a chat prompt")
	case prompt.NoThinking && c.s.standard:
		return false, errors.New("openai: NoThinking needs chat_template_kwargs, which a Standard client does not send")
	}
	return chat, nil
}

// request sends one request for n traces, greedy (temperature 0) or drawn
// with seed, and parses its reply. The caller sets Greedy and Seed.
func (c *Client) request(ctx context.Context, prompt sampling.Prompt, chat bool, d *sampling.Params, greedy bool, seed uint32, n int) ([]Trace, error) {
	body := map[string]any{
		"max_tokens": d.MaxTokens,
		"top_p":      d.TopP,
		"n":          n,
		"stream":     false,
	}
	if c.s.model != "" {
		body["model"] = c.s.model
	}
	path := "/completions"
	if chat {
		path = "/chat/completions"
		body["messages"] = prompt.Messages
		if prompt.NoThinking {
			body["chat_template_kwargs"] = map[string]any{"enable_thinking": false}
		}
	} else {
		body["prompt"] = prompt.Text
	}
	if greedy {
		body["temperature"] = 0
	} else {
		body["temperature"] = d.Temperature
		body["seed"] = seed
	}
	if !c.s.standard {
		topK := d.TopK
		if topK < 0 {
			topK = -1 // disabled for vLLM and SGLang; llama-server reads it as 0, also disabled
		}
		body["top_k"] = topK
		body["min_p"] = d.MinP // llama-server's own default is 0.05
	}
	if c.s.top >= 0 {
		if chat {
			body["logprobs"] = true
			body["top_logprobs"] = c.s.top
		} else {
			body["logprobs"] = c.s.top
		}
	}
	if c.s.serverStop && len(d.Stop) > 0 {
		body["stop"] = d.Stop
	}
	maps.Copy(body, c.s.extra)
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("openai: encoding the request: %w", err)
	}

	var res response
	attempts, err := c.post(ctx, path, raw, &res)
	if err != nil {
		return nil, err
	}
	endpoint := c.redact(redactURL(c.s.base + path))
	malformed := func(format string, args ...any) error {
		return &Error{Endpoint: endpoint, StatusCode: 200, Attempts: attempts,
			Err: fmt.Errorf("%w: %s", ErrMalformed, c.redact(fmt.Sprintf(format, args...)))}
	}
	if len(res.Choices) != n {
		return nil, malformed("%d choices, want %d", len(res.Choices), n)
	}
	slices.SortFunc(res.Choices, func(a, b choice) int { return a.Index - b.Index })
	generated := -1
	if n == 1 && res.Usage != nil {
		generated = res.Usage.CompletionTokens
	}
	out := make([]Trace, n)
	for i := range res.Choices {
		if res.Choices[i].Index != i {
			return nil, malformed("choice indices %d…, want 0…%d", res.Choices[0].Index, n-1)
		}
		t, err := c.parse(&res.Choices[i], d, chat, generated)
		if err != nil {
			return nil, malformed("choice %d: %v", i, err)
		}
		out[i] = t
	}
	return out, nil
}
