package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labelfree/labelfree/internal/testmodel"
)

// TestLlamaServer runs the example against llama.cpp's llama-server
// serving labelfree's toy reasoner (a tiny model with hand-set weights
// whose answers mean nothing). It needs a llama-server binary: `make test`
// builds one from the pinned llama.cpp source and names it in
// LABELFREE_LLAMA_SERVER.
func TestLlamaServer(t *testing.T) {
	bin := os.Getenv("LABELFREE_LLAMA_SERVER")
	if bin == "" {
		t.Skip("set LABELFREE_LLAMA_SERVER to a llama-server binary to run the example against it (`make server` builds one)")
	}
	model := filepath.Join(t.TempDir(), "toy.gguf")
	if err := testmodel.WriteToy(model, 7); err != nil {
		t.Fatal(err)
	}
	checkRun(t, startLlamaServer(t, bin, model, 2), "-parallel", "2")
}

// startLlamaServer starts llama-server bin with the model at path on a
// free loopback port, with slots parallel slots of 1024 tokens, and
// returns its API's base URL once /health answers. The server is stopped
// when the test ends.
func startLlamaServer(t *testing.T, bin, model string, slots int) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "llama-server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	// The exact configuration: an F32 KV cache, flash attention off.
	cmd := exec.Command(bin, "-m", model, "--host", "127.0.0.1", "--port", port, "-t", "1", "-tb", "1",
		"-c", strconv.Itoa(1024*slots), "-np", strconv.Itoa(slots), "-ctk", "f32", "-ctv", "f32", "-fa", "off")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	dieWithTest(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if err := cmd.Process.Kill(); err != nil {
			t.Logf("stopping llama-server: %v", err)
		}
		<-exited
		if err := logFile.Close(); err != nil {
			t.Error(err)
		}
	})
	logTail := func() string {
		b, err := os.ReadFile(logPath)
		if err != nil {
			return err.Error()
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		return strings.Join(lines[max(0, len(lines)-20):], "\n")
	}
	base := "http://127.0.0.1:" + port
	for deadline := time.Now().Add(30 * time.Second); ; {
		select {
		case err := <-exited:
			t.Fatalf("llama-server exited (%v):\n%s", err, logTail())
		default:
		}
		if res, err := http.Get(base + "/health"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base + "/v1"
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("llama-server did not become healthy within 30s:\n%s", logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
