package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"text/tabwriter"

	"github.com/labelfree/labelfree/internal/gguf"
	"github.com/labelfree/labelfree/internal/reference"
	"github.com/labelfree/labelfree/llama"
)

func runLogProbs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("logprobs",
		"Evaluates a prompt with llama.cpp and prints the most likely next tokens with their exact\n"+
			"natural-log probabilities under the raw distribution (full vocabulary, no temperature).\n"+
			"Special tokens such as <|im_start|> in the prompt are parsed. With --reference the same\n"+
			"numbers are recomputed by labelfree's pure-Go float64 forward pass (F32/F16 Qwen3 models).",
		`labelfree logprobs --model tiny.gguf --reference --prompt $'<|im_start|>user\nHi<|im_end|>\n'`, stderr)
	modelPath := fs.String("model", "", "GGUF model file (required)")
	prompt := fs.String("prompt", "", "prompt text (required)")
	top := fs.Int("top", 10, "number of next tokens to print")
	config := fs.String("config", "exact", "session configuration: exact (F32 KV cache, flash attention off) or default (llama.cpp's)")
	ref := fs.Bool("reference", false, "recompute with the pure-Go reference forward pass and print the differences")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *modelPath == "":
		return fmt.Errorf("%w: --model is required", errUsage)
	case *prompt == "":
		return fmt.Errorf("%w: --prompt is required", errUsage)
	case *top < 1:
		return fmt.Errorf("%w: --top must be at least 1", errUsage)
	}
	var cfg *llama.SessionConfig
	switch *config {
	case "exact":
		cfg = llama.ExactSession(0)
	case "default":
		cfg = &llama.SessionConfig{}
	default:
		return fmt.Errorf("%w: --config %q: want exact or default", errUsage, *config)
	}

	m, err := llama.Load(ctx, *modelPath, nil)
	if err != nil {
		return err
	}
	defer m.Close()
	tokens, err := m.Tokenize(*prompt, true)
	if err != nil {
		return err
	}
	lps, err := evaluate(ctx, m, cfg, tokens)
	if err != nil {
		return err
	}
	last := lps[len(lps)-1]

	var want [][]float64
	if *ref {
		r, err := reference.Load(*modelPath)
		if err != nil {
			return err
		}
		ids := make([]int, len(tokens))
		for i, t := range tokens {
			ids[i] = int(t)
		}
		if want, err = r.LogProbs(ids); err != nil {
			return err
		}
	}

	if f, err := gguf.Open(*modelPath); err == nil {
		if d, err := f.String("general.description"); err == nil {
			fmt.Fprintf(stdout, "model:   %s (%s)\n", *modelPath, d)
		} else {
			fmt.Fprintf(stdout, "model:   %s\n", *modelPath)
		}
	}
	fmt.Fprintf(stdout, "prompt:  %d tokens; session: %s\n", len(tokens), describe(cfg))
	fmt.Fprintf(stdout, "next token, natural-log probabilities of the raw distribution over %d tokens:\n\n", m.VocabSize())

	order := make([]int, len(last))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(last[b], last[a]) })
	tw := tabwriter.NewWriter(stdout, 2, 0, 2, ' ', tabwriter.AlignRight)
	header := "rank\ttoken\tid\tlog p\tp\t"
	if want != nil {
		header += "reference log p\t|difference|\t"
	}
	fmt.Fprintln(tw, header)
	for rank, id := range order[:min(*top, len(order))] {
		text, _ := m.TokenText(int32(id))
		row := fmt.Sprintf("%d\t%s\t%d\t%.6f\t%.4f\t", rank+1, strconv.Quote(text), id, last[id], math.Exp(last[id]))
		if want != nil {
			w := want[len(want)-1][id]
			row += fmt.Sprintf("%.6f\t%.1e\t", w, math.Abs(last[id]-w))
		}
		fmt.Fprintln(tw, row)
	}
	tw.Flush()

	var entropy float64
	for _, lp := range last {
		entropy -= math.Exp(lp) * lp
	}
	fmt.Fprintf(stdout, "\nentropy of the next-token distribution: %.4f nats\n", entropy)
	if want != nil {
		fmt.Fprintf(stdout, "max |llama.cpp − reference| over all %d tokens at all %d positions: %.2e nats\n",
			m.VocabSize(), len(lps), maxAbsDiff(lps, want))
		if *config == "exact" {
			def, err := evaluate(ctx, m, &llama.SessionConfig{}, tokens)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "the same with llama.cpp's defaults (%s): %.2e nats\n",
				describe(&llama.SessionConfig{}), maxAbsDiff(def, want))
		}
	}
	return nil
}

func evaluate(ctx context.Context, m *llama.Model, cfg *llama.SessionConfig, tokens []int32) ([][]float64, error) {
	c := *cfg
	if c.ContextLen == 0 {
		c.ContextLen = len(tokens)
	}
	s, err := m.NewSession(&c)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.LogProbs(ctx, tokens)
}

func describe(cfg *llama.SessionConfig) string {
	fa := map[llama.FlashAttention]string{llama.FlashAttentionAuto: "auto", llama.FlashAttentionOff: "off", llama.FlashAttentionOn: "on"}[cfg.FlashAttention]
	return fmt.Sprintf("%s KV cache, flash attention %s", cfg.KVCache, fa)
}

func maxAbsDiff(a, b [][]float64) float64 {
	var d float64
	for i := range a {
		for j := range a[i] {
			d = max(d, math.Abs(a[i][j]-b[i][j]))
		}
	}
	return d
}
