// Package steps times the steps of the work on one node (connect, auth,
// read, write, read-back) for whoever asked, through the context: the
// packages that do the work only mark where a step starts and ends, and
// cmd renders the figures (-v).
package steps

import (
	"context"
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
