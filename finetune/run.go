package finetune

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

//go:embed qlora.py
var script []byte

// ErrNoPython is returned (wrapped) when no Python interpreter is found.
var ErrNoPython = errors.New("finetune: no python interpreter")

// ScriptError reports a script that failed: its exit status and the last
// lines of its stderr, where qlora.py writes "qlora.py: error: FILE:LINE:
// message" or a Python traceback.
type ScriptError struct {
	Args   []string // the command line run
	Err    error    // the *exec.ExitError or another error of the run
	Stderr []string // the last lines of stderr, oldest first
}

func (e *ScriptError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "finetune: %s: %v", filepath.Base(e.script()), e.Err)
	if len(e.Stderr) > 0 {
		b.WriteString("; stderr ends:\n\t")
		b.WriteString(strings.Join(e.Stderr, "\n\t"))
	}
	return b.String()
}

func (e *ScriptError) Unwrap() error { return e.Err }

func (e *ScriptError) script() string {
	if len(e.Args) > 1 {
		return e.Args[1]
	}
	return "script"
}

// Progress is one "progress" event of a training run. A field the script
// could not compute (tokens/s before the second log, ETA before the first
// step) is zero.
type Progress struct {
	Step            int           `json:"step"`
	TotalSteps      int           `json:"total_steps"`
	Epoch           float64       `json:"epoch"`
	Loss            float64       `json:"loss"`
	LearningRate    float64       `json:"lr"`
	TokensPerSecond float64       `json:"tokens_per_second"`
	ETA             time.Duration `json:"-"`
}

// Result is what a training run reports.
type Result struct {
	// AdapterDir is the directory of the saved PEFT adapter
	// (adapter_config.json, adapter_model.safetensors, the tokenizer).
	AdapterDir string
	// Steps is the number of optimiser steps done in total, and
	// TrainLoss the mean training loss the trainer reports.
	Steps     int
	TrainLoss float64
	// ResumedFrom is the checkpoint the run resumed from, or "".
	ResumedFrom string
	// Examples and TotalSteps are what the script reported at the start.
	Examples, TotalSteps int
	// Checkpoint is the checkpoint saved when the run was stopped
	// through its context, or "".
	Checkpoint string
}

// CheckReport is the report of the script's --check for one data file.
type CheckReport struct {
	Examples int            `json:"examples"`
	Classes  map[string]int `json:"classes"` // the last <answer>…</answer> of each assistant turn, lower-cased
	NoAnswer int            `json:"no_answer"`
	// TokensEstimate estimates the examples' lengths in tokens from their
	// characters (Config has no tokenizer without the Python packages).
	TokensEstimate struct {
		Mean float64 `json:"mean"`
		P95  int     `json:"p95"`
		Max  int     `json:"max"`
	} `json:"tokens_estimate"`
	OverMaxLength int `json:"over_max_length"`
}

// Check validates c and the SFT data file data (and validation, if not
// "") by running the script's --check, which needs the Python standard
// library only. A problem with the data is a *ScriptError whose Stderr
// names the file and line. It returns the report of each file, and the
// script's warnings (long examples, missing answers, imbalanced classes).
func Check(ctx context.Context, data, validation string, c *Config) (reports map[string]CheckReport, warnings []string, err error) {
	r := resolved(c)
	var got struct {
		Files    map[string]CheckReport `json:"files"`
		Warnings []string               `json:"warnings"`
	}
	found := false
	err = run(ctx, &r, data, validation, true, func(event string, line []byte) error {
		if event != "check" {
			return nil
		}
		found = true
		return json.Unmarshal(line, &got)
	})
	if err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, nil, fmt.Errorf("finetune: --check printed no report")
	}
	return got.Files, got.Warnings, nil
}

// Train trains a LoRA adapter on the SFT data file data (filter.Export's
// train.jsonl; validation, if not "", is evaluated each epoch) and
// returns where the adapter is. progress, if not nil, is called with each
// progress event, on the calling goroutine, as the script reports it.
// c.Model and c.OutputDir are required.
//
// When ctx is done, the script is stopped (see the package comment) and
// Train returns an error wrapping ctx.Err(), with the checkpoint the
// script saved, if it said so, in Result.Checkpoint.
func Train(ctx context.Context, data, validation string, c *Config, progress func(Progress)) (Result, error) {
	r := resolved(c)
	if r.Model == "" || r.OutputDir == "" {
		return Result{}, fmt.Errorf("finetune: Config.Model and Config.OutputDir are required")
	}
	var res Result
	done := false
	err := run(ctx, &r, data, validation, false, func(event string, line []byte) error {
		switch event {
		case "start":
			var s struct {
				ResumeFrom *string `json:"resume_from"`
				Examples   int     `json:"examples"`
				TotalSteps int     `json:"total_steps"`
			}
			if err := json.Unmarshal(line, &s); err != nil {
				return err
			}
			if s.ResumeFrom != nil {
				res.ResumedFrom = *s.ResumeFrom
			}
			res.Examples, res.TotalSteps = s.Examples, s.TotalSteps
		case "progress":
			var p struct {
				Progress
				ETA *float64 `json:"eta_seconds"`
			}
			if err := json.Unmarshal(line, &p); err != nil {
				return err
			}
			if p.ETA != nil {
				p.Progress.ETA = time.Duration(*p.ETA * float64(time.Second))
			}
			if progress != nil {
				progress(p.Progress)
			}
		case "result":
			var s struct {
				AdapterDir string  `json:"adapter_dir"`
				Steps      int     `json:"steps"`
				TrainLoss  float64 `json:"train_loss"`
			}
			if err := json.Unmarshal(line, &s); err != nil {
				return err
			}
			res.AdapterDir, res.Steps, res.TrainLoss = s.AdapterDir, s.Steps, s.TrainLoss
			done = true
		case "stopped":
			var s struct {
				Checkpoint *string `json:"checkpoint"`
			}
			if err := json.Unmarshal(line, &s); err != nil {
				return err
			}
			if s.Checkpoint != nil {
				res.Checkpoint = *s.Checkpoint
			}
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	if !done || res.AdapterDir == "" {
		return res, fmt.Errorf("finetune: the script exited without a result")
	}
	return res, nil
}

// run runs the script and calls event for each JSON event on its stdout.
// An error from event stops the run.
func run(parent context.Context, c *Config, data, validation string, check bool, event func(name string, line []byte) error) error {
	if err := parent.Err(); err != nil {
		return fmt.Errorf("finetune: %w", err)
	}
	python, err := findPython(c.Python)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "labelfree-finetune-")
	if err != nil {
		return fmt.Errorf("finetune: %w", err)
	}
	defer os.RemoveAll(tmp)
	scriptPath := c.Script
	if scriptPath == "" {
		scriptPath = filepath.Join(tmp, "qlora.py")
		if err := os.WriteFile(scriptPath, script, 0o644); err != nil {
			return fmt.Errorf("finetune: %w", err)
		}
	}
	cfgPath := filepath.Join(tmp, "config.json")
	cfgJSON, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("finetune: %w", err)
	}
	if err := os.WriteFile(cfgPath, cfgJSON, 0o644); err != nil {
		return fmt.Errorf("finetune: %w", err)
	}
	args := []string{scriptPath, "--config", cfgPath, "--data", data}
	if validation != "" {
		args = append(args, "--eval", validation)
	}
	if check {
		args = append(args, "--check")
	}
	return execScript(parent, python, args, c.Env, c.Grace, c.StderrLines, c.Log, event)
}

// execScript runs python with args (args[0] is the script), without a
// shell, and calls event for each JSON event on its stdout; see run. When
// parent is done, or event fails, the script gets SIGTERM and, after
// grace, is killed.
func execScript(parent context.Context, python string, args, env []string, grace time.Duration, stderrLines int, log io.Writer, event func(name string, line []byte) error) error {
	ctx, stop := context.WithCancel(parent)
	defer stop()
	scriptPath := args[0]
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	cmd.Env = append(cmd.Env, env...)
	// On cancellation: SIGTERM (the script checkpoints and exits), and
	// after the grace period Wait kills it and closes the pipes.
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			return cmd.Process.Kill() // no SIGTERM on this system
		}
		return nil
	}
	cmd.WaitDelay = grace
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("finetune: %w", err)
	}
	tail := newRing(stderrLines)
	var w io.Writer = tail
	if log != nil {
		w = io.MultiWriter(tail, log)
	}
	cmd.Stderr = w
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("finetune: %w", err)
	}

	var evErr error
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		var head struct {
			Event string `json:"event"`
		}
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &head) != nil || head.Event == "" {
			continue // not an event
		}
		if evErr == nil && event != nil {
			if err := event(head.Event, line); err != nil {
				evErr = fmt.Errorf("finetune: %s event %q: %w", filepath.Base(scriptPath), line, err)
				stop()
			}
		}
	}
	// A scanner error (a line over 16 MiB) leaves the pipe unread; drain
	// it so that the script does not block on a full pipe.
	if sc.Err() != nil {
		io.Copy(io.Discard, stdout)
	}
	werr := cmd.Wait()
	switch {
	case parent.Err() != nil && werr != nil: // a script that finished in time succeeded
		return fmt.Errorf("finetune: %w (stderr ends: %s)", parent.Err(), strings.Join(tail.lines(), " | "))
	case evErr != nil:
		return evErr
	case werr != nil:
		return &ScriptError{Args: cmd.Args, Err: werr, Stderr: tail.lines()}
	case sc.Err() != nil:
		return fmt.Errorf("finetune: read %s's output: %w", filepath.Base(scriptPath), sc.Err())
	}
	return nil
}

// findPython returns the interpreter to run (see Config.Python).
func findPython(explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	if p := os.Getenv("LABELFREE_PYTHON"); p != "" {
		return p, nil
	}
	if d, err := VenvDir(); err == nil {
		p := filepath.Join(d, "bin", "python")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("python3")
	if err != nil {
		return "", fmt.Errorf("%w: set Config.Python or $LABELFREE_PYTHON, or run make setup-train (%v)", ErrNoPython, err)
	}
	return p, nil
}

// ring keeps the last lines written to it.
type ring struct {
	mu      sync.Mutex
	max     int
	buf     []string
	partial []byte
}

func newRing(n int) *ring { return &ring{max: n} }

func (r *ring) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.partial = append(r.partial, p...)
	for {
		i := bytes.IndexByte(r.partial, '\n')
		if i < 0 {
			break
		}
		r.add(string(bytes.TrimRight(r.partial[:i], "\r")))
		r.partial = r.partial[i+1:]
	}
	// A line without an end is kept to 64 KiB (a progress bar's \r).
	if len(r.partial) > 64<<10 {
		r.partial = r.partial[len(r.partial)-64<<10:]
	}
	return len(p), nil
}

func (r *ring) add(s string) {
	if strings.TrimSpace(s) == "" {
		return
	}
	if len(r.buf) == r.max {
		copy(r.buf, r.buf[1:])
		r.buf = r.buf[:r.max-1]
	}
	r.buf = append(r.buf, s)
}

// lines returns the kept lines, and the unterminated last one.
func (r *ring) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.buf...)
	if s := strings.TrimSpace(string(r.partial)); s != "" {
		out = append(out, s)
		if len(out) > r.max {
			out = out[1:]
		}
	}
	return out
}
