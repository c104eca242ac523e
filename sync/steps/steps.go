// Package steps times the steps of the work on one node (connect, auth,
// read, write, read-back) for whoever asked, through the context: the
// packages that do the work only mark where a step starts and ends, and
// cmd renders the figures (-v).
package steps

import (
	"context"
	"sync"
	"time"
)

// Hook receives one finished step and how long it took. It may be called
// from several goroutines, one per node.
type Hook func(step string, d time.Duration)

type key struct{}

// With returns a context whose steps are reported to h.
func With(ctx context.Context, h Hook) context.Context {
	return context.WithValue(ctx, key{}, h)
}

// Start marks the start of step; calling the function it returns marks
// its end. Without a hook in ctx both cost nothing.
func Start(ctx context.Context, step string) func() {
	h, _ := ctx.Value(key{}).(Hook)
	if h == nil {
		return func() {}
	}
	t := time.Now()
	return func() { h(step, time.Since(t)) }
}

// Step is one finished step and how long it took.
type Step struct {
	Step    string
	Seconds float64
}

// Recorder collects the steps of many items (nodes) from their
// goroutines, for whoever renders them when the work is done. The zero
// value is ready to use.
type Recorder struct {
	mu     sync.Mutex
	byItem map[string][]Step
}

// Record adds one finished step of item; it is the shape of fleet's Steps
// hook.
func (r *Recorder) Record(item, step string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byItem == nil {
		r.byItem = map[string][]Step{}
	}
	r.byItem[item] = append(r.byItem[item], Step{step, d.Seconds()})
}

// Of returns item's steps in the order they ended; ok is false when it
// has none (the item was never reached).
func (r *Recorder) Of(item string) (steps []Step, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	steps, ok = r.byItem[item]
	return append([]Step(nil), steps...), ok
}
