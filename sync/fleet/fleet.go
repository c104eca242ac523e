// Package fleet runs one task per node, a bounded number at a time, each
// under its own deadline, retrying failures that happened before anything
// was written. A node that fails never holds up or stops the others.
package fleet

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/steps"
)

// Options bound the work.
type Options struct {
	Concurrency int           // nodes at once (default 16)
	Timeout     time.Duration // per node, all attempts together (default 60s)
	Retries     int           // extra attempts for retryable failures
	Backoff     time.Duration // before the first retry; doubles after each (default 250ms)
	// Progress is called after each node finishes, from one goroutine at
	// a time.
	Progress func(done, total int, node string, status string)
	// Steps, if set, receives the duration of each step of each node's
	// work (see sync/steps), with the node's name.
	Steps func(node, step string, d time.Duration)
}

// Task works on one node. started is when the node's first attempt began.
// It returns a result, the status word for the progress line, and whether
// a failure may be retried (nothing written).
type Task[R any] func(ctx context.Context, n *inventory.Node, attempt int, started time.Time) (result R, status string, retry bool)

// Run calls task for every node and returns the results in node order.
func Run[R any](ctx context.Context, nodes []*inventory.Node, opts Options, task Task[R]) []R {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 250 * time.Millisecond
	}
	results := make([]R, len(nodes))
	sem := make(chan struct{}, opts.Concurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done(): // the task sees the cancelled context and fails fast
			}
			nctx, cancel := context.WithTimeoutCause(ctx, opts.Timeout, fmt.Errorf("no result within %v (--timeout)", opts.Timeout))
			defer cancel()
			if opts.Steps != nil {
				nctx = steps.With(nctx, func(step string, d time.Duration) { opts.Steps(n.Name, step, d) })
			}
			var status string
			backoff := opts.Backoff
			started := time.Now()
			for attempt := 1; ; attempt++ {
				var retry bool
				results[i], status, retry = task(nctx, n, attempt, started)
				if !retry || attempt > opts.Retries || !sleep(nctx, backoff) {
					break
				}
				backoff *= 2
			}
			if opts.Progress != nil {
				mu.Lock()
				done++
				opts.Progress(done, len(nodes), n.Name, status)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return results
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
