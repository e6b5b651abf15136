// Package ordered runs work on batches in parallel and hands them back in
// the order they were made: the shape of every reader here that decodes a
// file's lines on several goroutines but must yield them in file order.
package ordered

import (
	"context"
	"sync"
)

// Run calls produce on a goroutine of its own to make batches, passing
// each to emit; runs the batches' work on workers goroutines (at least
// one), each calling newWork once for the function it then calls on its
// batches (so that each can keep state, such as buffers); and calls
// consume with each batch after its work, in the order
// emitted, on the caller's goroutine. At most 2·workers batches are
// emitted and not yet consumed, which bounds memory.
//
// Run stops early when consume returns false (Run then returns nil) or
// ctx is done (Run returns context.Cause(ctx)); emit then returns false,
// and produce should return. After ctx is done no batch is passed to
// work or to consume. Otherwise Run returns produce's error once every
// batch emitted before it returned has been consumed, so a read error
// comes after the lines read before it. Every goroutine has ended when
// Run returns.
func Run[B any](ctx context.Context, workers int, produce func(emit func(B) bool) error, newWork func() func(B), consume func(B) bool) error {
	type item struct {
		b    B
		done chan struct{}
	}
	workers = max(workers, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // before wg.Wait: it is what stops the goroutines
	pending := make(chan *item, 2*workers)
	todo := make(chan *item)
	var produced error // written before pending is closed
	wg.Go(func() {
		defer close(pending)
		defer close(todo)
		produced = produce(func(b B) bool {
			it := &item{b: b, done: make(chan struct{})}
			for _, ch := range []chan<- *item{pending, todo} {
				select {
				case ch <- it:
				case <-ctx.Done():
					return false
				}
			}
			return true
		})
	})
	for range workers {
		wg.Go(func() {
			work := newWork()
			for it := range todo {
				if ctx.Err() == nil {
					work(it.b)
				}
				close(it.done)
			}
		})
	}
	for it := range pending {
		select {
		case <-it.done:
		case <-ctx.Done():
		}
		// A batch whose work was skipped is never consumed.
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if !consume(it.b) {
			return nil
		}
	}
	return produced
}
