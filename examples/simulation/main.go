// Command simulation runs the paper's per-class vs global filtering
// ablation on SIMULATED data: a teacher whose uncertainty runs on a wider
// scale for some answer classes than for others, even when it is right.
// It needs no model and no GPU, prints a small table and writes a report
// directory (see README.md).
//
// Usage:
//
//	go run ./examples/simulation [-out DIR] [-seed N]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	p := defaultParams()
	out := flag.String("out", "", "directory for the score file and the report (default: a new temporary directory)")
	flag.Uint64Var(&p.Seed, "seed", p.Seed, "seed of the simulation and of the random strategy")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := start(ctx, *out, p); err != nil {
		fmt.Fprintln(os.Stderr, "simulation:", err)
		os.Exit(1)
	}
}

func start(ctx context.Context, out string, p params) error {
	if out == "" {
		dir, err := os.MkdirTemp("", "labelfree-simulation-")
		if err != nil {
			return err
		}
		out = dir
	} else if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	_, err := run(ctx, os.Stdout, out, p)
	return err
}
