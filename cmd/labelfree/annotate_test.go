package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for a writer and a reader at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// serve starts annotate serve with args and returns its base URL and a
// function that stops it and returns its exit code.
func serve(t *testing.T, args ...string) (base string, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"annotate", "serve", "--addr", "127.0.0.1:0"}, args...), &stdout, &stderr)
	}()
	url := regexp.MustCompile(`http://[0-9.:]+`)
	deadline := time.Now().Add(time.Minute)
	for base == "" {
		select {
		case code := <-done:
			cancel()
			t.Fatalf("annotate serve exited %d before serving\n%s%s", code, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("annotate serve did not start\n%s%s", stdout.String(), stderr.String())
		}
		base = url.FindString(stdout.String())
		time.Sleep(20 * time.Millisecond)
	}
	return base, func() int {
		cancel()
		return <-done
	}
}

// rateOne rates item n as annotator through the HTTP interface.
func rateOne(t *testing.T, base, annotator string, n int, correct string, soundness int) {
	t.Helper()
	page := get(t, fmt.Sprintf("%s/a/%s/%d", base, annotator, n))
	m := regexp.MustCompile(`name="id" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("item %d's page has no id:\n%s", n, page)
	}
	form := url.Values{"id": {m[1]}, "correct": {correct}, "soundness": {fmt.Sprint(soundness)}, "comment": {""}}
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/a/%s/%d/rating", base, annotator, n), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("rating %d: %s %s", n, res.Status, body)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s", url, res.Status, b)
	}
	return string(b)
}

func TestAnnotateServe(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFixture(t, dir, 20)
	if code, stdout, stderr := runArgs(t, "run", "--config", cfg); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, stdout, stderr)
	}
	// The drawn traces read by their locations equal those of a scan of
	// the trace file (a score file without locations).
	c, err := loadConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.defaults()
	spec := sampleSpec{Estimator: c.Filter.Estimator, N: 6, Seed: 1, Quantiles: 4}
	drawn, locs, err := drawSample(c.path(scoresFile), &spec)
	if err != nil || len(locs) != 20 {
		t.Fatalf("drawSample: %v, %d locations", err, len(locs))
	}
	byLoc, err := sampleItems(t.Context(), c.path(tracesFile), drawn, locs, &spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	byScan, err := sampleItems(t.Context(), c.path(tracesFile), drawn, nil, &spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(byLoc) != 6 || !reflect.DeepEqual(byLoc, byScan) {
		t.Errorf("items by location and by scan differ:\n%+v\n%+v", byLoc, byScan)
	}

	base, stop := serve(t, "--config", cfg, "--sample", "6")
	if page := get(t, base+"/a/ann1/"); !strings.Contains(page, "Trace 1 of 6") {
		t.Fatalf("the annotator's first page:\n%s", page)
	}
	rateOne(t, base, "ann1", 1, "yes", 4)
	rateOne(t, base, "ann1", 2, "no", 2)
	// The toy model's tokenizer cuts the trace into shaded spans that
	// make up its text.
	var tok struct {
		Spans []struct {
			Text string   `json:"text"`
			P    *float64 `json:"p"`
			H    *float64 `json:"h"`
		} `json:"spans"`
		NoShading string  `json:"no_shading"`
		U         float64 `json:"u"`
	}
	if err := json.Unmarshal([]byte(get(t, base+"/a/ann1/1/tokens")), &tok); err != nil {
		t.Fatal(err)
	}
	if len(tok.Spans) == 0 || tok.NoShading != "" || tok.Spans[0].P == nil || tok.Spans[0].H == nil {
		t.Fatalf("tokens of a rated trace: %+v", tok)
	}
	// A second annotator rates the same four traces, in their own file.
	for n, sound := range []int{5, 2, 3, 1} {
		rateOne(t, base, "ann2", n+1, []string{"yes", "no"}[n%2], sound)
	}
	rateOne(t, base, "ann1", 3, "yes", 3)
	rateOne(t, base, "ann1", 4, "no", 1)
	if code := stop(); code != 0 {
		t.Fatalf("annotate serve: exit %d after Ctrl-C", code)
	}

	code, stdout, stderr := runArgs(t, "annotate", "report", "--config", cfg)
	if code != 0 || !strings.Contains(stdout, "2 annotators, 4 rated groups") {
		t.Fatalf("annotate report: exit %d\n%s%s", code, stdout, stderr)
	}
	report := filepath.Join(dir, "out", "annotations", "report")
	for _, f := range []string{"index.md", "tables/agreement_pairs.csv", "tables/estimators.md", "plots/estimators.png", "plots/soundness-annotators.svg"} {
		if fi, err := os.Stat(filepath.Join(report, f)); err != nil || fi.Size() == 0 {
			t.Errorf("report file %s: %v", f, err)
		}
	}
	index, _ := os.ReadFile(filepath.Join(report, "index.md"))
	if !bytes.Contains(index, []byte("TOY MODEL")) || !bytes.Contains(index, []byte("cocoa-ppl")) {
		t.Errorf("index.md lacks the toy mark or the estimators:\n%s", index)
	}

	// Restarted, it resumes at the fifth trace.
	base, stop = serve(t, "--config", cfg, "--sample", "6")
	res, err := http.Get(base + "/a/ann1/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !strings.HasSuffix(res.Request.URL.Path, "/a/ann1/5") {
		t.Errorf("after a restart: %s, want /a/ann1/5", res.Request.URL.Path)
	}
	stop()
	sample, err := os.ReadFile(filepath.Join(dir, "out", "annotations", "sample.json"))
	if err != nil || !bytes.Contains(sample, []byte(`"annotation-sample"`)) {
		t.Errorf("sample.json: %v\n%s", err, sample)
	}

	// Another draw into the same directory would mix samples.
	code, _, stderr = runArgs(t, "annotate", "serve", "--config", cfg, "--sample", "6", "--seed", "2", "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(stderr, "holds another sample") {
		t.Errorf("another seed: exit %d, %s", code, stderr)
	}
	code, _, stderr = runArgs(t, "annotate", "serve", "--config", cfg, "--estimator", "nope", "--addr", "127.0.0.1:0")
	if code != 2 || !strings.Contains(stderr, `estimator "nope" is not in`) {
		t.Errorf("unknown estimator: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runArgs(t, "annotate", "report", "--config", cfg, "--dir", t.TempDir()); code != 1 || !strings.Contains(stderr, "no ratings") {
		t.Errorf("report without ratings: exit %d, %s", code, stderr)
	}
	if code, _, _ := runArgs(t, "annotate"); code != 2 {
		t.Errorf("annotate without serve or report: exit %d, want 2", code)
	}
}
