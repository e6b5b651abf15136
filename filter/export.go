package filter

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/labelfree/labelfree/sampling"
	"github.com/labelfree/labelfree/score"
)

// The file names Export writes in its directory.
const (
	TrainFile      = "train.jsonl"
	ValidationFile = "validation.jsonl"
)

// ExportConfig configures Export. A nil *ExportConfig means the zero
// value; each field documents its zero value.
type ExportConfig struct {
	// Samples also exports, for each kept group, the sampled traces whose
	// parsed answer equals r0's; false exports r0 only. A trace whose
	// assistant message equals one already written for the group is
	// skipped either way.
	Samples bool
	// KeepTruncated exports traces that ended on their token budget or the
	// context's end (finish "length" or "context"), whose reasoning was cut
	// off; false skips and counts them.
	KeepTruncated bool
	// Validation is the fraction of groups, in [0, 1), written to
	// validation.jsonl instead of train.jsonl (see Export). No validation
	// file is written when it would be empty (0, or too few groups for the
	// split to send one there), and one left by an earlier export is
	// removed (which Replace allows): trainers refuse an empty split.
	Validation float64
	// Seed seeds the train/validation split.
	Seed uint64
	// Raw makes the assistant message the trace's text exactly as
	// generated; false writes the reasoning in the canonical form (see
	// Export).
	Raw bool
	// Replace replaces existing output files; false refuses to write if
	// train.jsonl or validation.jsonl exists (an error wrapping ErrExist).
	Replace bool
}

// ExportStats counts what Export wrote and skipped.
type ExportStats struct {
	// Selected is the number of groups in the selection.
	Selected int `json:"selected"`
	// Groups is the number of selected groups with at least one trace
	// written; Empty the number with none (every trace skipped).
	Groups int `json:"groups"`
	Empty  int `json:"empty"`
	// Train and Validation are the lines written to each file.
	Train      int `json:"train"`
	Validation int `json:"validation"`
	// Truncated counts traces skipped for finish "length" or "context".
	Truncated int `json:"truncated"`
	// Disagreeing counts sampled traces skipped because their answer was
	// not r0's (or not parsed); only with Samples.
	Disagreeing int `json:"disagreeing"`
	// Duplicates counts traces skipped because the group already had the
	// same assistant message.
	Duplicates int `json:"duplicates"`
	// EmptyText counts traces skipped because their text was empty or
	// white space.
	EmptyText int `json:"empty_text"`
	// Unclosed counts traces written without a closed reasoning block
	// (no "</think>"), whose text went out as it was.
	Unclosed int `json:"unclosed"`
}

// Message is one turn of an exported chat.
type Message struct {
	Role    string `json:"role"` // "system", "user" or "assistant"
	Content string `json:"content"`
}

// Example is one line of an exported file: a chat for SFT, the group's id,
// and the trace's index in its group (0 is r0).
type Example struct {
	Messages []Message `json:"messages"`
	ID       string    `json:"id"`
	Trace    int       `json:"trace"`
}

// Export writes the traces of the selection's groups, read from the trace
// file traces, as SFT data to dir/train.jsonl and dir/validation.jsonl:
// one Example per line, JSON Lines in the chat "messages" format that
// TRL's SFTTrainer and Hugging Face datasets read
// (load_dataset("json", data_files=...)), for example
//
//	{"messages":[{"role":"system","content":"Reason inside <think></think>, …"},{"role":"user","content":"Question q0001. …"},{"role":"assistant","content":"<think>\nSTAT1 binds …\n</think>\n\n<answer>up</answer>"}],"id":"q0001","trace":0}
//
// The system and user messages are the group's prompt as the trace file
// records it: its chat messages, or, for a raw prompt, one user message
// with the prompt's text verbatim (a raw prompt that already holds a chat
// template's markup keeps it; prefer chat prompts for SFT).
//
// The assistant message keeps the reasoning. Traces differ in how they
// open it: the llama backend's Qwen3 traces start with "<think>\n" as
// generated, while a chat template that puts "<think>" in the prompt, or a
// raw prompt, leaves it out of the trace. Unless c.Raw, a trace with a
// "</think>" is therefore rewritten as
//
//	"<think>\n" + reasoning + "\n</think>\n\n" + answer
//
// where reasoning is the text before the last "</think>" without a leading
// "<think>" and answer the text after it, both trimmed of white space:
// the form Qwen3's chat template renders for the final assistant turn, so
// a model fine-tuned on it sees what it generates. A trace without
// "</think>" is written trimmed, as it is, and counted as Unclosed.
//
// The exported traces of a kept group are r0, and with c.Samples its
// sampled traces that agree with r0; truncated traces and duplicates are
// skipped (see ExportConfig). Lines follow the trace file's order.
//
// The split is by group, so a group's traces never straddle train and
// validation: a group goes to validation when u < c.Validation, where u in
// [0, 1) is the top 53 bits of the SplitMix64 finaliser of FNV-1a 64 over
// c.Seed (8 bytes, little-endian) followed by the id. It depends on the
// seed and the id alone, so a group lands in the same split whatever else
// is selected, on every machine.
//
// Export reads what it needs of the trace file in one of two ways. When
// every record of the selection has a Location (the score file recorded
// where each group's line is, see score.Location), it reads only the
// selected lines, in file order, with positioned reads on several
// goroutines, and decodes of each only what an example needs: the id, the
// prompt, and each trace's text, answer and finish, not the per-token
// arrays. The file's SHA-256 cannot be checked without reading all of it;
// instead each line must be where its Location says, with its length and
// CRC-32C, and hold the record's group, or the error names the file, the
// line's offset and the group, and wraps ErrTracesChanged. A selection
// without locations (from a score file written before they were
// recorded, or records made in memory) makes Export read the whole trace
// file once, decoding only the lines of selected groups (on several
// goroutines, see score.TraceReader); with the selection's TracesSHA256
// set, the file's bytes must hash to it (the selection was made from its
// scores, so every line was checked when it was scored), and every
// selected group must be in the file. Either way, memory holds the
// selection and a few batches of lines, not the file. The outputs are
// written to "<name>.partial" files, synced, and renamed into place only
// when all is well, so an error or a crash leaves no half-written
// train.jsonl. Existing outputs are an error unless c.Replace. Parquet is
// not written (see the package comment).
func Export(ctx context.Context, sel *Selection, traces, dir string, c *ExportConfig) (ExportStats, error) {
	if sel == nil {
		return ExportStats{}, fmt.Errorf("filter: nil selection")
	}
	var cfg ExportConfig
	if c != nil {
		cfg = *c
	}
	if !(cfg.Validation >= 0 && cfg.Validation < 1) {
		return ExportStats{}, fmt.Errorf("filter: validation fraction %v outside [0, 1)", cfg.Validation)
	}
	names := []string{filepath.Join(dir, TrainFile), filepath.Join(dir, ValidationFile)}
	for _, n := range names {
		if err := checkNew(n, cfg.Replace); err != nil {
			return ExportStats{}, err
		}
	}
	if cfg.Validation == 0 {
		names = names[:1]
	}
	st := ExportStats{}
	outs := make([]*partial, len(names))
	defer func() {
		for _, o := range outs {
			o.abort()
		}
	}()
	var err error
	for i, n := range names {
		if outs[i], err = newPartial(n); err != nil {
			return st, err
		}
	}
	sk := &sink{c: &cfg, outs: outs, st: &st}
	if located(sel) {
		err = exportLocated(ctx, sel, traces, sk)
	} else {
		err = exportScan(ctx, sel, traces, sk)
	}
	if err != nil {
		return st, err
	}
	if len(outs) > 1 && st.Validation == 0 {
		outs[1].abort()
		outs = outs[:1]
	}
	for _, o := range outs {
		if err := o.commit(); err != nil {
			return st, err
		}
	}
	if len(outs) == 1 {
		// A validation file of an earlier export (replaced, or it would
		// have been refused) would overlap this train file.
		if err := os.Remove(filepath.Join(dir, ValidationFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return st, fmt.Errorf("filter: %w", err)
		}
	}
	return st, syncDir(dir)
}

// sink writes a group's lines to its split and counts them.
type sink struct {
	c    *ExportConfig
	outs []*partial // train, then validation if c.Validation > 0
	st   *ExportStats
}

// add writes b, the lines of the group id (n of them), to the group's
// split.
func (s *sink) add(id string, b []byte, n int) error {
	out := s.outs[0]
	if s.c.Validation > 0 && splitUnit(s.c.Seed, id) < s.c.Validation {
		out = s.outs[1]
		s.st.Validation += n
	} else {
		s.st.Train += n
	}
	if n > 0 {
		s.st.Groups++
	} else {
		s.st.Empty++
	}
	if _, err := out.w.Write(b); err != nil {
		return fmt.Errorf("filter: write: %w", err)
	}
	return nil
}

// exportScan is Export for a selection without locations: it reads the
// whole trace file, decoding the selected groups, and checks its hash.
func exportScan(ctx context.Context, sel *Selection, traces string, sk *sink) error {
	want := sel.IDs()
	sk.st.Selected = len(want)
	// Only the selected groups are decoded (see score.TraceReader).
	tr, err := score.OpenTraces(traces, 0, func(id string) bool { return want[id] })
	if err != nil {
		return err
	}
	defer tr.Close()
	x := newExporter(sk.c)
	seen := make(map[string]bool, len(want))
	var buf []byte
	for g, err := range tr.All(ctx) {
		if err != nil {
			return err
		}
		id := g.Item.ID
		if !want[id] {
			continue // a line that does not start as a sampling.Writer writes it
		}
		seen[id] = true
		eg := fromGroup(g)
		var n int
		if buf, n, err = x.group(buf[:0], &eg, sk.st); err != nil {
			return err
		}
		if err := sk.add(id, buf, n); err != nil {
			return err
		}
	}
	if len(seen) != len(want) {
		for _, r := range sel.Records {
			if !seen[r.ID] {
				return fmt.Errorf("filter: %d selected groups are not in %s (the first: %q)", len(want)-len(seen), traces, r.ID)
			}
		}
	}
	if h := sel.Header.TracesSHA256; h != "" {
		if got := tr.SHA256(); got != h {
			return fmt.Errorf("filter: %s has SHA-256 %s, but the selection was made from scores of a trace file with %s", traces, got, h)
		}
	}
	return nil
}

// exporter turns groups into lines. It is not safe for concurrent use.
type exporter struct {
	c       *ExportConfig
	written []string
}

func newExporter(c *ExportConfig) *exporter { return &exporter{c: c} }

// group appends g's exported lines to dst and returns how many it wrote;
// it counts what it skips in st.
func (x *exporter) group(dst []byte, g *exportGroup, st *ExportStats) ([]byte, int, error) {
	prompt, err := promptMessages(&g.prompt)
	if err != nil {
		return dst, 0, fmt.Errorf("filter: group %q: %w", g.id, err)
	}
	r0 := slices.IndexFunc(g.traces, func(t exportTrace) bool { return t.greedy })
	if r0 < 0 {
		return dst, 0, fmt.Errorf("filter: group %q has no greedy trace r0", g.id)
	}
	x.written = x.written[:0]
	for i := -1; i < len(g.traces); i++ {
		// r0 first, then with Samples the others in file order.
		k := i
		switch {
		case i < 0:
			k = r0
		case !x.c.Samples:
			return dst, len(x.written), nil
		case i == r0:
			continue
		}
		t := &g.traces[k]
		if k != r0 {
			if r := &g.traces[r0]; !t.ok || !r.ok || t.class != r.class {
				st.Disagreeing++
				continue
			}
		}
		if !x.c.KeepTruncated && (t.finish == sampling.FinishLength || t.finish == sampling.FinishContext) {
			st.Truncated++
			continue
		}
		content, closed := assistant(t.Text(), x.c.Raw)
		switch {
		case strings.TrimSpace(content) == "":
			st.EmptyText++
			continue
		case slices.Contains(x.written, content):
			st.Duplicates++
			continue
		}
		if !closed {
			st.Unclosed++
		}
		x.written = append(x.written, content)
		dst = appendExample(dst, prompt, content, g.id, k)
	}
	return dst, len(x.written), nil
}

// appendExample appends the line of an Example: the bytes that
// encoding/json's Encoder writes for it with SetEscapeHTML(false), newline
// included (TestAppendExample checks this), without its reflection.
// Traces are full of <think> and <answer>: \u003c would make the file
// unreadable to people and grep, and decodes the same.
func appendExample(dst []byte, prompt []Message, assistant, id string, trace int) []byte {
	dst = append(dst, `{"messages":[`...)
	for _, m := range prompt {
		dst = append(dst, `{"role":`...)
		dst = appendString(dst, m.Role)
		dst = append(dst, `,"content":`...)
		dst = appendString(dst, m.Content)
		dst = append(dst, "},"...)
	}
	dst = append(dst, `{"role":"assistant","content":`...)
	dst = appendString(dst, assistant)
	dst = append(dst, `}],"id":`...)
	dst = appendString(dst, id)
	dst = append(dst, `,"trace":`...)
	dst = strconv.AppendInt(dst, int64(trace), 10)
	return append(dst, "}\n"...)
}

// promptMessages returns the messages of p for an exported chat.
func promptMessages(p *sampling.Prompt) ([]Message, error) {
	if len(p.Messages) == 0 {
		if strings.TrimSpace(p.Text) == "" {
			return nil, fmt.Errorf("empty prompt")
		}
		return []Message{{Role: "user", Content: p.Text}}, nil
	}
	ms := make([]Message, len(p.Messages))
	for i, m := range p.Messages {
		if m.Role == "" || strings.TrimSpace(m.Content) == "" {
			return nil, fmt.Errorf("prompt message %d: role %q with empty content", i, m.Role)
		}
		ms[i] = Message{Role: m.Role, Content: m.Content}
	}
	return ms, nil
}

// Think markers.
const (
	thinkOpen  = "<think>"
	thinkClose = "</think>"
)

// assistant returns the assistant message of a trace's text (see Export)
// and whether it had a closed reasoning block.
func assistant(text string, raw bool) (content string, closed bool) {
	i := strings.LastIndex(text, thinkClose)
	if raw {
		return text, i >= 0
	}
	if i < 0 {
		return strings.TrimSpace(text), false
	}
	reasoning := strings.TrimSpace(text[:i])
	reasoning = strings.TrimSpace(strings.TrimPrefix(reasoning, thinkOpen))
	answer := strings.TrimSpace(text[i+len(thinkClose):])
	return thinkOpen + "\n" + reasoning + "\n" + thinkClose + "\n\n" + answer, true
}

// splitUnit is the number in [0, 1) that puts the group id in the
// validation split when below the validation fraction.
func splitUnit(seed uint64, id string) float64 {
	h := uint64(14695981039346656037) // FNV-1a 64
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	// SplitMix64's finaliser.
	h = (h ^ h>>30) * 0xbf58476d1ce4e5b9
	h = (h ^ h>>27) * 0x94d049bb133111eb
	h ^= h >> 31
	return float64(h>>11) / (1 << 53)
}

// partial is an output file being written as "<name>.partial".
type partial struct {
	name string
	f    *os.File
	w    *bufio.Writer
	done bool
}

func newPartial(name string) (*partial, error) {
	f, err := os.Create(name + ".partial")
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	return &partial{name: name, f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

// commit flushes, syncs and renames the file into place.
func (p *partial) commit() error {
	tmp := p.name + ".partial"
	if err := p.w.Flush(); err != nil {
		return fmt.Errorf("filter: write %s: %w", tmp, err)
	}
	if err := p.f.Sync(); err != nil {
		return fmt.Errorf("filter: sync %s: %w", tmp, err)
	}
	if err := p.f.Close(); err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	p.done = true
	if err := os.Rename(tmp, p.name); err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	return nil
}

// abort removes the partial file unless it was committed; nil is fine.
func (p *partial) abort() {
	if p == nil || p.done {
		return
	}
	p.f.Close()
	os.Remove(p.name + ".partial")
}
