package perturb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
)

// Upstream is where Fetch downloads from by default: the datasets directory
// of the benchmark's repository.
const Upstream = "https://raw.githubusercontent.com/genentech/PerturbQA/main/perturbqa/datasets/"

// ErrChecksum is wrapped by every *ChecksumError.
var ErrChecksum = errors.New("checksum mismatch")

// ChecksumError reports a file whose SHA-256 digest is not the pinned one.
type ChecksumError struct {
	File string // the file's name, e.g. "k562-de.csv"
	Want string // the pinned digest, lowercase hex
	Got  string // the digest of the bytes read, lowercase hex
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("perturb: %s: %v: want sha256 %s, got %s", e.File, ErrChecksum, e.Want, e.Got)
}

// Unwrap returns ErrChecksum.
func (e *ChecksumError) Unwrap() error { return ErrChecksum }

// pin is the size and SHA-256 digest of a file as distributed.
type pin struct {
	size   int64
	sha256 string
}

// pins were computed with sha256sum and stat over the copies in
// ../shared/perturbqa (TestPins checks them against those copies).
var pins = map[string]pin{
	"hepg2-de.csv":     {2567354, "f94045fb44dcca4af9c69bee5c87de624590061a1123d55d9ee42a9c1ca97932"},
	"hepg2-dir.csv":    {356655, "8c642ab6e6996887dce6c774d5fc58546970ba9216a636c7547b5039062a2cc3"},
	"jurkat-de.csv":    {2891805, "cf993f77015bd7df9d71ce9cf1170f6c8e64a571dc6f9ba0aef411ffb103eec5"},
	"jurkat-dir.csv":   {402456, "8e17055a5bbf8c2751317db5284a9e793a2dc5aaccef0afbcdaf87daabc45709"},
	"k562-de.csv":      {3203066, "e6ab095f3f970bb29f48427414904136785e8cd4945496f8d9a8fa6eab35ee67"},
	"k562-dir.csv":     {401361, "84a0bc9631b33b8720663ed69506a316dad0f686a51f702f277914cc722000f4"},
	"k562_set-de.csv":  {1078975, "d51faff9a337d111ff2f0858890bbf3207669925f26c0ba75164bc7217872c54"},
	"k562_set-dir.csv": {587375, "3298d18708d82bd0852e9f6a91b9c5b56a000a2183375457143ccab7f218cb7f"},
	"rpe1-de.csv":      {3777332, "a66a86aac5db458e0703bccf7f2d638769400a7ccb9f2615cd9421c106b748ca"},
	"rpe1-dir.csv":     {532606, "25fa0b37c7e86cd73e8135b83513ea9d96c55e5a6c3f222ffbb531b91ab0fb0c"},
}

// FetchOptions configures Fetch. A nil *FetchOptions means the zero value;
// each field documents its zero value.
type FetchOptions struct {
	// Dir is the cache directory; "" means DefaultCacheDir().
	Dir string
	// BaseURL is the URL of the directory holding the files; "" means
	// Upstream.
	BaseURL string
	// Client makes the requests; nil means http.DefaultClient. Its Timeout,
	// if any, bounds each file's download.
	Client *http.Client
}

// DefaultCacheDir returns os.UserCacheDir()/labelfree/perturbqa.
func DefaultCacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("perturb: %w", err)
	}
	return filepath.Join(d, "labelfree", "perturbqa"), nil
}

// Fetch makes sure that the cache directory holds both files of cell with
// their pinned SHA-256 digests, and returns the directory, for Load.
//
// A cached file is read and verified on every call and reused when it
// matches; otherwise it is downloaded from BaseURL+name. A download is
// written to a temporary file in the cache directory, verified and renamed
// over the name, so that the cache never holds a partial or unverified file
// under a real name, even when several processes fetch at once. A digest
// that does not match is a *ChecksumError naming the file and both digests;
// a response other than 200 OK is an error naming the URL and status.
// Fetch stops when ctx is done.
func Fetch(ctx context.Context, cell string, opts *FetchOptions) (dir string, err error) {
	if err := checkCell(cell); err != nil {
		return "", err
	}
	var o FetchOptions
	if opts != nil {
		o = *opts
	}
	if o.Dir == "" {
		if o.Dir, err = DefaultCacheDir(); err != nil {
			return "", err
		}
	}
	if o.BaseURL == "" {
		o.BaseURL = Upstream
	}
	if o.Client == nil {
		o.Client = http.DefaultClient
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return "", fmt.Errorf("perturb: %w", err)
	}
	de, dirFile := FileNames(cell)
	for _, name := range []string{de, dirFile} {
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("perturb: fetch %s: %w", name, err)
		}
		if verifyFile(filepath.Join(o.Dir, name), name) == nil {
			continue
		}
		if err := download(ctx, &o, name); err != nil {
			return "", err
		}
	}
	return o.Dir, nil
}

// Verify checks that dir holds both files of cell with their pinned
// SHA-256 digests, returning a *ChecksumError for a file that differs.
func Verify(dir, cell string) error {
	if err := checkCell(cell); err != nil {
		return err
	}
	de, dirFile := FileNames(cell)
	for _, name := range []string{de, dirFile} {
		if err := verifyFile(filepath.Join(dir, name), name); err != nil {
			return err
		}
	}
	return nil
}

func verifyFile(path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("perturb: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	// One byte more than pinned is enough to know that the file differs.
	if _, err := io.Copy(h, io.LimitReader(f, pins[name].size+1)); err != nil {
		return fmt.Errorf("perturb: read %s: %w", path, err)
	}
	return check(name, h)
}

func check(name string, h hash.Hash) error {
	if got := hex.EncodeToString(h.Sum(nil)); got != pins[name].sha256 {
		return &ChecksumError{File: name, Want: pins[name].sha256, Got: got}
	}
	return nil
}

// download fetches name into o.Dir through a verified temporary file.
func download(ctx context.Context, o *FetchOptions, name string) (err error) {
	u, err := url.JoinPath(o.BaseURL, name)
	if err != nil {
		return fmt.Errorf("perturb: fetch %s: %w", name, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("perturb: fetch %s: %w", name, err)
	}
	resp, err := o.Client.Do(req)
	if err != nil {
		return fmt.Errorf("perturb: fetch %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("perturb: fetch %s: GET %s: %s", name, u, resp.Status)
	}

	tmp, err := os.CreateTemp(o.Dir, "."+name+".*.tmp")
	if err != nil {
		return fmt.Errorf("perturb: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	// A server that sends more than the pinned size is cut off one byte
	// past it: the digest then differs, and the disk is not filled.
	if _, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(resp.Body, pins[name].size+1)); err != nil {
		return fmt.Errorf("perturb: fetch %s: %w", name, err)
	}
	if err := check(name, h); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("perturb: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("perturb: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("perturb: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(o.Dir, name)); err != nil {
		return fmt.Errorf("perturb: %w", err)
	}
	return nil
}
