package web

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/labelfree/labelfree/annotate"
)

// chromium returns the path of a Chromium-like browser. Without one the
// test skips, unless LABELFREE_REQUIRE_BROWSER is set (make test sets it
// after installing Debian's chromium), when it fails.
func chromium(t *testing.T) string {
	for _, name := range []string{os.Getenv("LABELFREE_CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("LABELFREE_REQUIRE_BROWSER") != "" {
		t.Fatal("no Chromium found (LABELFREE_REQUIRE_BROWSER is set): install Debian's chromium or set LABELFREE_CHROMIUM")
	}
	t.Skip("no Chromium found: install it (Debian: apt-get install chromium) or set LABELFREE_CHROMIUM to run the browser test")
	return ""
}

// TestBrowser drives the page in headless Chromium as an annotator would:
// it rates three traces, reloads, checks the ratings persisted and the
// page resumed at the fourth, toggles the token shading and checks a
// screenshot of it is not blank; a trace holding <script> shows as text.
func TestBrowser(t *testing.T) {
	exe := chromium(t)
	dir := t.TempDir()
	items := testItems(6)
	// Item 2 gets realistic spans of varied confidence for the shading.
	items[1].Spans = nil
	for i, w := range strings.Fields("<think> GENE2 is a kinase ; its knockdown lowers TARGET2 </think> <answer>down</answer>") {
		p, h := 1/float64(i+1), float64(i%5)
		items[1].Spans = append(items[1].Spans, Span{Text: w + " ", P: &p, H: &h})
	}
	s, err := New(Config{Items: items, Dir: dir, Quantiles: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewServer(s)
	defer ts.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	run := func(what string, actions ...chromedp.Action) {
		t.Helper()
		if err := chromedp.Run(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	var location, question, pwned string
	run("start", chromedp.Navigate(ts.URL+"/"),
		chromedp.SendKeys("#annotator", "alice", chromedp.ByQuery),
		chromedp.Submit("#annotator", chromedp.ByQuery),
		chromedp.WaitVisible("#rating", chromedp.ByQuery),
		chromedp.Location(&location),
		chromedp.Text("#question", &question, chromedp.ByQuery),
		chromedp.Evaluate(`String(window.pwned)`, &pwned))
	if !strings.HasSuffix(location, "/a/alice/1") {
		t.Fatalf("the start form led to %s, want /a/alice/1", location)
	}
	if !strings.Contains(question, "<script>window.pwned = 1</script>") || pwned != "undefined" {
		t.Errorf("the trace's <script> did not render as text: question %q, window.pwned %s", question, pwned)
	}

	for i := 1; i <= 3; i++ {
		var status string
		run(fmt.Sprintf("rate trace %d", i),
			chromedp.WaitVisible("#rating", chromedp.ByQuery),
			chromedp.Click(`input[name=correct][value=yes]`, chromedp.ByQuery),
			chromedp.Click(fmt.Sprintf(`input[name=soundness][value="%d"]`, i+1), chromedp.ByQuery),
			chromedp.SendKeys("#comment", fmt.Sprintf("note %d", i), chromedp.ByQuery),
			chromedp.Blur("#comment", chromedp.ByQuery),
			chromedp.Poll(`document.getElementById("status").textContent.startsWith("Saved") &&
				!document.getElementById("status").textContent.includes("…")`, nil, chromedp.WithPollingTimeout(20*time.Second)),
			chromedp.Text("#status", &status, chromedp.ByQuery))
		// Let the comment's save land before leaving the page.
		waitRated(t, dir, items[i-1].ID, fmt.Sprintf("note %d", i))
		run(fmt.Sprintf("next after %d", i), chromedp.Click("#next", chromedp.ByQuery))
		// Trace i+1's page, loaded: the next action must not act on (or
		// navigate away from) a page still loading.
		waitFor(ctx, t, fmt.Sprintf(`location.pathname === "/a/alice/%d" && document.readyState === "complete"`, i+1))
	}

	// Reload from the annotator's entry: the page resumes at the fourth.
	var position, toggleDisabled string
	run("reload", chromedp.Navigate(ts.URL+"/a/alice/"),
		chromedp.WaitVisible("#rating", chromedp.ByQuery),
		chromedp.Location(&location),
		chromedp.Text("#position", &position, chromedp.ByQuery),
		chromedp.Evaluate(`String(document.getElementById("toggle").disabled)`, &toggleDisabled))
	if !strings.HasSuffix(location, "/a/alice/4") || position != "Trace 4 of 6" {
		t.Errorf("after a reload the page is at %s (%q), want trace 4", location, position)
	}
	if toggleDisabled != "true" {
		t.Error("the shading toggle of an unrated trace is enabled")
	}
	ratings, _, err := annotate.ReadFile(filepath.Join(dir, "alice.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ratings) != 3 {
		t.Fatalf("%d traces rated in the file, want 3: %+v", len(ratings), ratings)
	}
	for i, r := range ratings {
		if r.ID != items[i].ID || !r.Correct || r.Soundness != i+2 || r.Comment != fmt.Sprintf("note %d", i+1) {
			t.Errorf("rating %d = %+v", i+1, r)
		}
	}

	// A rated trace shows its rating, and its shading on request.
	var checked, reveal string
	var spans int
	var shot []byte
	run("shading", chromedp.Navigate(ts.URL+"/a/alice/2"),
		chromedp.WaitVisible("#rating", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector("input[name=soundness]:checked").value`, &checked),
		chromedp.Click("#toggle", chromedp.ByQuery),
		chromedp.WaitVisible("#spans span", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("#spans span").length`, &spans),
		chromedp.Text("#reveal", &reveal, chromedp.ByQuery),
		chromedp.FullScreenshot(&shot, 100)) // quality 100: PNG
	if checked != "3" {
		t.Errorf("trace 2 shows soundness %s, want the saved 3", checked)
	}
	if spans != len(items[1].Spans) || !strings.Contains(reveal, "cocoa-ppl") || !strings.Contains(reveal, "of 4") {
		t.Errorf("shading: %d spans (want %d), reveal %q", spans, len(items[1].Spans), reveal)
	}
	checkNotBlank(t, shot)
	if testing.Verbose() {
		os.WriteFile(filepath.Join(os.TempDir(), "labelfree-annotate.png"), shot, 0o644)
	}
}

// waitFor evaluates the JavaScript expression until it is true, through
// page loads (which make a single evaluation fail).
func waitFor(ctx context.Context, t *testing.T, expr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var ok bool
		if err := chromedp.Run(ctx, chromedp.Evaluate(expr, &ok)); err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("waited 20 s for %s", expr)
}

// waitRated waits until the ratings file's latest rating of id has the
// comment.
func waitRated(t *testing.T, dir, id, comment string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ratings, _, _ := annotate.ReadFile(filepath.Join(dir, "alice.jsonl"))
		for _, r := range ratings {
			if r.ID == id && r.Comment == comment {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the rating of %s with comment %q was not saved", id, comment)
}

// checkNotBlank fails unless the PNG shows a page: several colours, among
// them the shading's red, over a fair part of it.
func checkNotBlank(t *testing.T, b []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	bounds := img.Bounds()
	if bounds.Dx() < 600 || bounds.Dy() < 400 {
		t.Fatalf("screenshot of %v", bounds)
	}
	colours := make(map[uint32]bool)
	red, ink := 0, 0
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 2 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			r, g, b = r>>8, g>>8, b>>8
			colours[r<<16|g<<8|b] = true
			if r > 150 && g < 150 && b < 150 {
				red++
			}
			if r+g+b < 200 {
				ink++
			}
		}
	}
	if len(colours) < 50 || red < 100 || ink < 500 {
		t.Errorf("the screenshot looks blank: %d colours, %d red and %d dark sampled pixels", len(colours), red, ink)
	}
}
