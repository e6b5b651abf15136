// Command labelfree builds reasoning datasets without labels.
//
// This first version has the commands that the foundation needs: generate
// a Qwen3 test model, list llama.cpp's devices, and print exact next-token
// log-probabilities. The pipeline commands (sample, score, filter, export,
// eval, report, finetune, run) come with the packages they drive.
//
// Exit codes: 0 success, 1 failure, 2 usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// errUsage marks errors caused by how the command was called (exit code 2).
var errUsage = errors.New("usage")

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"run", "run the whole pipeline from a YAML configuration (sample, score, filter, export, report)", runRun},
	{"sample", "generate greedy + K sampled traces per question with token log-probabilities", runSample},
	{"merge", "join the trace files of sharded sampling (sample --shard i/n) into OUT/traces.jsonl", runMerge},
	{"score", "compute the uncertainty estimators of every question's traces", stageCommand("score",
		"Reads OUT/traces.jsonl and writes OUT/scores.jsonl: every configured estimator for every group.",
		"labelfree score --config run.yaml", scoreStage)},
	{"filter", "keep the least uncertain groups per predicted class (or globally, or at random)", stageCommand("filter",
		"Reads OUT/scores.jsonl and writes OUT/selection.jsonl and OUT/selection-summary.json.",
		"labelfree filter --config run.yaml --strategy per-class --estimator cocoa-ppl --fraction 0.3", filterStage)},
	{"export", "write the kept traces as chat-format SFT data", stageCommand("export",
		"Reads OUT/selection.jsonl and OUT/traces.jsonl and writes OUT/sft/train.jsonl and validation.jsonl\n"+
			"({\"messages\": [...]} per line, as TRL's SFTTrainer and HF datasets read).",
		"labelfree export --config run.yaml", exportStage)},
	{"eval", "print the greedy answers' metrics and each estimator's PRR and ROC-AUC (needs labels)", stageCommand("eval",
		"Reads OUT/scores.jsonl and OUT/traces.jsonl and prints per-class precision, recall and F1 of the\n"+
			"greedy answers against the gold labels, and how well each estimator's uncertainty ranks their\n"+
			"correctness (normalised PRR, ROC-AUC). Writes nothing; `labelfree report` writes the full report.",
		"labelfree eval --config run.yaml --json", evalStage)},
	{"finetune", "QLoRA on the exported SFT data (CUDA GPU; --check needs only python3)", runFinetune},
	{"report", "write tables and plots of what filtering did (needs labels)", stageCommand("report",
		"Reads the traces, scores and selection of OUT and writes OUT/report/ (index.md, tables/, plots/).",
		"labelfree report --config run.yaml", reportStage)},
	{"annotate", "expert review of traces: serve a rating page (annotate serve), measure the ratings (annotate report)", runAnnotate},
	{"model", "generate a Qwen3 test model: seeded random weights or the toy reasoner (model gen)", runModel},
	{"logprobs", "print the exact next-token log-probabilities of a prompt", runLogProbs},
	{"devices", "list the compute devices llama.cpp found", runDevices},
	{"version", "print the version", func(_ context.Context, _ []string, stdout, _ io.Writer) error {
		fmt.Fprintln(stdout, "labelfree", version)
		return nil
	}},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "labelfree builds reasoning datasets without labels.")
	fmt.Fprintln(w, "\nUsage: labelfree <command> [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'labelfree <command> --help' for a command's flags and an example.")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil || errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintln(stderr, "labelfree", c.name+":", err)
			return 2
		default:
			fmt.Fprintln(stderr, "labelfree", c.name+":", err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "labelfree: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// newFlags returns a flag set whose --help prints the synopsis, the example
// and the flags.
func newFlags(name, synopsis, example string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: labelfree %s\n\n%s\n\nExample:\n  %s\n\nFlags:\n", name, synopsis, example)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags and turns parse failures into usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}
