package web

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labelfree/labelfree/annotate"
)

//go:embed static templates
var assets embed.FS

// maxBody bounds a rating post: a comment of annotate.MaxComment bytes,
// percent-encoded (up to three bytes each), and the few other fields.
const maxBody = 3*annotate.MaxComment + 1024

// Config configures a Server.
type Config struct {
	// Items are the drawn traces in the order annotators see them.
	Items []Item
	// Dir is the directory of the ratings files, one per annotator
	// (annotate.FileName); it must exist.
	Dir string
	// Title heads every page; "" means "labelfree annotation".
	Title string
	// Quantiles is the number of uncertainty quantiles the items were
	// drawn by, shown with an item's quantile once it is rated; 0 means
	// one more than the highest Item.Quantile.
	Quantiles int
	// Hosts are the host names (without port) that requests may address
	// the server by; empty means the loopback names only (localhost,
	// 127.0.0.1, ::1). Checking the Host header stops a web page from
	// reaching the server through a DNS name that resolves to 127.0.0.1
	// (DNS rebinding).
	Hosts []string
	// Now returns the time stamped on a rating; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per saved rating and per rejected request;
	// nil discards them.
	Logger *slog.Logger
}

// Server is the annotation web application. It is an http.Handler, safe
// for concurrent use; Close closes the ratings files.
type Server struct {
	c     Config
	index map[string]int // item id → index
	tmpl  *template.Template
	mux   http.Handler
	hosts []string

	mu         sync.Mutex
	annotators map[string]*annotator
	closed     bool
}

// annotator is one annotator's open ratings file and latest ratings.
type annotator struct {
	mu     sync.Mutex
	w      *annotate.Writer
	latest map[string]annotate.Rating // by item id
}

// New returns a Server for c. It returns an error for no items, two items
// with one id, or a Dir that is not a directory.
func New(c Config) (*Server, error) {
	if len(c.Items) == 0 {
		return nil, errors.New("web: no items to annotate")
	}
	if fi, err := os.Stat(c.Dir); err != nil {
		return nil, fmt.Errorf("web: ratings directory: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("web: ratings directory %s is not a directory", c.Dir)
	}
	if c.Title == "" {
		c.Title = "labelfree annotation"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Quantiles == 0 {
		for _, it := range c.Items {
			c.Quantiles = max(c.Quantiles, it.Quantile+1)
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{c: c, index: make(map[string]int, len(c.Items)), annotators: make(map[string]*annotator)}
	for i, it := range c.Items {
		if _, dup := s.index[it.ID]; dup {
			return nil, fmt.Errorf("web: item %q twice", it.ID)
		}
		s.index[it.ID] = i
	}
	s.hosts = c.Hosts
	if len(s.hosts) == 0 {
		s.hosts = []string{"localhost", "127.0.0.1", "::1"}
	}
	tmpl, err := template.New("").Funcs(template.FuncMap{"inc": func(i int) int { return i + 1 }}).ParseFS(assets, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	s.tmpl = tmpl
	static, _ := fs.Sub(assets, "static")
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", s.start)
	mux.HandleFunc("GET /start", s.begin)
	mux.HandleFunc("GET /a/{name}/{$}", s.resume)
	mux.HandleFunc("GET /a/{name}/{n}", s.item)
	mux.HandleFunc("POST /a/{name}/{n}/rating", s.rate)
	mux.HandleFunc("GET /a/{name}/{n}/tokens", s.tokens)
	// Go's cross-origin protection refuses a POST that a browser sends on
	// behalf of another site (Sec-Fetch-Site or Origin), so no web page
	// can rate in an annotator's name.
	s.mux = http.NewCrossOriginProtection().Handler(mux)
	return s, nil
}

// ServeHTTP checks the Host header and serves the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if !slices.Contains(s.hosts, strings.ToLower(host)) {
		s.c.Logger.Warn("refused a request for another host", "host", r.Host)
		http.Error(w, "web: this server does not answer to host "+strconv.Quote(r.Host), http.StatusMisdirectedRequest)
		return
	}
	w.Header().Set("Content-Security-Policy", "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.mux.ServeHTTP(w, r)
}

// Close closes every annotator's ratings file; a Server is not usable
// after. It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var errs []error
	for _, a := range s.annotators {
		errs = append(errs, a.w.Close())
	}
	return errors.Join(errs...)
}

// open returns the annotator of name, opening the ratings file and reading
// what it holds on first use.
func (s *Server) open(name string) (*annotator, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("web: server closed")
	}
	if a, ok := s.annotators[name]; ok {
		return a, nil
	}
	file, err := annotate.FileName(s.c.Dir, name)
	if err != nil {
		return nil, err
	}
	// Create cuts a torn last line before ReadFile would report it.
	w, err := annotate.Create(s.c.Dir, name)
	if err != nil {
		return nil, err
	}
	if w.Dropped() > 0 {
		s.c.Logger.Warn("cut a torn last line (a rating that was never reported saved)", "file", file, "bytes", w.Dropped())
	}
	ratings, _, err := annotate.ReadFile(file)
	if err != nil {
		w.Close()
		return nil, err
	}
	a := &annotator{w: w, latest: make(map[string]annotate.Rating)}
	for _, r := range ratings {
		if r.Annotator != name {
			w.Close()
			return nil, fmt.Errorf("web: %s holds a rating by %q", file, r.Annotator)
		}
		a.latest[r.ID] = r
	}
	s.annotators[name] = a
	return a, nil
}

// resumeAt returns the 0-based index of the first item a has not rated,
// len(Items) when all are.
func (s *Server) resumeAt(a *annotator) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, it := range s.c.Items {
		if _, ok := a.latest[it.ID]; !ok {
			return i
		}
	}
	return len(s.c.Items)
}

// fail writes an error page or message with status code and logs it.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, err error) {
	s.c.Logger.Warn("refused a request", "method", r.Method, "path", r.URL.Path, "status", code, "error", err)
	http.Error(w, err.Error(), code)
}

// startPage is the data of the start page.
type startPage struct {
	Title      string
	Items      int
	Annotators []progress
}

type progress struct {
	Name  string
	Rated int
}

// start shows the annotator's name form and who has rated how much.
func (s *Server) start(w http.ResponseWriter, r *http.Request) {
	p := startPage{Title: s.c.Title, Items: len(s.c.Items)}
	files, _ := filepath.Glob(filepath.Join(s.c.Dir, "*.jsonl"))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".jsonl")
		if _, err := annotate.FileName(s.c.Dir, name); err != nil {
			continue
		}
		rated := 0
		if ratings, _, err := annotate.ReadFile(f); err == nil {
			for _, rt := range ratings {
				if _, ok := s.index[rt.ID]; ok {
					rated++
				}
			}
		}
		p.Annotators = append(p.Annotators, progress{Name: name, Rated: rated})
	}
	s.render(w, "start.html", p)
}

// begin sends the annotator named in the form to where they stopped.
func (s *Server) begin(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.URL.Query().Get("annotator"))
	if _, err := annotate.FileName(s.c.Dir, name); err != nil {
		s.fail(w, r, http.StatusBadRequest, fmt.Errorf("web: a name is 1 to 64 letters, digits, '-', '_' or '.', not starting with '.': %q", name))
		return
	}
	http.Redirect(w, r, "/a/"+name+"/", http.StatusSeeOther)
}

// resume sends the annotator to the first item not rated yet.
func (s *Server) resume(w http.ResponseWriter, r *http.Request) {
	a := s.annotator(w, r)
	if a == nil {
		return
	}
	i := min(s.resumeAt(a), len(s.c.Items)-1)
	http.Redirect(w, r, fmt.Sprintf("/a/%s/%d", r.PathValue("name"), i+1), http.StatusSeeOther)
}

// itemPage is the data of an item page.
type itemPage struct {
	Title     string
	Annotator string
	N, Total  int // N is 1-based
	Rated     int
	Item      *Item
	Rating    *annotate.Rating // the latest, nil if none
	Prev      int              // 0 if none
	Next      int              // 0 if none
	MaxChars  int
}

// lookup resolves the annotator and 1-based item number of a request; on
// failure it answers the request and returns a nil annotator.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (*annotator, int) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 || n > len(s.c.Items) {
		s.fail(w, r, http.StatusNotFound, fmt.Errorf("web: no item %q: items are 1 to %d", r.PathValue("n"), len(s.c.Items)))
		return nil, 0
	}
	a := s.annotator(w, r)
	return a, n
}

// annotator opens the annotator named in the request's path; on failure
// it answers the request and returns nil.
func (s *Server) annotator(w http.ResponseWriter, r *http.Request) *annotator {
	a, err := s.open(r.PathValue("name"))
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, annotate.ErrInvalid) {
			code = http.StatusBadRequest
		}
		s.fail(w, r, code, err)
	}
	return a
}

// item shows item n to the annotator, with their latest rating of it.
func (s *Server) item(w http.ResponseWriter, r *http.Request) {
	a, n := s.lookup(w, r)
	if a == nil {
		return
	}
	it := &s.c.Items[n-1]
	p := itemPage{Title: s.c.Title, Annotator: r.PathValue("name"), N: n, Total: len(s.c.Items), Item: it, MaxChars: annotate.MaxComment}
	a.mu.Lock()
	if rt, ok := a.latest[it.ID]; ok {
		p.Rating = &rt
	}
	for _, x := range s.c.Items {
		if _, ok := a.latest[x.ID]; ok {
			p.Rated++
		}
	}
	a.mu.Unlock()
	if n > 1 {
		p.Prev = n - 1
	}
	if n < len(s.c.Items) {
		p.Next = n + 1
	}
	s.render(w, "item.html", p)
}

func (s *Server) render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.tmpl.ExecuteTemplate(w, name, data); err != nil {
		s.c.Logger.Error("render", "template", name, "error", err)
	}
}

// rateFields are the form fields of a rating post.
var rateFields = []string{"id", "correct", "soundness", "comment"}

// rate saves a rating of item n: a form post with the fields id (the
// item's, so that a stale page cannot rate the wrong trace), correct
// ("yes" or "no"), soundness (1 to 5) and comment. It answers JSON
// {"saved": time} to a request that accepts JSON, and otherwise redirects
// to the next item, so the form works without JavaScript.
func (s *Server) rate(w http.ResponseWriter, r *http.Request) {
	a, n := s.lookup(w, r)
	if a == nil {
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		s.fail(w, r, http.StatusUnsupportedMediaType, fmt.Errorf("web: a rating is posted as application/x-www-form-urlencoded, not %q", r.Header.Get("Content-Type")))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		code := http.StatusBadRequest
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			code = http.StatusRequestEntityTooLarge
		}
		s.fail(w, r, code, fmt.Errorf("web: rating: %w", err))
		return
	}
	it := &s.c.Items[n-1]
	rt, err := parseRating(r.PostForm, it.ID)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err)
		return
	}
	rt.Annotator = r.PathValue("name")
	rt.Time = s.c.Now().UTC()
	a.mu.Lock()
	err = a.w.Write(rt)
	if err == nil {
		a.latest[rt.ID] = rt
	}
	a.mu.Unlock()
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, annotate.ErrInvalid) {
			code = http.StatusBadRequest
		}
		s.fail(w, r, code, err)
		return
	}
	s.c.Logger.Info("saved a rating", "annotator", rt.Annotator, "id", rt.ID, "correct", rt.Correct, "soundness", rt.Soundness)
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"saved": rt.Time})
		return
	}
	next := min(n+1, len(s.c.Items))
	http.Redirect(w, r, fmt.Sprintf("/a/%s/%d", rt.Annotator, next), http.StatusSeeOther)
}

// parseRating reads a rating's fields from a posted form; id is the item's.
func parseRating(form map[string][]string, id string) (annotate.Rating, error) {
	var rt annotate.Rating
	for k, v := range form {
		if !slices.Contains(rateFields, k) {
			return rt, fmt.Errorf("web: rating: unknown field %q", k)
		}
		if len(v) != 1 {
			return rt, fmt.Errorf("web: rating: field %q given %d times", k, len(v))
		}
	}
	get := func(k string) (string, error) {
		v, ok := form[k]
		if !ok {
			return "", fmt.Errorf("web: rating: no field %q", k)
		}
		return v[0], nil
	}
	got, err := get("id")
	if err != nil {
		return rt, err
	}
	if got != id {
		return rt, fmt.Errorf("web: rating: the post is for %q, but this item is %q (reload the page)", got, id)
	}
	rt.ID = id
	correct, err := get("correct")
	if err != nil {
		return rt, err
	}
	switch correct {
	case "yes":
		rt.Correct = true
	case "no":
	default:
		return rt, fmt.Errorf("web: rating: correct is %q, want yes or no", correct)
	}
	sound, err := get("soundness")
	if err != nil {
		return rt, err
	}
	rt.Soundness, err = strconv.Atoi(sound)
	if err != nil || rt.Soundness < annotate.MinSoundness || rt.Soundness > annotate.MaxSoundness {
		return rt, fmt.Errorf("web: rating: soundness is %q, want %d to %d", sound, annotate.MinSoundness, annotate.MaxSoundness)
	}
	if c, ok := form["comment"]; ok {
		rt.Comment = c[0]
	}
	if !utf8.ValidString(rt.Comment) || len(rt.Comment) > annotate.MaxComment {
		return rt, fmt.Errorf("web: rating: the comment must be UTF-8 text of at most %d bytes", annotate.MaxComment)
	}
	return rt, nil
}

// tokensReply is the JSON of an item's token confidence.
type tokensReply struct {
	Estimator string  `json:"estimator"`
	U         float64 `json:"u"`
	Quantile  int     `json:"quantile"` // 1-based for people
	Quantiles int     `json:"quantiles"`
	Spans     []Span  `json:"spans"`
	NoShading string  `json:"no_shading,omitempty"`
}

// tokens reveals item n's uncertainty and token spans, only to an
// annotator who has rated it: the rating stays blind.
func (s *Server) tokens(w http.ResponseWriter, r *http.Request) {
	a, n := s.lookup(w, r)
	if a == nil {
		return
	}
	it := &s.c.Items[n-1]
	a.mu.Lock()
	_, rated := a.latest[it.ID]
	a.mu.Unlock()
	if !rated {
		s.fail(w, r, http.StatusForbidden, fmt.Errorf("web: rate item %d before its confidence is shown", n))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(tokensReply{Estimator: it.Estimator, U: it.U, Quantile: it.Quantile + 1, Quantiles: s.c.Quantiles, Spans: it.Spans, NoShading: it.NoShading})
}
