package perturb_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/labelfree/labelfree/perturb"
)

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// server is a test server that counts and records requests.
type server struct {
	*httptest.Server
	requests atomic.Int32
	paths    chan string
}

func newServer(t *testing.T, handler http.HandlerFunc) *server {
	s := &server{paths: make(chan string, 100)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.paths <- r.URL.Path
		handler(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// fileServer serves the files of dir under /datasets/, as the upstream
// repository does under perturbqa/datasets/.
func fileServer(t *testing.T, dir string) *server {
	return newServer(t, func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, "/datasets/")
		b, err := os.ReadFile(filepath.Join(dir, name))
		if !ok || strings.Contains(name, "/") || err != nil {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	})
}

func (s *server) options(dir string) *perturb.FetchOptions {
	return &perturb.FetchOptions{Dir: dir, BaseURL: s.URL + "/datasets", Client: s.Client()}
}

// assertOnly fails if dir holds anything but the named files: no
// temporary file may be left behind.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("cache holds %q, want %q", got, names)
	}
}

// TestPins checks the pinned digests against the distributed copies.
func TestPins(t *testing.T) {
	dir := dataDir(t)
	for _, cell := range perturb.Cells() {
		if err := perturb.Verify(dir, cell); err != nil {
			t.Error(err)
		}
	}
}

func TestVerifyMismatch(t *testing.T) {
	src := dataDir(t)
	dir := t.TempDir()
	de, dirName := perturb.FileNames(perturb.Jurkat)
	b, err := os.ReadFile(filepath.Join(src, de))
	if err != nil {
		t.Fatal(err)
	}
	want := sha(b)
	b[100] ^= 1
	if err := os.WriteFile(filepath.Join(dir, de), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(src, dirName), filepath.Join(dir, dirName)); err != nil {
		t.Fatal(err)
	}
	err = perturb.Verify(dir, perturb.Jurkat)
	var ce *perturb.ChecksumError
	if !errors.As(err, &ce) || !errors.Is(err, perturb.ErrChecksum) {
		t.Fatalf("got %v, want a *ChecksumError", err)
	}
	if ce.File != de || ce.Want != want || ce.Got != sha(b) {
		t.Errorf("got %+v, want File %s Want %s Got %s", ce, de, want, sha(b))
	}
	for _, s := range []string{de, want, sha(b)} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q does not name %s", err, s)
		}
	}
}

func TestFetch(t *testing.T) {
	src := dataDir(t)
	srv := fileServer(t, src)
	cache := filepath.Join(t.TempDir(), "new", "cache")
	de, dirName := perturb.FileNames(perturb.K562Set)

	dir, err := perturb.Fetch(t.Context(), perturb.K562Set, srv.options(cache))
	if err != nil {
		t.Fatal(err)
	}
	if dir != cache {
		t.Errorf("Fetch returned %s, want %s", dir, cache)
	}
	if n := srv.requests.Load(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	for _, want := range []string{"/datasets/" + de, "/datasets/" + dirName} {
		if got := <-srv.paths; got != want {
			t.Errorf("requested %s, want %s", got, want)
		}
	}
	for _, name := range []string{de, dirName} {
		got, err1 := os.ReadFile(filepath.Join(dir, name))
		want, err2 := os.ReadFile(filepath.Join(src, name))
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the served file", name)
		}
	}
	assertOnly(t, dir, de, dirName)
	if _, err := perturb.Load(dir, perturb.K562Set, perturb.Test); err != nil {
		t.Error(err)
	}

	// Verified cached files are reused.
	if _, err := perturb.Fetch(t.Context(), perturb.K562Set, srv.options(cache)); err != nil {
		t.Fatal(err)
	}
	if n := srv.requests.Load(); n != 2 {
		t.Errorf("%d requests after a second Fetch, want still 2", n)
	}

	// A corrupt cached file is downloaded again, and only it.
	if err := os.WriteFile(filepath.Join(dir, dirName), []byte("pert,gene,label,split\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := perturb.Fetch(t.Context(), perturb.K562Set, srv.options(cache)); err != nil {
		t.Fatal(err)
	}
	if n := srv.requests.Load(); n != 3 {
		t.Errorf("%d requests after corrupting one file, want 3", n)
	}
	if err := perturb.Verify(dir, perturb.K562Set); err != nil {
		t.Error(err)
	}
	assertOnly(t, dir, de, dirName)
}

func TestFetchDefaultDir(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("os.UserCacheDir reads XDG_CACHE_HOME on Linux only")
	}
	xdg := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", xdg)
	want := filepath.Join(xdg, "labelfree", "perturbqa")
	if got, err := perturb.DefaultCacheDir(); got != want || err != nil {
		t.Errorf("DefaultCacheDir() = %s, %v, want %s", got, err, want)
	}
	srv := fileServer(t, dataDir(t))
	opts := srv.options("")
	dir, err := perturb.Fetch(t.Context(), perturb.K562Set, opts)
	if err != nil || dir != want {
		t.Fatalf("Fetch = %s, %v, want %s", dir, err, want)
	}
	if err := perturb.Verify(want, perturb.K562Set); err != nil {
		t.Error(err)
	}
}

func TestFetchBadChecksum(t *testing.T) {
	body := []byte("pert,gene,label,split\nA,B,0,train\n")
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
	cache := t.TempDir()
	_, err := perturb.Fetch(t.Context(), perturb.RPE1, srv.options(cache))
	var ce *perturb.ChecksumError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *ChecksumError", err)
	}
	// The pinned digest of rpe1-de.csv: sha256sum ../shared/perturbqa/rpe1-de.csv.
	want := "a66a86aac5db458e0703bccf7f2d638769400a7ccb9f2615cd9421c106b748ca"
	if ce.File != "rpe1-de.csv" || ce.Want != want || ce.Got != sha(body) {
		t.Errorf("got %+v, want File rpe1-de.csv Want %s Got %s", ce, want, sha(body))
	}
	assertOnly(t, cache)
}

// A server that sends more than the pinned size is cut off.
func TestFetchOversized(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("A,B,0,train\n"), 1<<20)) // 12 MiB
	})
	cache := t.TempDir()
	if _, err := perturb.Fetch(t.Context(), perturb.HepG2, srv.options(cache)); !errors.Is(err, perturb.ErrChecksum) {
		t.Fatalf("got %v, want ErrChecksum", err)
	}
	assertOnly(t, cache)
}

func TestFetchNotFound(t *testing.T) {
	srv := newServer(t, http.NotFound)
	cache := t.TempDir()
	_, err := perturb.Fetch(t.Context(), perturb.K562, srv.options(cache))
	if err == nil {
		t.Fatal("no error")
	}
	for _, s := range []string{"k562-de.csv", "404", srv.URL + "/datasets/k562-de.csv"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q does not name %s", err, s)
		}
	}
	assertOnly(t, cache)
}

func TestFetchCancelled(t *testing.T) {
	srv := newServer(t, http.NotFound)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	cache := t.TempDir()
	if _, err := perturb.Fetch(ctx, perturb.K562, srv.options(cache)); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if n := srv.requests.Load(); n != 0 {
		t.Errorf("%d requests after cancellation, want 0", n)
	}
	assertOnly(t, cache)
}

// Cancelling during a download stops it and leaves no partial file.
func TestFetchCancelDuringDownload(t *testing.T) {
	sent := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("pert,gene,label,split\n"))
		w.(http.Flusher).Flush()
		close(sent)
		<-r.Context().Done() // hold the body open until the client goes
	})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-sent
		cancel()
	}()
	cache := t.TempDir()
	if _, err := perturb.Fetch(ctx, perturb.K562, srv.options(cache)); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	assertOnly(t, cache)
}

func TestFetchUnknownCell(t *testing.T) {
	srv := newServer(t, http.NotFound)
	if _, err := perturb.Fetch(t.Context(), "K562", srv.options(t.TempDir())); !errors.Is(err, perturb.ErrUnknownCell) {
		t.Errorf("got %v, want ErrUnknownCell", err)
	}
}
