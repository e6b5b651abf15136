package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/labelfree/labelfree/internal/gguf"
	"github.com/labelfree/labelfree/internal/testmodel"
	"github.com/labelfree/labelfree/llama"
)

func runModel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "gen" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(stdout, "Usage: labelfree model gen [flags]   (see labelfree model gen --help)")
			return nil
		}
		return fmt.Errorf("%w: want 'model gen'", errUsage)
	}
	fs := newFlags("model gen",
		"Writes a Qwen3-architecture GGUF model with seeded random weights (its output is meaningless),\n"+
			"for tests and benchmarks. Shapes: tiny, qwen3-0.6b, qwen3-1.7b; the real shapes need --vocab.",
		"labelfree model gen --shape tiny --seed 1 --out tiny.gguf", stderr)
	shape := fs.String("shape", "tiny", "model shape: tiny, qwen3-0.6b, qwen3-1.7b, or toy (the hand-set toy reasoner of the demo)")
	seed := fs.Uint64("seed", 1, "weight seed")
	out := fs.String("out", "", "output GGUF file (required)")
	f16 := fs.Bool("f16", false, "store weight matrices as F16 instead of F32")
	vocab := fs.String("vocab", "", "GGUF whose tokenizer to copy (e.g. ggml-vocab-qwen2.gguf); empty: byte-level")
	quant := fs.String("quantize", "", "also quantize through llama.cpp: Q8_0, Q4_K_M, Q5_K_M or Q6_K (writes <out> as the quantized file)")
	force := fs.Bool("force", false, "overwrite an existing file")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	if *shape == "toy" {
		return writeToy(stdout, *out, *seed, *force, *f16 || *vocab != "" || *quant != "")
	}
	s, err := testmodel.ShapeByName(*shape)
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	var q llama.QuantType
	if *quant != "" {
		if q, err = llama.ParseQuantType(*quant); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	opts := &testmodel.Options{Shape: s, Seed: *seed, VocabFile: *vocab}
	if *f16 {
		opts.Type = gguf.F16
	}
	if _, err := os.Stat(*out); err == nil && !*force {
		if err := sameModel(*out, opts, *quant != "", q); err != nil {
			return fmt.Errorf("%s exists but %v: use --force to rewrite it", *out, err)
		}
		fmt.Fprintf(stdout, "%s exists with the same options (%s); kept\n", *out, opts)
		return nil
	}
	target := *out
	if *quant != "" {
		target = *out + ".f.gguf"
		defer os.Remove(target)
	}
	if err := testmodel.Write(target, opts); err != nil {
		return err
	}
	if *quant != "" {
		if err := llama.Quantize(ctx, target, *out, q, 0); err != nil {
			return err
		}
	}
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (%s shape, seed %d, %.1f MB; random weights)\n", *out, s.Name, *seed, float64(st.Size())/1e6)
	return nil
}

func runDevices(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("devices", "Lists the compute devices of the ggml backends llama.cpp loaded.", "labelfree devices", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	devs, err := llama.Devices()
	if err != nil {
		return err
	}
	for _, d := range devs {
		fmt.Fprintf(stdout, "%-8s %-5s %s\n", d.Name, d.Type, d.Description)
	}
	info, err := llama.SystemInfo()
	if err == nil {
		fmt.Fprintln(stdout, info)
	}
	return nil
}

// sameModel checks that the model at path was generated with opts (and
// quantized to q when quantized is set).
func sameModel(path string, opts *testmodel.Options, quantized bool, q llama.QuantType) error {
	f, err := gguf.Open(path)
	if err != nil {
		return err
	}
	if got, _ := f.String(testmodel.OptionsKey); got != opts.String() {
		return fmt.Errorf("was generated with %q, not %q", got, opts.String())
	}
	kv, _ := f.Lookup("general.file_type")
	ft, _ := kv.Value.(uint32)
	if quantized && ft != uint32(q) {
		return fmt.Errorf("has file type %d, not %v", ft, q)
	}
	if !quantized && ft != map[gguf.Type]uint32{gguf.F32: 0, gguf.F16: 1}[opts.Type] {
		return fmt.Errorf("has file type %d (quantized?), not %v", ft, opts.Type)
	}
	return nil
}

// writeToy writes the toy reasoner unless out already holds the same one.
func writeToy(stdout io.Writer, out string, seed uint64, force, otherFlags bool) error {
	if otherFlags {
		return fmt.Errorf("%w: --shape toy takes no --f16, --vocab or --quantize", errUsage)
	}
	want := testmodel.ToyOptions(seed)
	if !force {
		if f, err := gguf.Open(out); err == nil {
			got, _ := f.String(testmodel.OptionsKey)
			if got == want {
				fmt.Fprintf(stdout, "%s exists with the same options (%s); kept\n", out, want)
				return nil
			}
			return fmt.Errorf("%s exists but holds another model (%q): use --force to rewrite it", out, got)
		}
	}
	if err := testmodel.WriteToy(out, seed); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (toy reasoner, seed %d; hand-set weights: its answers mean nothing)\n", out, seed)
	return nil
}
