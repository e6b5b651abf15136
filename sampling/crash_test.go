//go:build unix

package sampling_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/sampling/samplingtest"
)

// crashEnv names the output file of a helper process.
const crashEnv = "LABELFREE_SAMPLING_CRASH_OUT"

// crashConfig is the run that TestCrashResume kills and resumes: 30 items,
// 3 prompts in flight, each Generate call taking delay.
func crashConfig(out string, delay time.Duration) *sampling.RunConfig {
	f := &samplingtest.Fake{Delay: delay}
	return fakeConfig(f, f.Items(30), out, 3, nil)
}

// TestHelperProcess is the child process of TestCrashResume: the test
// binary run again with crashEnv set.
func TestHelperProcess(t *testing.T) {
	out := os.Getenv(crashEnv)
	if out == "" {
		t.Skip("the child process of TestCrashResume; runs only with " + crashEnv + " set")
	}
	if _, err := sampling.Run(context.Background(), crashConfig(out, 20*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
}

// TestCrashResume is the crash test: a run in a child process is
// killed with SIGKILL at random times and resumed until it completes, at
// least 20 times in all; every final file must equal, byte for byte, that
// of an uninterrupted run. Some kills are followed by appending part of a
// line, as a kill in the middle of a write would leave, which the next run
// must cut off.
//
// Kill times are drawn relative to the child's measured start-up time S
// (a run with nothing to do) and work time W (an uninterrupted run less
// S), so that the test kills as intended on a slow machine or under -race:
// uniform in [S/2, S + W/4], some before the run starts writing, most
// after it has written a few groups. Every kill costs at least S: about
// 10 ms, but 1 s under -race on the 2-core development machine, where the
// test then takes about 25 s instead of 1.5 s.
func TestCrashResume(t *testing.T) {
	const minKills, maxRounds, maxAttempts = 20, 8, 200
	want := reference(t, crashConfig("", 0))
	wantLines := bytes.SplitAfter(want, []byte("\n"))

	full := filepath.Join(t.TempDir(), "full.jsonl")
	start := time.Now()
	if killed, err := runKilled(t, full, time.Hour); killed || err != nil {
		t.Fatalf("uninterrupted child: killed %v, %v", killed, err)
	}
	total := time.Since(start)
	if got := readBytes(t, full); !bytes.Equal(got, want) {
		t.Fatalf("the child's uninterrupted run differs from the reference run")
	}
	start = time.Now()
	if killed, err := runKilled(t, full, time.Hour); killed || err != nil {
		t.Fatalf("child with nothing to do: killed %v, %v", killed, err)
	}
	startup := time.Since(start)
	work := max(total-startup, 10*time.Millisecond)
	t.Logf("child start-up %v, work %v", startup, work)

	rng := rand.New(rand.NewPCG(2510, 5871)) // a fixed seed; the times still scale with S and W
	kills, tears := 0, 0
	for round := 0; kills < minKills; round++ {
		if round == maxRounds {
			t.Fatalf("only %d kills in %d rounds; the child finishes too fast for the kill times", kills, round)
		}
		out := filepath.Join(t.TempDir(), "out.jsonl")
		for attempt := 0; ; attempt++ {
			if attempt == maxAttempts {
				t.Fatalf("round %d: not complete after %d attempts", round, attempt)
			}
			d := startup/2 + time.Duration(rng.Int64N(int64(startup/2+work/4)))
			killed, err := runKilled(t, out, d)
			if err != nil {
				t.Fatal(err)
			}
			if !killed {
				break
			}
			kills++
			if rng.IntN(4) == 0 && tear(t, out, wantLines[1+rng.IntN(len(wantLines)-2)], rng) {
				tears++
			}
		}
		if got := readBytes(t, out); !bytes.Equal(got, want) {
			t.Fatalf("round %d: the resumed file differs from an uninterrupted run's:\n%s\nwant\n%s", round, got, want)
		}
	}
	t.Logf("%d kills, %d torn lines added, all resumed to the uninterrupted file", kills, tears)
}

// runKilled runs the helper process on out and sends it SIGKILL after d
// unless it finishes first. It reports whether the kill ended it.
func runKilled(t *testing.T, out string, d time.Duration) (killed bool, err error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+out)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		return false, err
	}
	timer := time.AfterFunc(d, func() { cmd.Process.Kill() }) // SIGKILL on Unix
	err = cmd.Wait()
	timer.Stop()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true, nil
		}
	}
	if err != nil {
		return false, errors.New("helper process: " + err.Error() + "\n" + output.String())
	}
	return false, nil
}

// tear appends a random part of line, less at least its last byte and
// sometimes followed by a newline, to out if out
// ends with a complete line after a complete header. It reports whether it
// did.
func tear(t *testing.T, out string, line []byte, rng *rand.Rand) bool {
	t.Helper()
	b, err := os.ReadFile(out)
	if err != nil || len(b) == 0 || b[len(b)-1] != '\n' || !strings.HasPrefix(string(b), `{"labelfree":"traces"`) {
		return false
	}
	// A crash tears at most one line: not if the last run died before it
	// cut off the one added before.
	if last := b[bytes.LastIndexByte(b[:len(b)-1], '\n')+1:]; !json.Valid(last) {
		return false
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	part := line[:1+rng.IntN(len(line)-2)]
	if rng.IntN(2) == 0 {
		// Invalid JSON that ends with a newline is torn too.
		part = append(bytes.Clone(part), '\n')
	}
	if _, err := f.Write(part); err != nil {
		t.Fatal(err)
	}
	return true
}
