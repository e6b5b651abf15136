package sampling

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// RunConfig configures Run. Items, Task, Generators and Out are required;
// every other field's zero value is documented.
type RunConfig struct {
	// Items are the questions, in the order the trace file lists them. Ids
	// must be non-empty, valid UTF-8 and unique.
	Items []Item
	// Task builds each item's prompt and reads each trace's answer. With
	// more than one Generator it is called from several goroutines at once.
	Task Task
	// Generators run the prompts: len(Generators) prompts are in flight at
	// once, each on its own Generator, as a Generator (the llama one) need
	// not be safe for concurrent use. One that is, such as an HTTP client,
	// may be listed several times.
	Generators []Generator
	// Params are the sampling settings; nil means the zero Params. Run
	// applies the defaults (Params.WithDefaults). Params.Seed is the run's
	// base seed: the item with id is generated with Params.Seed =
	// GroupSeed(base, id).
	Params *Params
	// Out is the trace file. If it exists, Run resumes it (see Run).
	Out string

	// Model, ModelSHA256, Backend and TaskName go into the file's Header
	// (see there); "" leaves a field empty. A resumed run must give the same.
	Model, ModelSHA256, Backend, TaskName string
	// Shard restricts the run to the items of one shard; zero means all.
	Shard Shard
	// LogProbs says what the Generators' token numbers are; "" means
	// LogProbsFull.
	LogProbs LogProbKind
	// TokenIDs records each token's id in the file; false leaves them out.
	TokenIDs bool
	// NoSync skips the fsync after each group, which only matters if the
	// machine (not just the process) goes down: groups the kernel had not
	// yet written are then lost, or left as a torn last line, and redone by
	// the next run. false syncs (about a millisecond a group, nothing next
	// to generation).
	NoSync bool

	// OnError decides what an item's error does: a Task.Prompt error, a
	// Generator error other than the run's cancellation, or traces the file
	// cannot hold. nil fails the run with the error (which names the item's
	// id) once every group before that item is written. Otherwise it is
	// called with the item and the error, in input order, from one goroutine
	// at a time: returning nil leaves the item out of the file (a later run
	// on the same file retries it, and places it after the groups already
	// there) and goes on; returning an error ends the run with that error.
	OnError func(it Item, err error) error
	// Progress, if not nil, is called from one goroutine at a time: once
	// when generation starts, after a group is written if ProgressInterval
	// has passed since the last call, and once before Run returns.
	Progress func(Progress)
	// ProgressInterval is the least time between Progress calls; 0 means
	// one second.
	ProgressInterval time.Duration
}

// Stats counts a run's groups.
type Stats struct {
	Total   int // the items of the run's shard
	Skipped int // already in the file when the run started
	Done    int // written by this run
	Failed  int // errors that OnError let pass: those items are not in the file
}

// Progress is a report of a run in progress, for a terminal or a log.
type Progress struct {
	Stats
	Elapsed time.Duration // since Run was called
	Rate    float64       // groups written per second by this run
	ETA     time.Duration // the time left at Rate; 0 while Rate is 0
}

// Run generates the traces of c.Items with c.Generators and writes them to
// the trace file c.Out, one line per group, appending and syncing each
// group as it finishes. Groups are written in input order whatever the
// concurrency: each Generator works on its own item, and at most
// len(Generators) items are in flight or finished and waiting for an
// earlier one. With the same items and settings the file's bytes depend on
// the Generator's output alone.
//
// Resuming: if c.Out exists, its header must describe this run (the same
// model, backend, task, params with defaults applied, base seed and shard;
// the error lists what differs), and its groups must be items of this run.
// A torn last line, left by a crash during a write, is cut off; invalid
// JSON anywhere else is an error. The items whose groups are in the file
// are skipped and the others generated. Run takes no lock: two processes
// must not run on one file at once (shards write files of their own).
//
// If ctx ends, Run stops generating and writes every finished group that
// input order allows; a group finished after an unfinished one is redone
// by the next run. It then returns the stats and an error wrapping ctx's.
func Run(ctx context.Context, c *RunConfig) (Stats, error) {
	p := newReporter(c)
	r, err := newRun(c)
	if err != nil {
		return Stats{}, err
	}
	f, done, err := openOut(c.Out, &r.header, r.inShard)
	if err != nil {
		return Stats{}, err
	}
	defer f.Close() // after the explicit Close below, a no-op

	st := Stats{Total: len(r.items), Skipped: len(done)}
	var todo []*Item
	for _, it := range r.items {
		if !done[it.ID] {
			todo = append(todo, it)
		}
	}
	p.report(&st, true)
	err = r.generate(ctx, f, todo, &st, p)
	if serr := f.Sync(); err == nil && serr != nil {
		// Even with NoSync, the end of a run is worth one fsync.
		err = fmt.Errorf("sampling: sync %s: %w", c.Out, serr)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("sampling: %w", cerr)
	}
	p.report(&st, true)
	if err != nil {
		return st, err
	}
	if left := len(todo) - st.Done - st.Failed; left > 0 {
		// Only a cancelled ctx leaves items undone without an error.
		return st, fmt.Errorf("sampling: run stopped with %d of %d groups to go: %w", left, st.Total, context.Cause(ctx))
	}
	return st, nil
}

// generate runs todo on the Generators and writes their groups to f in
// todo's order, counting in st. A feeder hands out indices into todo, one
// worker per Generator turns each into a line, and a writer puts the lines
// in order.
func (r *run) generate(ctx context.Context, f syncWriter, todo []*Item, st *Stats, p *reporter) error {
	n := len(r.c.Generators)
	g, gctx := errgroup.WithContext(ctx)
	// slots holds a token for each item handed out and not yet written or
	// given to OnError: it bounds the items in flight or waiting for an
	// earlier one, and so the results not yet received, to n.
	slots := make(chan struct{}, n)
	jobs := make(chan int)
	results := make(chan result, n)
	g.Go(func() error {
		defer close(jobs)
		for i := range todo {
			select {
			case slots <- struct{}{}:
			case <-gctx.Done():
				return nil
			}
			select {
			case jobs <- i:
			case <-gctx.Done():
				return nil
			}
		}
		return nil
	})
	var workers sync.WaitGroup
	for _, gen := range r.c.Generators {
		workers.Add(1)
		g.Go(func() error {
			defer workers.Done()
			enc := newEncoder()
			for i := range jobs {
				line, err := r.group(gctx, gen, enc, todo[i])
				if err != nil && gctx.Err() != nil {
					continue // cancelled: redone by the next run
				}
				results <- result{i: i, line: line, err: err} // never blocks: see slots
			}
			return nil
		})
	}
	go func() {
		workers.Wait()
		close(results)
	}()
	g.Go(func() error {
		pending := make(map[int]result, n) // the reorder buffer
		next := 0
		for res := range results {
			pending[res.i] = res
			for {
				res, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				if err := r.write(f, todo[next], &res, st); err != nil {
					return err
				}
				next++
				<-slots
				p.report(st, false)
			}
		}
		return nil
	})
	return g.Wait()
}

// result is a worker's output for todo[i]: the group's line or an error.
type result struct {
	i    int
	line []byte
	err  error
}

// run holds what Run derives from its config.
type run struct {
	c      *RunConfig
	params Params // defaults applied; Seed is the base seed
	kind   LogProbKind
	header Header
	items  []*Item // the shard's items, in input order
	// inShard reports whether id is one of items.
	inShard func(id string) bool
}

func newRun(c *RunConfig) (*run, error) {
	if c == nil {
		return nil, errors.New("sampling: nil RunConfig")
	}
	switch {
	case c.Task == nil:
		return nil, errors.New("sampling: run: no Task")
	case len(c.Generators) == 0:
		return nil, errors.New("sampling: run: no Generators")
	case c.Out == "":
		return nil, errors.New("sampling: run: no output path (Out)")
	}
	for i, g := range c.Generators {
		if g == nil {
			return nil, fmt.Errorf("sampling: run: Generators[%d] is nil", i)
		}
	}
	var p Params
	if c.Params != nil {
		p = c.Params.WithDefaults()
	} else {
		p = (&Params{}).WithDefaults()
	}
	p.Stop = slices.Clone(p.Stop)
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := c.Shard.validate(); err != nil {
		return nil, err
	}
	kind := c.LogProbs
	if kind == "" {
		kind = LogProbsFull
	}
	if err := kind.validate(); err != nil {
		return nil, fmt.Errorf("sampling: run: %w", err)
	}
	if err := checkItems(c.Items); err != nil {
		return nil, err
	}
	r := &run{
		c: c, params: p, kind: kind,
		header: Header{
			Model: c.Model, ModelSHA256: c.ModelSHA256, Backend: c.Backend,
			Task: c.TaskName, Params: p, Shard: c.Shard,
		},
	}
	member := make(map[string]bool)
	for i := range c.Items {
		if it := &c.Items[i]; c.Shard.Contains(it.ID) {
			r.items = append(r.items, it)
			member[it.ID] = true
		}
	}
	r.inShard = func(id string) bool { return member[id] }
	return r, nil
}

// checkItems reports an id that the file format cannot hold or that occurs
// twice.
func checkItems(items []Item) error {
	first := make(map[string]int, len(items))
	for i := range items {
		id := items[i].ID
		if err := checkID(id); err != nil {
			return fmt.Errorf("sampling: item %d: %w", i, err)
		}
		if j, dup := first[id]; dup {
			return fmt.Errorf("sampling: items %d and %d: %w %q", j, i, ErrDuplicateID, id)
		}
		first[id] = i
	}
	return nil
}

// group generates it on gen and returns its line.
func (r *run) group(ctx context.Context, gen Generator, enc *encoder, it *Item) ([]byte, error) {
	prompt, err := r.c.Task.Prompt(*it)
	if err != nil {
		return nil, fmt.Errorf("sampling: item %q: prompt: %w", it.ID, err)
	}
	p := r.params
	p.Seed = GroupSeed(r.params.Seed, it.ID)
	traces, err := gen.Generate(ctx, prompt, &p)
	if err != nil {
		return nil, fmt.Errorf("sampling: item %q: %w", it.ID, err)
	}
	want := p.Samples
	if !p.NoGreedy {
		want++
	}
	if len(traces) != want {
		return nil, fmt.Errorf("sampling: item %q: the Generator returned %d traces, want %d", it.ID, len(traces), want)
	}
	g := Group{Item: *it, Prompt: prompt, Traces: make([]TraceRecord, len(traces))}
	for k := range traces {
		t := &traces[k]
		if greedy := k == 0 && !p.NoGreedy; t.Greedy != greedy {
			return nil, fmt.Errorf("sampling: item %q: trace %d has Greedy %v, want %v", it.ID, k, t.Greedy, greedy)
		}
		kind := r.kind
		if t.LogProbKind != "" {
			kind = t.LogProbKind
		}
		g.Traces[k] = NewTraceRecord(t, r.c.Task.Parse(t.Text), kind)
		if !r.c.TokenIDs {
			g.Traces[k].TokenIDs = nil
		}
	}
	return enc.appendGroup(nil, &g)
}

// write writes a finished group to f, or hands its error to OnError.
func (r *run) write(f syncWriter, it *Item, res *result, st *Stats) error {
	if res.err != nil {
		if r.c.OnError == nil {
			return res.err
		}
		if err := r.c.OnError(*it, res.err); err != nil {
			return err
		}
		st.Failed++
		return nil
	}
	if _, err := f.Write(res.line); err != nil {
		return fmt.Errorf("sampling: write %s: %w", r.c.Out, err)
	}
	if !r.c.NoSync {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("sampling: sync %s: %w", r.c.Out, err)
		}
	}
	st.Done++
	return nil
}

// syncWriter is the part of *os.File that write uses.
type syncWriter interface {
	Write([]byte) (int, error)
	Sync() error
}

// reporter calls RunConfig.Progress, at most once per interval unless
// forced.
type reporter struct {
	fn          func(Progress)
	interval    time.Duration
	start, last time.Time
}

func newReporter(c *RunConfig) *reporter {
	p := &reporter{start: time.Now(), interval: time.Second}
	if c != nil {
		p.fn = c.Progress
		if c.ProgressInterval > 0 {
			p.interval = c.ProgressInterval
		}
	}
	return p
}

func (p *reporter) report(st *Stats, force bool) {
	now := time.Now()
	if p.fn == nil || !force && now.Sub(p.last) < p.interval {
		return
	}
	p.last = now
	pr := Progress{Stats: *st, Elapsed: now.Sub(p.start)}
	if s := pr.Elapsed.Seconds(); s > 0 {
		pr.Rate = float64(st.Done) / s
	}
	if left := st.Total - st.Skipped - st.Done - st.Failed; pr.Rate > 0 && left > 0 {
		pr.ETA = time.Duration(float64(left) / pr.Rate * float64(time.Second))
	}
	p.fn(pr)
}
