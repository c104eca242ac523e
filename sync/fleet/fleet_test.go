package fleet

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// nodes are items named n0, n1, ...: fleet needs nothing else of them.
func nodes(n int) []string {
	var ns []string
	for i := 0; i < n; i++ {
		ns = append(ns, fmt.Sprintf("n%d", i))
	}
	return ns
}

func name(s string) string { return s }

func TestConcurrencyIsBoundedAndOrderKept(t *testing.T) {
	var running, peak atomic.Int32
	gate := make(chan struct{})
	var arrived sync.WaitGroup
	arrived.Add(3)
	go func() { arrived.Wait(); close(gate) }()
	res := Run(context.Background(), nodes(9), name, Options{Concurrency: 3}, func(ctx context.Context, n string, attempt int, _ time.Time) (string, string, bool) {
		now := running.Add(1)
		for {
			p := peak.Load()
			if now <= p || peak.CompareAndSwap(p, now) {
				break
			}
		}
		if n < "n3" { // the first three wait until all three run at once
			arrived.Done()
			<-gate
		}
		running.Add(-1)
		return n, "ok", false
	})
	if peak.Load() != 3 {
		t.Errorf("peak concurrency %d, want 3", peak.Load())
	}
	for i, r := range res {
		if r != fmt.Sprintf("n%d", i) {
			t.Fatalf("results out of order: %v", res)
		}
	}
}

func TestRetriesOnlyWhenAllowed(t *testing.T) {
	var calls sync.Map
	res := Run(context.Background(), nodes(2), name, Options{Retries: 3, Backoff: time.Millisecond}, func(ctx context.Context, n string, attempt int, _ time.Time) (int, string, bool) {
		calls.Store(n, attempt)
		return attempt, "x", n == "n0" && attempt < 3 // n0 fails twice before anything was written
	})
	if res[0] != 3 || res[1] != 1 {
		t.Errorf("attempts = %v, want [3 1]", res)
	}
}

func TestRetriesAreBounded(t *testing.T) {
	res := Run(context.Background(), nodes(1), name, Options{Retries: 2, Backoff: time.Millisecond}, func(ctx context.Context, n string, attempt int, _ time.Time) (int, string, bool) {
		return attempt, "failed", true
	})
	if res[0] != 3 {
		t.Errorf("attempts = %d, want 3 (1 + 2 retries)", res[0])
	}
}

// A node's timeout covers all its attempts; a slow node does not delay
// the report beyond it, and others finish.
func TestTimeoutPerNode(t *testing.T) {
	res := Run(context.Background(), nodes(2), name, Options{Timeout: 50 * time.Millisecond, Retries: 100, Backoff: time.Millisecond}, func(ctx context.Context, n string, attempt int, _ time.Time) (string, string, bool) {
		if n == "n1" {
			return "fast", "ok", false
		}
		<-ctx.Done() // a hung node: only the deadline ends it
		return ctx.Err().Error(), "failed", true
	})
	if res[0] != context.DeadlineExceeded.Error() || res[1] != "fast" {
		t.Errorf("results %v", res)
	}
}

func TestProgressCountsEveryNode(t *testing.T) {
	var seen []string
	Run(context.Background(), nodes(4), name, Options{Concurrency: 2, Progress: func(done, total int, node, status string) {
		seen = append(seen, fmt.Sprintf("%d/%d", done, total))
	}}, func(ctx context.Context, n string, attempt int, _ time.Time) (int, string, bool) {
		return 0, "ok", false
	})
	if len(seen) != 4 || seen[3] != "4/4" {
		t.Errorf("progress %v", seen)
	}
}

// A fleet of thousands costs Concurrency goroutines, not one per node
// waiting its turn (each with a stack).
func TestGoroutinesBoundedByConcurrency(t *testing.T) {
	before := runtime.NumGoroutine()
	var most atomic.Int64
	Run(context.Background(), nodes(2000), name, Options{Concurrency: 8}, func(ctx context.Context, n string, attempt int, _ time.Time) (int, string, bool) {
		g := int64(runtime.NumGoroutine() - before)
		for m := most.Load(); g > m && !most.CompareAndSwap(m, g); m = most.Load() {
		}
		return 0, "ok", false
	})
	// 8 workers, each item's deadline timer (no goroutine until it fires).
	if m := most.Load(); m > 8+4 {
		t.Errorf("%d goroutines at once for 2000 nodes, 8 at a time", m)
	}
}
