package finetune_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The tests run this test binary as the "python" of a Config, with
// Script "standin" and LABELFREE_STANDIN=<mode> in Env: TestMain then
// plays qlora.py's protocol (stdout events, stderr log, checkpoints in
// output_dir, SIGTERM) without torch, and exits.
const standinEnv = "LABELFREE_STANDIN"

// standin runs the stand-in script in mode and returns its exit status.
func standin(mode string, args []string) int {
	if mode == "convert" {
		// convert_lora_to_gguf.py SCRIPT --outfile OUT --outtype T [--base B] ADAPTER:
		// the "GGUF" written is the command line, for the test to check.
		for i, a := range args {
			if a == "--outfile" && i+1 < len(args) {
				b, _ := json.Marshal(args)
				if err := os.WriteFile(args[i+1], b, 0o644); err != nil {
					fmt.Fprintln(os.Stderr, err)
					return 1
				}
				return 0
			}
		}
		fmt.Fprintln(os.Stderr, "convert: no --outfile")
		return 2
	}
	fs := flag.NewFlagSet("standin", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "")
	data := fs.String("data", "", "")
	fs.String("eval", "", "")
	fs.Bool("check", false, "")
	if len(args) > 0 && args[0] == "standin" {
		args = args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var cfg struct {
		OutputDir string `json:"output_dir"`
		MaxSteps  int    `json:"max_steps"`
		Rank      int    `json:"rank"`
	}
	b, err := os.ReadFile(*cfgPath)
	if err == nil {
		err = json.Unmarshal(b, &cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "standin:", err)
		return 2
	}
	emit := func(v map[string]any) {
		b, _ := json.Marshal(v)
		os.Stdout.Write(append(b, '\n'))
	}
	out := cfg.OutputDir
	if pid := os.Getenv("LABELFREE_STANDIN_PIDFILE"); pid != "" {
		os.WriteFile(pid, []byte(strconv.Itoa(os.Getpid())), 0o644)
	}
	switch mode {
	case "check":
		emit(map[string]any{"event": "check", "ok": true, "files": map[string]any{*data: map[string]any{
			"examples": 2, "classes": map[string]int{"up": 1, "down": 1}, "no_answer": 0,
			"tokens_estimate": map[string]any{"mean": 10.5, "p95": 12, "max": 12}, "over_max_length": 0}},
			"warnings": []string{"a warning"}})
		return 0
	case "fail":
		for i := range 30 {
			fmt.Fprintf(os.Stderr, "log line %d\n", i)
		}
		fmt.Fprintln(os.Stderr, "qlora.py: error: data.jsonl:7: message 1 (assistant): empty content")
		return 1
	case "train":
		start := 0
		resume := any(nil)
		if ck := lastCheckpoint(out); ck != "" {
			resume = ck
			start, _ = strconv.Atoi(strings.TrimPrefix(filepath.Base(ck), "checkpoint-"))
		}
		total := cfg.MaxSteps
		emit(map[string]any{"event": "start", "resume_from": resume, "examples": 8, "total_steps": total})
		os.Stdout.WriteString("a library printing to stdout\n")
		emit(map[string]any{"not_an_event": true})
		for s := start + 1; s <= total; s++ {
			os.MkdirAll(filepath.Join(out, fmt.Sprintf("checkpoint-%d", s)), 0o755)
			emit(map[string]any{"event": "progress", "step": s, "total_steps": total, "epoch": float64(s) / float64(total),
				"loss": 2.0 / float64(s), "lr": []float64{0, 2e-5, 4e-5, 6e-5}[min(s, 3)], "tokens_per_second": 1000.0 + float64(s),
				"eta_seconds": float64(total - s)})
		}
		adapter := filepath.Join(out, "adapter")
		os.MkdirAll(adapter, 0o755)
		emit(map[string]any{"event": "result", "adapter_dir": adapter, "steps": total, "train_loss": 1.25})
		return 0
	case "term":
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		emit(map[string]any{"event": "start", "resume_from": nil, "examples": 8, "total_steps": 100})
		emit(map[string]any{"event": "progress", "step": 1, "total_steps": 100, "loss": 2.0, "lr": 2e-5, "eta_seconds": nil, "tokens_per_second": nil})
		select {
		case <-term:
		case <-time.After(time.Minute):
			return 3
		}
		ck := filepath.Join(out, "checkpoint-1")
		os.MkdirAll(ck, 0o755)
		fmt.Fprintln(os.Stderr, "saving checkpoint after SIGTERM")
		emit(map[string]any{"event": "stopped", "checkpoint": ck})
		return 143
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
		emit(map[string]any{"event": "start", "resume_from": nil, "examples": 8, "total_steps": 100})
		emit(map[string]any{"event": "progress", "step": 1, "total_steps": 100, "loss": 2.0})
		time.Sleep(time.Minute)
		return 3
	}
	fmt.Fprintln(os.Stderr, "standin: unknown mode", mode)
	return 2
}

func lastCheckpoint(dir string) string {
	ms, _ := filepath.Glob(filepath.Join(dir, "checkpoint-*"))
	sort.Slice(ms, func(i, j int) bool {
		a, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(ms[i]), "checkpoint-"))
		b, _ := strconv.Atoi(strings.TrimPrefix(filepath.Base(ms[j]), "checkpoint-"))
		return a < b
	})
	if len(ms) == 0 {
		return ""
	}
	return ms[len(ms)-1]
}
