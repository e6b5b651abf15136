package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/labelfree/labelfree/filter"
	"github.com/labelfree/labelfree/internal/gguf"
	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/score"
)

// TestMain lets the test binary stand in for the labelfree command, so that
// a test can run it as a child process and kill it.
func TestMain(m *testing.M) {
	if args := os.Getenv("LABELFREE_TEST_MAIN"); args != "" {
		var argv []string
		if err := json.Unmarshal([]byte(args), &argv); err != nil {
			panic(err)
		}
		os.Exit(run(context.Background(), argv, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// writeFixture writes a PerturbQA-shaped k562 data set of n test pairs
// (every third one differentially expressed, alternately up and down) and
// a run configuration on the toy model into dir, and returns the
// configuration's path.
func writeFixture(t *testing.T, dir string, n int) string {
	t.Helper()
	var de, dirCSV bytes.Buffer
	de.WriteString("pert,gene,label,split\n")
	dirCSV.WriteString("pert,gene,label,split\n")
	for i := range n {
		pert, gene := fmt.Sprintf("PERT%d", i%4), fmt.Sprintf("GENE%02d", i)
		isDE := i%3 == 0
		fmt.Fprintf(&de, "%s,%s,%d,test\n", pert, gene, map[bool]int{false: 0, true: 1}[isDE])
		if isDE {
			fmt.Fprintf(&dirCSV, "%s,%s,%d,test\n", pert, gene, i%2)
		}
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"k562-de.csv": de.Bytes(), "k562-dir.csv": dirCSV.Bytes()} {
		if err := os.WriteFile(filepath.Join(data, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, stderr := runArgs(t, "model", "gen", "--shape", "toy", "--seed", "7", "--out", filepath.Join(dir, "toy.gguf")); code != 0 {
		t.Fatalf("model gen: exit %d: %s", code, stderr)
	}
	cfg := fmt.Sprintf(`out: out
task: {data: data, cell: k562, split: test, n: %d, seed: 3}
backend: {model: toy.gguf, context: 2048, threads: 1}
sampling: {k: 4, max_tokens: 48, seed: 5, stop: ["</answer>"]}
filter: {fraction: 0.5, seed: 1}
`, n)
	p := filepath.Join(dir, "run.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkOutputs reads every file a run writes with the reader of its format
// and checks what ties them together.
func checkOutputs(t *testing.T, out string, n int) {
	t.Helper()
	_, groups, err := sampling.ReadFile(filepath.Join(out, tracesFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != n {
		t.Errorf("trace file: %d groups, want %d", len(groups), n)
	}
	for _, g := range groups {
		if len(g.Traces) != 5 || !g.Traces[0].Greedy {
			t.Errorf("group %s: %d traces (greedy first: %v), want 5", g.Item.ID, len(g.Traces), len(g.Traces) > 0 && g.Traces[0].Greedy)
		}
	}
	sh, recs, err := score.ReadFile(filepath.Join(out, scoresFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n || len(sh.Estimators) == 0 {
		t.Errorf("score file: %d records and estimators %v, want %d records", len(recs), sh.Estimators, n)
	}
	sel, err := filter.ReadFile(filepath.Join(out, selectionFile))
	if err != nil {
		t.Fatal(err)
	}
	if sel.Header.Summary.Kept == 0 || sel.Header.Summary.Kept != len(sel.Records) {
		t.Errorf("selection: summary says %d kept, file has %d records", sel.Header.Summary.Kept, len(sel.Records))
	}
	lines := 0
	for _, name := range []string{"train.jsonl", "validation.jsonl"} {
		f, err := os.Open(filepath.Join(out, sftDir, name))
		if os.IsNotExist(err) {
			continue // no validation file
		}
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			lines++
			var ex struct {
				Messages []sampling.Message `json:"messages"`
			}
			if err := json.Unmarshal(sc.Bytes(), &ex); err != nil {
				t.Fatalf("%s line %d: %v", name, lines, err)
			}
			if n := len(ex.Messages); n < 2 || ex.Messages[n-1].Role != "assistant" || ex.Messages[n-2].Role != "user" ||
				!strings.Contains(ex.Messages[n-1].Content, "<answer>") {
				t.Errorf("%s line %d: messages %+v", name, lines, ex.Messages)
			}
		}
		f.Close()
	}
	if lines == 0 || lines > len(sel.Records) {
		t.Errorf("SFT files: %d examples for %d kept groups", lines, len(sel.Records))
	}
	if _, err := os.Stat(filepath.Join(out, reportDir, "index.md")); err != nil {
		t.Error(err)
	}
}

// outputs returns the contents of the run's files that must not depend on
// how the run was interrupted: everything but the stamps, with the output
// directory's own path (which headers record) replaced by OUT, and the
// score file's hash in the selection's header (which covers that path)
// blanked.
func outputs(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, ".stamps") {
			return err
		}
		b, err := os.ReadFile(p)
		m[strings.TrimPrefix(p, out)] = scoresHash.ReplaceAllString(strings.ReplaceAll(string(b), out, "OUT"), "$1")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var scoresHash = regexp.MustCompile(`("scores_sha256":")[0-9a-f]{64}`)

// TestRunPipeline runs the whole pipeline on the toy model and 20
// questions, checks every output against its format, then kills runs of the
// same configuration at random moments and resumes them: the outputs must
// equal the uninterrupted run's.
func TestRunPipeline(t *testing.T) {
	const n = 20
	dir := t.TempDir()
	cfg := writeFixture(t, dir, n)
	code, stdout, stderr := runArgs(t, "run", "--config", cfg)
	if code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, stdout, stderr)
	}
	out := filepath.Join(dir, "out")
	checkOutputs(t, out, n)
	want := outputs(t, out)

	// A second run has nothing to do.
	code, stdout, _ = runArgs(t, "run", "--config", cfg, "--json")
	var rs []result
	if err := json.Unmarshal([]byte(stdout), &rs); code != 0 || err != nil {
		t.Fatalf("run --json: exit %d, %v\n%s", code, err, stdout)
	}
	for _, r := range rs {
		if !r.Skipped {
			t.Errorf("second run: stage %s was not skipped", r.Stage)
		}
	}

	// eval reads the same files and agrees with the report's headline.
	code, stdout, stderr = runArgs(t, "eval", "--config", cfg, "--json")
	var ev []struct {
		Detail evalSummary `json:"detail"`
	}
	if err := json.Unmarshal([]byte(stdout), &ev); code != 0 || err != nil || len(ev) != 1 {
		t.Fatalf("eval --json: exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	if d := ev[0].Detail; d.Groups != n || len(d.Classes) != 3 || len(d.Estimators) != 5 {
		t.Errorf("eval: %+v, want %d groups, 3 classes, 5 estimators", d, n)
	}

	// Killed and resumed.
	resumed := filepath.Join(dir, "resumed")
	rng := rand.New(rand.NewPCG(1, 2))
	kills := 0
	for attempt := 0; ; attempt++ {
		cmd := exec.Command(os.Args[0])
		argv, _ := json.Marshal([]string{"run", "--config", cfg, "--out", resumed})
		cmd.Env = append(os.Environ(), "LABELFREE_TEST_MAIN="+string(argv))
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var err error
		if attempt < 4 {
			select {
			case err = <-done:
			case <-time.After(time.Duration(200+rng.IntN(1500)) * time.Millisecond):
				cmd.Process.Signal(syscall.SIGKILL)
				<-done
				kills++
				continue
			}
		} else {
			err = <-done
		}
		if err != nil {
			t.Fatalf("attempt %d: %v\n%s", attempt, err, errb.String())
		}
		break
	}
	if kills == 0 {
		t.Error("no run was killed: the kill times are too late for this machine")
	}
	got := outputs(t, resumed)
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s differs after %d kills and a resume:\n%.600s\nwant\n%.600s", name, kills, got[name], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("resumed run wrote %d files, uninterrupted %d", len(got), len(want))
	}
}

// TestRunBadInput checks the messages a user gets for a broken setup.
func TestRunBadInput(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFixture(t, dir, 4)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	notGGUF := write("notes.gguf", "hello")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing config", []string{"run", "--config", filepath.Join(dir, "none.yaml")}, 1, "none.yaml: no such file"},
		{"malformed YAML", []string{"run", "--config", write("bad.yaml", "task: [unclosed\n")}, 1, "bad.yaml: yaml: line"},
		{"unknown key", []string{"run", "--config", write("typo.yaml", "out: x\nsampling: {kk: 3}\n")}, 1,
			"typo.yaml: yaml: unmarshal errors:\n  line 2: field kk not found"},
		{"unknown estimator", []string{"run", "--config", cfg, "--estimator", "vibes"}, 1, `"vibes"`},
		{"fraction zero", []string{"run", "--config", cfg, "--fraction", "0"}, 2, "--fraction 0: must be in (0, 1]"},
		{"fraction above one", []string{"run", "--config", cfg, "--fraction", "1.5"}, 2, "--fraction 1.5: must be in (0, 1]"},
		{"model not GGUF", []string{"run", "--config", cfg, "--model", notGGUF}, 1, notGGUF + ": invalid GGUF at byte 0: bad magic"},
		{"no model", []string{"sample", "--config", write("nomodel.yaml", "task: {data: data}\n")}, 2, "backend.model: a GGUF model file is required"},
		{"bad strategy", []string{"filter", "--config", cfg, "--strategy", "best"}, 2, `filter.strategy "best"`},
		{"missing data", []string{"run", "--config", cfg, "--data", filepath.Join(dir, "nodata")}, 1, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runArgs(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
	for _, cmd := range []string{"run", "sample", "score", "filter", "export", "eval", "report", "merge"} {
		if code, _, stderr := runArgs(t, cmd, "--help"); code != 0 || !strings.Contains(stderr, "Example:") {
			t.Errorf("%s --help: exit %d, want 0 and an example", cmd, code)
		}
	}
}

// TestReadmeConfig checks that the configuration the README shows for the
// paper's experiment is valid, so that the documentation cannot drift from
// the schema.
func TestReadmeConfig(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(# paper.yaml\n.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no ```yaml block starting with # paper.yaml")
	}
	c, err := decodeConfig(bytes.NewReader(m[1]), "README paper.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c.defaults()
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	if c.Sampling.K != 8 || c.Backend.GPULayers != -1 || c.Filter.Strategy != "per-class" {
		t.Errorf("README config read as %+v", c)
	}
}

// TestSampleCrash kills `labelfree sample` on the toy model with SIGKILL at
// random moments, at least 20 times, resuming each time: whenever a run
// gets to finish, its trace file must equal the uninterrupted run's byte
// for byte (same ids, answers, tokens and log-probabilities), and the next
// round starts from an empty directory.
func TestSampleCrash(t *testing.T) {
	const n, minKills = 12, 20
	dir := t.TempDir()
	cfg := writeFixture(t, dir, n)
	t0 := time.Now()
	if code, _, stderr := runArgs(t, "sample", "--config", cfg); code != 0 {
		t.Fatalf("sample: exit %d: %s", code, stderr)
	}
	work := time.Since(t0)
	want, err := os.ReadFile(filepath.Join(dir, "out", tracesFile))
	if err != nil {
		t.Fatal(err)
	}
	resumed := filepath.Join(dir, "resumed")
	child := func(args ...string) *exec.Cmd {
		argv, _ := json.Marshal(args)
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "LABELFREE_TEST_MAIN="+string(argv))
		return cmd
	}
	// The child's start-up (a race-instrumented binary takes about a
	// second here) is added to the kill window.
	t0 = time.Now()
	if out, err := child("version").CombinedOutput(); err != nil {
		t.Fatalf("version: %v\n%s", err, out)
	}
	startup := time.Since(t0)
	check := func() {
		t.Helper()
		got, err := os.ReadFile(filepath.Join(resumed, tracesFile))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("after kills and resumes the trace file differs from the uninterrupted run's")
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	kills, finished := 0, 0
	for kills < minKills {
		cmd := child("sample", "--config", cfg, "--out", resumed)
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("sample: %v\n%s", err, errb.String())
			}
			check()
			finished++
			if err := os.RemoveAll(resumed); err != nil {
				t.Fatal(err)
			}
		case <-time.After(startup + time.Duration(rng.Float64()*0.8*float64(work))):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			kills++
		}
	}
	cmd := child("sample", "--config", cfg, "--out", resumed)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("final sample: %v\n%s", err, out)
	}
	check()
	t.Logf("%d kills, %d runs finished between them (work %v, start-up %v)", kills, finished, work, startup)
}

// TestStudentLoRA samples with a LoRA adapter on the toy model (as a
// student from `labelfree finetune` would be evaluated): the traces differ
// from the base model's and the trace file names the adapter; a missing
// adapter is an error naming it. It also runs `finetune --check` on the
// exported SFT data when python3 is there.
func TestStudentLoRA(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFixture(t, dir, 4)
	if code, _, stderr := runArgs(t, "run", "--config", cfg); code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	// A rank-4 adapter on layer 0's attention output (64 × 128 in the
	// toy's Tiny shape), written as convert_lora_to_gguf.py lays it out.
	const rank, in, out = 4, 128, 64
	rng := rand.New(rand.NewPCG(5, 6))
	a, b := make([]float32, in*rank), make([]float32, rank*out)
	for i := range a {
		a[i] = float32(rng.NormFloat64())
	}
	for i := range b {
		b[i] = float32(rng.NormFloat64())
	}
	var w gguf.Writer
	w.Add("general.architecture", "qwen3")
	w.Add("general.type", "adapter")
	w.Add("adapter.type", "lora")
	w.Add("adapter.lora.alpha", float32(rank))
	if err := w.AddFloat32("blk.0.attn_output.weight.lora_a", []uint64{in, rank}, a); err != nil {
		t.Fatal(err)
	}
	if err := w.AddFloat32("blk.0.attn_output.weight.lora_b", []uint64{rank, out}, b); err != nil {
		t.Fatal(err)
	}
	adapter := filepath.Join(dir, "adapter.gguf")
	f, err := os.Create(adapter)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	student := filepath.Join(dir, "student.yaml")
	base, _ := os.ReadFile(cfg)
	if err := os.WriteFile(student, bytes.Replace(base, []byte("backend: {"), []byte("backend: {lora: adapter.gguf, lora_scale: 4, "), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runArgs(t, "sample", "--config", student, "--out", filepath.Join(dir, "student")); code != 0 {
		t.Fatalf("student sample: exit %d: %s", code, stderr)
	}
	h, groups, err := sampling.ReadFile(filepath.Join(dir, "student", tracesFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.Model, "lora") || !strings.Contains(h.Model, "× 4") {
		t.Errorf("header model %q does not name the adapter and its scale", h.Model)
	}
	_, teacher, err := sampling.ReadFile(filepath.Join(dir, "out", tracesFile))
	if err != nil {
		t.Fatal(err)
	}
	same := true
	for i := range groups {
		for k := range groups[i].Traces {
			if !slices.Equal(groups[i].Traces[k].LogProbs, teacher[i].Traces[k].LogProbs) {
				same = false
			}
		}
	}
	if same {
		t.Error("the adapter changed no log-probability")
	}
	if err := os.Remove(adapter); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runArgs(t, "sample", "--config", student, "--out", filepath.Join(dir, "y")); code != 1 || !strings.Contains(stderr, "adapter.gguf") {
		t.Errorf("missing adapter: exit %d, stderr %q; want exit 1 naming adapter.gguf", code, stderr)
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not found: finetune --check not run")
	}
	code, stdout, stderr := runArgs(t, "finetune", "--config", cfg, "--check")
	if code != 0 || !strings.Contains(stdout, "train.jsonl") {
		t.Errorf("finetune --check: exit %d\n%s%s", code, stdout, stderr)
	}
}
