// Package fleet runs one task per item (per node, for push and check), a
// bounded number at a time, each under its own deadline (which stops
// while the item waits for another run, see Pause), retrying failures
// that happened before anything was written. An item that fails never
// holds up or stops the others. It knows nothing of what an item is.
package fleet

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/sync/steps"
)

// Options bound the work.
type Options struct {
	Concurrency int           // items at once (default 32: see docs/development.md, "The default concurrency")
	Timeout     time.Duration // per item, all attempts together (default 60s)
	Retries     int           // extra attempts for retryable failures
	Backoff     time.Duration // before the first retry; doubles after each (default 250ms)
	// Progress is called after each item finishes, from one goroutine at
	// a time.
	Progress func(done, total int, name string, status string)
	// Steps, if set, receives the duration of each step of each item's
	// work (see sync/steps), with the item's name.
	Steps func(name, step string, d time.Duration)
}

// Task works on one item. started is when the item's first attempt
// began. It returns a result, the status word for the progress line, and
// whether a failure may be retried (nothing written).
type Task[T, R any] func(ctx context.Context, item T, attempt int, started time.Time) (result R, status string, retry bool)

// Run calls task for every item and returns the results in item order.
// name names an item on the progress line and in step timings.
func Run[T, R any](ctx context.Context, items []T, name func(T) string, opts Options, task Task[T, R]) []R {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 32
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 250 * time.Millisecond
	}
	results := make([]R, len(items))
	// A fixed pool of workers takes the items in order: a goroutine per
	// item, waiting its turn, would cost each item a stack while it waits
	// (megabytes for a fleet of thousands) for nothing. Once ctx is done,
	// the workers still hand every item to the task, which fails fast.
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range min(opts.Concurrency, len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(items); i = int(next.Add(1) - 1) {
				var status string
				results[i], status = runItem(ctx, items[i], name, opts, task)
				if opts.Progress != nil {
					mu.Lock()
					done++
					opts.Progress(done, len(items), name(items[i]), status)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return results
}

// runItem is one item's attempts, under its own deadline.
func runItem[T, R any](ctx context.Context, item T, name func(T) string, opts Options, task Task[T, R]) (result R, status string) {
	clk, cancel := newClock(ctx, opts.Timeout, remedy.Errorf(remedy.Timeout, "no result within %v (%v)", opts.Timeout, remedy.Timeout))
	defer cancel()
	var nctx context.Context = clk
	if opts.Steps != nil {
		nctx = steps.With(nctx, func(step string, d time.Duration) { opts.Steps(name(item), step, d) })
	}
	backoff := opts.Backoff
	started := time.Now()
	for attempt := 1; ; attempt++ {
		var retry bool
		result, status, retry = task(nctx, item, attempt, started)
		if !retry || attempt > opts.Retries || !sleep(nctx, backoff) {
			return result, status
		}
		backoff *= 2
	}
}

// sleep waits d unless ctx ends first; it reports whether to go on.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
