//go:build cgo && linux

package llama_test

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/labelfree/labelfree/internal/gguf"
	"github.com/labelfree/labelfree/llama"
)

// rss returns the resident set size of this process in bytes, after a
// garbage collection that returns freed Go memory to the OS.
func rss(t *testing.T) int64 {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skip("no /proc/self/statm")
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// TestGenerateMemoryFlat runs 1,000 Generate calls (greedy + 3 samples,
// fresh samplers each time) and requires the resident size to stay within
// 5% of where it was after a warm-up: a C allocation leaked per call would
// show here.
func TestGenerateMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 generate calls; skipped with -short")
	}
	m := load(t, tinyModel(t, gguf.F32))
	s := exactSession(t, m, 4)
	prompt, _ := m.Tokenize(genPrompt, true)
	cfg := &llama.GenerateConfig{Samples: 3, MaxTokens: 8}
	run := func(n int) {
		for i := range n {
			cfg.Seed = uint64(i)
			if _, err := s.Generate(t.Context(), prompt, cfg); err != nil {
				t.Fatal(err)
			}
		}
	}
	run(100)
	before := rss(t)
	run(1000)
	after := rss(t)

	t.Logf("resident size %.1f MB before, %.1f MB after 1,000 generate calls", float64(before)/1e6, float64(after)/1e6)
	if float64(after) > 1.05*float64(before) {
		t.Errorf("resident size grew from %d to %d bytes (> 5%%)", before, after)
	}
}
