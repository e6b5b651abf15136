//go:build cgo

package llama_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labelfree/labelfree/internal/gguf"
	"github.com/labelfree/labelfree/llama"
)

// BenchmarkPromptLogProbs evaluates a 128-token prompt and the full-vocabulary
// log-softmax at every position, in the exact configuration and in
// llama.cpp's default one. Both run in every iteration, one after the other
// on the same loaded model, so the reported ratio exact/default comes from
// one run and the machine's drift cancels out. It runs on the tiny model, and
// on LABELFREE_BENCH_MODEL when set (make bench sets it to a generated
// Qwen3-0.6B-shape Q4_K_M model).
func BenchmarkPromptLogProbs(b *testing.B) {
	models := []string{tinyModel(b, gguf.F32)}
	if p := os.Getenv("LABELFREE_BENCH_MODEL"); p != "" {
		models = append(models, p)
	}
	tokens := make([]int32, 128)
	for i := range tokens {
		tokens[i] = int32(32 + i%90) // printable bytes; ordinary ids in the Qwen vocabulary too
	}
	for _, path := range models {
		b.Run("model="+filepath.Base(path), func(b *testing.B) {
			m, err := llama.Load(b.Context(), path, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			exact, err := m.NewSession(llama.ExactSession(256))
			if err != nil {
				b.Fatal(err)
			}
			def, err := m.NewSession(&llama.SessionConfig{ContextLen: 256})
			if err != nil {
				b.Fatal(err)
			}
			var tExact, tDefault time.Duration
			for b.Loop() {
				t0 := time.Now()
				if _, err := exact.LogProbs(b.Context(), tokens); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if _, err := def.LogProbs(b.Context(), tokens); err != nil {
					b.Fatal(err)
				}
				tExact, tDefault = tExact+t1.Sub(t0), tDefault+time.Since(t1)
			}
			n := float64(len(tokens) * b.N)
			b.ReportMetric(n/tExact.Seconds(), "exact-tokens/s")
			b.ReportMetric(n/tDefault.Seconds(), "default-tokens/s")
			b.ReportMetric(tExact.Seconds()/tDefault.Seconds(), "exact/default")
		})
	}
}

// BenchmarkLogSoftmax is the float64 Go log-softmax over one row of the real
// Qwen vocabulary (151,936 logits), the per-token cost of exact log-probs.
func BenchmarkLogSoftmax(b *testing.B) {
	logits := make([]float32, 151936)
	for i := range logits {
		logits[i] = float32(i%1000) / 100
	}
	dst := make([]float64, len(logits))
	for b.Loop() {
		llama.LogSoftmax(dst, logits)
	}
}

// BenchmarkGenerateBatched generates K = 16 sampled traces of 64 tokens after
// a 128-token prompt on LABELFREE_BENCH_MODEL, first decoded together (one
// Generate call: the prompt once, 16 sequences per decode), then the same
// 16 traces (same seeds) one after another (16 Generate calls on a
// one-sequence session), all in the exact configuration. When
// LABELFREE_LLAMACPP_TOOLS names the directory of llama.cpp's own tools
// (scripts/llamacpp-bench.sh build; make bench sets it), each iteration
// also runs llama-batched-bench with the same model, threads, prompt,
// lengths and cache settings at B = 1 sixteen times (-npl 1,1,…,1,16: each
// row starts from an empty cache, so the sixteen B = 1 rows are the tool's
// one-after-another baseline, as long and as noisy as ours) and at B = 16.
// Everything runs in every iteration, so each ratio comes from one run:
//
//	speedup       our sequential time / our batched time
//	tool-speedup  Σ T(B=1) over the 16 rows / T(B=16) of llama-batched-bench
//	vs-tool       our batched throughput / llama-batched-bench's at B=16
func BenchmarkGenerateBatched(b *testing.B) {
	path := os.Getenv("LABELFREE_BENCH_MODEL")
	if path == "" {
		b.Skip("set LABELFREE_BENCH_MODEL (make bench does)")
	}
	tools := os.Getenv("LABELFREE_LLAMACPP_TOOLS")
	const k, promptLen, steps, threads = 16, 128, 64, 2
	m, err := llama.Load(b.Context(), path, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	exact := func(seqs, ctx int) *llama.Session {
		cfg := llama.ExactSession(ctx)
		cfg.Sequences, cfg.Threads = seqs, threads
		s, err := m.NewSession(cfg)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	together, alone := exact(k, promptLen+k*steps+16), exact(1, promptLen+steps+16)
	defer together.Close()
	defer alone.Close()
	prompt := make([]int32, promptLen)
	for i := range prompt {
		prompt[i] = int32(32 + i%90)
	}
	var tBatched, tSequential, tTool1, tTool16 time.Duration
	var tokens int
	for b.Loop() {
		t0 := time.Now()
		traces, err := together.Generate(b.Context(), prompt, &llama.GenerateConfig{Samples: k, NoGreedy: true, MaxTokens: steps, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		for i := range k {
			// Trace i+1 of seed 1 has seed 2+i: alone it is trace 1 of seed 1+i.
			if _, err := alone.Generate(b.Context(), prompt, &llama.GenerateConfig{Samples: 1, NoGreedy: true, MaxTokens: steps, Seed: uint64(1 + i)}); err != nil {
				b.Fatal(err)
			}
		}
		tBatched, tSequential = tBatched+t1.Sub(t0), tSequential+time.Since(t1)
		for _, tr := range traces {
			tokens += len(tr.Tokens)
		}
		if tools != "" {
			rows := runTool(b, filepath.Join(tools, "llama-batched-bench"), "-m", path, "-c", fmt.Sprint(promptLen+k*steps),
				"-b", "2048", "-ub", "512", "-npp", fmt.Sprint(promptLen), "-ntg", fmt.Sprint(steps), "-npl", strings.Repeat("1,", k)+fmt.Sprint(k),
				"-t", fmt.Sprint(threads), "-tb", fmt.Sprint(threads), "-pps", "-kvu", "-fa", "off", "-ctk", "f32", "-ctv", "f32",
				"--output-format", "jsonl")
			for _, r := range rows {
				d := time.Duration(r["t"].(float64) * float64(time.Second))
				switch r["pl"].(float64) {
				case 1:
					tTool1 += d
				case k:
					tTool16 += d
				}
			}
		}
	}
	if tokens != b.N*k*steps {
		b.Logf("traces ended early: %d tokens instead of %d", tokens, b.N*k*steps)
	}
	b.ReportMetric(float64(tokens)/tBatched.Seconds(), "batched-tokens/s")
	b.ReportMetric(float64(tokens)/tSequential.Seconds(), "sequential-tokens/s")
	b.ReportMetric(tSequential.Seconds()/tBatched.Seconds(), "speedup")
	if tools != "" {
		b.ReportMetric(tTool1.Seconds()/tTool16.Seconds(), "tool-speedup")
		b.ReportMetric(tTool16.Seconds()/tBatched.Seconds(), "vs-tool")
	}
}

// BenchmarkScore scores one 512-token text (256 prompt + 256 continuation
// tokens: log-probability and entropy at 256 positions) on
// LABELFREE_BENCH_MODEL with an F16 KV cache and flash attention off. With
// LABELFREE_LLAMACPP_TOOLS it runs in the same iteration, with the same
// threads, batch and cache settings (llama.cpp's tools cannot use an F32 KV
// cache, so the comparison is not in the exact configuration):
//   - llama-bench's prompt processing of 512 tokens (vs-pp): llama-bench
//     applies the output head to the last position only;
//   - llama-perplexity on one 512-token chunk (vs-perplexity): it applies
//     the output head to the second half of the chunk, the same 256
//     positions as this scoring, and its timing leaves out its own
//     log-softmax, which ours includes.
func BenchmarkScore(b *testing.B) {
	path := os.Getenv("LABELFREE_BENCH_MODEL")
	if path == "" {
		b.Skip("set LABELFREE_BENCH_MODEL (make bench does)")
	}
	tools := os.Getenv("LABELFREE_LLAMACPP_TOOLS")
	const promptLen, contLen, threads = 256, 256, 2
	m, err := llama.Load(b.Context(), path, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	cfg := &llama.SessionConfig{ContextLen: promptLen + contLen, BatchSize: 512, Threads: threads,
		KVCache: llama.KVCacheF16, FlashAttention: llama.FlashAttentionOff}
	s, err := m.NewSession(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	req := llama.ScoreRequest{Prompt: make([]int32, promptLen), Continuation: make([]int32, contLen)}
	for i := range req.Prompt {
		req.Prompt[i] = int32(32 + i%90)
	}
	for i := range req.Continuation {
		req.Continuation[i] = int32(300 + 7*i)
	}
	// llama-perplexity reads text; it needs two chunks' worth of tokens
	// even when it evaluates one.
	text := filepath.Join(b.TempDir(), "text.txt")
	var sb strings.Builder
	for i := 0; sb.Len() < 64<<10; i++ {
		fmt.Fprintf(&sb, "Knocking down gene %d changes the expression of gene %d in K562 cells. ", i, 7*i%1000)
	}
	if err := os.WriteFile(text, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	var tOurs time.Duration
	var ppTPS, pplTPS []float64
	for b.Loop() {
		t0 := time.Now()
		if _, err := s.Score(b.Context(), []llama.ScoreRequest{req}); err != nil {
			b.Fatal(err)
		}
		tOurs += time.Since(t0)
		if tools == "" {
			continue
		}
		rows := runTool(b, filepath.Join(tools, "llama-bench"), "-m", path, "-p", fmt.Sprint(promptLen+contLen), "-n", "0",
			"-b", "512", "-ub", "512", "-t", fmt.Sprint(threads), "-r", "1", "-fa", "off", "-ctk", "f16", "-ctv", "f16", "-o", "jsonl")
		for _, r := range rows {
			ppTPS = append(ppTPS, r["avg_ts"].(float64))
		}
		out, err := exec.CommandContext(b.Context(), filepath.Join(tools, "llama-perplexity"), "-m", path, "-f", text,
			"-c", fmt.Sprint(promptLen+contLen), "-b", "512", "-ub", "512", "--chunks", "1", "-t", fmt.Sprint(threads),
			"-fa", "off", "-ctk", "f16", "-ctv", "f16").CombinedOutput()
		if err != nil {
			b.Fatalf("llama-perplexity: %v\n%s", err, out)
		}
		match := perPass.FindSubmatch(out)
		if match == nil {
			b.Fatalf("llama-perplexity printed no seconds per pass:\n%s", out)
		}
		sec, err := strconv.ParseFloat(string(match[1]), 64)
		if err != nil || sec <= 0 {
			b.Fatalf("llama-perplexity: seconds per pass %q", match[1])
		}
		pplTPS = append(pplTPS, float64(promptLen+contLen)/sec)
	}
	ours := float64((promptLen+contLen)*b.N) / tOurs.Seconds()
	b.ReportMetric(ours, "tokens/s")
	if len(ppTPS) > 0 {
		b.ReportMetric(mean(ppTPS), "pp-tokens/s")
		b.ReportMetric(ours/mean(ppTPS), "vs-pp")
		b.ReportMetric(mean(pplTPS), "perplexity-tokens/s")
		b.ReportMetric(ours/mean(pplTPS), "vs-perplexity")
	}
}

// perPass matches llama-perplexity's timing of its first chunk.
var perPass = regexp.MustCompile(`([0-9.]+) seconds per pass`)

func mean(xs []float64) float64 {
	var m float64
	for _, x := range xs {
		m += x / float64(len(xs))
	}
	return m
}

// runTool runs one of llama.cpp's tools and returns the JSON objects it
// printed one per line.
func runTool(b *testing.B, tool string, args ...string) []map[string]any {
	b.Helper()
	out, err := exec.CommandContext(b.Context(), tool, args...).Output()
	if err != nil {
		b.Fatalf("%s: %v", tool, err)
	}
	var rows []map[string]any
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			b.Fatalf("%s: %v in %q", tool, err, line)
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		b.Fatalf("%s printed no JSON rows", tool)
	}
	return rows
}
