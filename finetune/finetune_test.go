package finetune_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/labelfree/labelfree/finetune"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(standinEnv); mode != "" {
		os.Exit(standin(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// standinConfig returns a Config that runs the stand-in in mode.
func standinConfig(t *testing.T, mode string) *finetune.Config {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &finetune.Config{
		Model:     "base-model",
		OutputDir: filepath.Join(t.TempDir(), "out"),
		MaxSteps:  3,
		Python:    exe,
		Script:    "standin",
		Env:       []string{standinEnv + "=" + mode},
		Grace:     10 * time.Second,
	}
}

func TestTrainProgress(t *testing.T) {
	c := standinConfig(t, "train")
	var got []finetune.Progress
	res, err := finetune.Train(t.Context(), "train.jsonl", "", c, func(p finetune.Progress) { got = append(got, p) })
	if err != nil {
		t.Fatal(err)
	}
	want := []finetune.Progress{
		{Step: 1, TotalSteps: 3, Epoch: 1.0 / 3, Loss: 2, LearningRate: 2e-5, TokensPerSecond: 1001, ETA: 2 * time.Second},
		{Step: 2, TotalSteps: 3, Epoch: 2.0 / 3, Loss: 1, LearningRate: 4e-5, TokensPerSecond: 1002, ETA: time.Second},
		{Step: 3, TotalSteps: 3, Epoch: 1, Loss: 2.0 / 3, LearningRate: 6e-5, TokensPerSecond: 1003, ETA: 0},
	}
	if !slices.Equal(got, want) {
		t.Errorf("progress\n%+v\nwant\n%+v", got, want)
	}
	wantRes := finetune.Result{AdapterDir: filepath.Join(c.OutputDir, "adapter"), Steps: 3, TrainLoss: 1.25, Examples: 8, TotalSteps: 3}
	if res != wantRes {
		t.Errorf("result %+v, want %+v", res, wantRes)
	}
}

func TestTrainFailure(t *testing.T) {
	c := standinConfig(t, "fail")
	c.StderrLines = 5
	var log strings.Builder
	c.Log = &log
	_, err := finetune.Train(t.Context(), "train.jsonl", "", c, nil)
	var se *finetune.ScriptError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T), want a *ScriptError", err, err)
	}
	if n := len(se.Stderr); n != 5 {
		t.Errorf("%d stderr lines, want the last 5: %q", n, se.Stderr)
	}
	if last := se.Stderr[len(se.Stderr)-1]; last != "qlora.py: error: data.jsonl:7: message 1 (assistant): empty content" {
		t.Errorf("last stderr line %q", last)
	}
	if se.Stderr[0] != "log line 26" {
		t.Errorf("first kept line %q, want %q", se.Stderr[0], "log line 26")
	}
	if !strings.Contains(err.Error(), "data.jsonl:7") || !strings.Contains(err.Error(), "exit status 1") {
		t.Errorf("error text %q lacks the location or the status", err)
	}
	if !strings.Contains(log.String(), "log line 0\n") {
		t.Errorf("Config.Log did not get the whole stderr")
	}
}

func TestTrainRequiresModel(t *testing.T) {
	c := standinConfig(t, "train")
	c.Model = ""
	if _, err := finetune.Train(t.Context(), "train.jsonl", "", c, nil); err == nil || !strings.Contains(err.Error(), "Model") {
		t.Errorf("error %v, want one about Config.Model", err)
	}
}

// TestTrainCancelResume cancels a run, which checkpoints on SIGTERM, then
// trains again with the same output directory: the second run resumes
// from the checkpoint.
func TestTrainCancelResume(t *testing.T) {
	c := standinConfig(t, "term")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	start := time.Now()
	res, err := finetune.Train(ctx, "train.jsonl", "", c, func(p finetune.Progress) { cancel() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > c.Grace/2 {
		t.Errorf("took %v: the stand-in honours SIGTERM, the grace of %v should not be waited out", d, c.Grace)
	}
	ck := filepath.Join(c.OutputDir, "checkpoint-1")
	if res.Checkpoint != ck {
		t.Errorf("checkpoint %q, want %q", res.Checkpoint, ck)
	}
	if !strings.Contains(err.Error(), "saving checkpoint after SIGTERM") {
		t.Errorf("error %q lacks the stderr tail", err)
	}

	c.Env = []string{standinEnv + "=train"}
	var steps []int
	res, err = finetune.Train(t.Context(), "train.jsonl", "", c, func(p finetune.Progress) { steps = append(steps, p.Step) })
	if err != nil {
		t.Fatal(err)
	}
	if res.ResumedFrom != ck {
		t.Errorf("resumed from %q, want %q", res.ResumedFrom, ck)
	}
	if !slices.Equal(steps, []int{2, 3}) {
		t.Errorf("steps after resuming %v, want [2 3]", steps)
	}
}

// TestTrainKillAfterGrace runs a stand-in that ignores SIGTERM: it must
// be killed once the grace period is over.
func TestTrainKillAfterGrace(t *testing.T) {
	c := standinConfig(t, "ignore-term")
	c.Grace = 300 * time.Millisecond
	pidFile := filepath.Join(t.TempDir(), "pid")
	c.Env = append(c.Env, "LABELFREE_STANDIN_PIDFILE="+pidFile)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var cancelled time.Time
	_, err := finetune.Train(ctx, "train.jsonl", "", c, func(p finetune.Progress) {
		cancelled = time.Now()
		cancel()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	d := time.Since(cancelled)
	if d < c.Grace || d > c.Grace+20*time.Second {
		t.Errorf("returned %v after the cancellation, want the grace of %v and a little", d, c.Grace)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(string(b))
	// Wait has reaped it, so the pid is gone (or, rarely, reused).
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Logf("signal 0 to the stand-in's pid %d: %v (want ESRCH unless the pid was reused)", pid, err)
	}
}

func TestCheckStandin(t *testing.T) {
	c := standinConfig(t, "check")
	reps, warns, err := finetune.Check(t.Context(), "train.jsonl", "", c)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := reps["train.jsonl"]
	if !ok || r.Examples != 2 || r.Classes["up"] != 1 || r.TokensEstimate.Max != 12 {
		t.Errorf("report %+v", reps)
	}
	if !slices.Equal(warns, []string{"a warning"}) {
		t.Errorf("warnings %q", warns)
	}
}

func TestNoPython(t *testing.T) {
	c := &finetune.Config{Python: filepath.Join(t.TempDir(), "no-such-python")}
	_, _, err := finetune.Check(t.Context(), "train.jsonl", "", c)
	if err == nil {
		t.Fatal("no error with a missing interpreter")
	}
	t.Setenv("LABELFREE_PYTHON", "")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("PATH", t.TempDir())
	_, _, err = finetune.Check(t.Context(), "train.jsonl", "", nil)
	if !errors.Is(err, finetune.ErrNoPython) {
		t.Errorf("error %v, want ErrNoPython", err)
	}
}
