package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/labelfree/labelfree/sampling"
)

// shardHelp is how sharded sampling works, for the help of sample and
// merge.
const shardHelp = "Sharding: --shard i/n generates only the questions of shard i of n (chosen by a hash of each\n" +
	"question's id, so the n shards split the questions whatever their order) into\n" +
	"OUT/traces.shard-i-of-n.jsonl; each shard resumes on its own. --shard auto/n takes i from\n" +
	"SLURM_ARRAY_TASK_ID (a Slurm array submitted with --array=0-(n-1)) or else JOB_COMPLETION_INDEX\n" +
	"(a Kubernetes Indexed Job). Run every shard with the same configuration (the same model path,\n" +
	"questions and sampling settings), then labelfree merge joins the shard files into OUT/traces.jsonl,\n" +
	"byte for byte the file one unsharded run writes, and labelfree run (or score, filter, …) goes on\n" +
	"from it. run itself does not shard: its later stages need every question's traces."

// shardFile is the name of a shard's trace file inside OUT.
func shardFile(sh sampling.Shard) string {
	return fmt.Sprintf("traces.shard-%d-of-%d.jsonl", sh.Index, sh.Count)
}

// shardFileName matches shardFile's names: index, count.
var shardFileName = regexp.MustCompile(`^traces\.shard-(\d+)-of-(\d+)\.jsonl$`)

// tracesPath is the trace file of shard sh: OUT/traces.jsonl for the zero
// shard (all questions), OUT/traces.shard-i-of-n.jsonl otherwise.
func (c *Config) tracesPath(sh sampling.Shard) string {
	if sh.Count == 0 {
		return c.path(tracesFile)
	}
	return c.path(shardFile(sh))
}

// parseShardFlag reads --shard: "" for all questions, "i/n", or "auto/n"
// for shard i of n with i from the environment (sampling.ShardFromEnv).
// Every error is a usage error.
func parseShardFlag(s string) (sampling.Shard, error) {
	bad := func(err error) (sampling.Shard, error) {
		return sampling.Shard{}, fmt.Errorf("%w: --shard %q: %s", errUsage, s, strings.ReplaceAll(err.Error(), "sampling: ", ""))
	}
	if rest, ok := strings.CutPrefix(s, "auto/"); ok {
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 {
			return bad(errors.New("want auto/n with an integer n ≥ 1"))
		}
		sh, err := sampling.ShardFromEnv(n)
		if err != nil {
			return bad(err)
		}
		return sh, nil
	}
	sh, err := sampling.ParseShard(s)
	if err != nil {
		return bad(err)
	}
	return sh, nil
}

func runMerge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := newFlags("merge [flags] [SHARD-FILE ...]",
		"Joins the trace files of a sharded sampling (labelfree sample --shard i/n) into OUT/traces.jsonl,\n"+
			"the groups in the configuration's question order under the shards' header less its shard.\n"+
			"It reads OUT/traces.shard-*-of-N.jsonl, or the files given after the flags (shards gathered from\n"+
			"other machines). It checks that the files come from one configuration, that each shard 0 … N−1\n"+
			"is there once and complete, and that every question of the configuration has exactly one group;\n"+
			"an unfinished shard is an error (resume it with its sample command). OUT/traces.jsonl is written\n"+
			"atomically; an existing one is replaced only if it comes from the same configuration.\n\n"+
			shardHelp,
		`labelfree merge --config run.yaml`, stderr)
	load := configFlags(fset)
	count := fset.Int("shards", 0, "merge OUT/traces.shard-*-of-N.jsonl for this N (needed when files of several N are there)")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	files := fset.Args()
	if len(files) > 0 && *count != 0 {
		return fmt.Errorf("%w: give shard files or --shards, not both", errUsage)
	}
	if *count < 0 {
		return fmt.Errorf("%w: --shards %d: must be at least 1", errUsage, *count)
	}
	c, err := load()
	if err != nil {
		return err
	}
	if len(files) == 0 {
		if files, err = findShards(c, *count); err != nil {
			return err
		}
	}
	items, err := c.items(ctx)
	if err != nil {
		return err
	}
	out := c.path(tracesFile)
	if err := checkReplace(out, files[0]); err != nil {
		return err
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return err
	}
	if err := sampling.Merge(ctx, out, items, files...); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "merge: %d questions from %d shard files: %s\n", len(items), len(files), out)
	return nil
}

// findShards returns the shard files in c.Out of count shards, or of the
// only count there is if count is 0, in shard order.
func findShards(c *Config, count int) ([]string, error) {
	ents, err := os.ReadDir(c.Out)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	byCount := map[int][]string{}
	for _, e := range ents {
		m := shardFileName.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		byCount[n] = append(byCount[n], filepath.Join(c.Out, e.Name()))
	}
	if count == 0 {
		switch len(byCount) {
		case 0:
			return nil, fmt.Errorf("no shard files (traces.shard-i-of-n.jsonl) in %s: run labelfree sample --shard i/n first", c.Out)
		case 1:
			for n := range byCount {
				count = n
			}
		default:
			var ns []string
			for n := range byCount {
				ns = append(ns, strconv.Itoa(n))
			}
			slices.Sort(ns)
			return nil, fmt.Errorf("%w: %s holds shard files of %s shards: choose with --shards", errUsage, c.Out, strings.Join(ns, " and "))
		}
	}
	files := byCount[count]
	if len(files) == 0 {
		return nil, fmt.Errorf("no files of %d shards (traces.shard-i-of-%d.jsonl) in %s", count, count, c.Out)
	}
	// Shard order, so that errors name the files in a natural order
	// (Merge itself takes them in any).
	slices.SortFunc(files, func(a, b string) int {
		ia, _ := strconv.Atoi(shardFileName.FindStringSubmatch(filepath.Base(a))[1])
		ib, _ := strconv.Atoi(shardFileName.FindStringSubmatch(filepath.Base(b))[1])
		return ia - ib
	})
	return files, nil
}

// checkReplace refuses to let a merge replace out, an existing trace file,
// unless its header is the shard file's less the shard: a trace file of
// the same configuration (a finished or unfinished unsharded run, or an
// earlier merge), which the merge completes.
func checkReplace(out, shard string) error {
	h, err := readHeader(out)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s exists and is not a trace file (%v); not replacing it", out, err)
	}
	sh, err := readHeader(shard)
	if err != nil {
		return err
	}
	sh.Shard = sampling.Shard{}
	if !reflect.DeepEqual(h, sh) {
		return fmt.Errorf("%s exists and comes from another run than %s (another model, task or sampling settings); "+
			"remove it, or merge into another --out", out, shard)
	}
	return nil
}

// readHeader returns the header of the trace file name.
func readHeader(name string) (sampling.Header, error) {
	f, err := os.Open(name)
	if err != nil {
		return sampling.Header{}, err
	}
	defer f.Close()
	r, err := sampling.NewReader(f, name)
	if err != nil {
		return sampling.Header{}, err
	}
	return r.Header(), nil
}
