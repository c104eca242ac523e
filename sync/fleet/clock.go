package fleet

import (
	"context"
	"sync"
	"time"
)

// clock is an item's deadline, which stops while the item waits for
// another run (Pause): the timeout bounds the item's own work, and waiting
// for another run's lock is bounded by that lock's lease instead.
//
// It is a context whose Deadline moves and whose Err is DeadlineExceeded
// once its time has run out, as a context.WithTimeout's would be. Done,
// Value and the cause come from the cancelCtx it embeds, so that
// context.Cause still says which deadline ran out, and contexts made from
// it (context.AfterFunc, which closes a node's connection) see it end.
// The standard library has no deadline that can move.
type clock struct {
	context.Context // context.WithCancelCause of the run's context
	cancel          context.CancelCauseFunc
	cause           error // the timeout's message
	mu              sync.Mutex
	deadline        time.Time
	timer           *time.Timer
	expired         bool
}

type clockKey struct{}

func newClock(parent context.Context, timeout time.Duration, cause error) (*clock, func()) {
	inner, cancel := context.WithCancelCause(parent)
	c := &clock{Context: inner, cancel: cancel, cause: cause, deadline: time.Now().Add(timeout)}
	c.timer = time.AfterFunc(timeout, c.expire)
	return c, func() { c.timer.Stop(); cancel(context.Canceled) }
}

// expire ends the item when its deadline has come; a deadline moved
// later while the timer fired sets the timer again.
func (c *clock) expire() {
	c.mu.Lock()
	if left := time.Until(c.deadline); left > 0 {
		c.timer.Reset(left)
		c.mu.Unlock()
		return
	}
	if c.Context.Err() == nil {
		c.expired = true
	}
	c.mu.Unlock()
	c.cancel(c.cause)
}

func (c *clock) Deadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deadline, true
}

func (c *clock) Err() error {
	err := c.Context.Err()
	if err == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.expired {
		return context.DeadlineExceeded
	}
	return err
}

func (c *clock) Value(key any) any {
	if key == (clockKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// Pause stops the clock of the item ctx belongs to, for at most max, while
// the item waits for another run; resume starts it again with the time it
// had left. Outside Run it does nothing.
func Pause(ctx context.Context, max time.Duration) (resume func()) {
	c, ok := ctx.Value(clockKey{}).(*clock)
	if !ok {
		return func() {}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	left := time.Until(c.deadline)
	c.deadline = c.deadline.Add(max)
	c.timer.Reset(time.Until(c.deadline))
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.expired || c.Context.Err() != nil {
			return
		}
		c.deadline = time.Now().Add(left)
		c.timer.Reset(left)
	}
}
