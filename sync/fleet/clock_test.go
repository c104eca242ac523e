package fleet

import (
	"context"
	"errors"
	"testing"
	"time"
)

// runOne runs task as the only item, with timeout.
func runOne(timeout time.Duration, task func(ctx context.Context) string) string {
	return Run(context.Background(), nodes(1), name, Options{Timeout: timeout}, func(ctx context.Context, _ string, _ int, _ time.Time) (string, string, bool) {
		return task(ctx), "", false
	})[0]
}

// While paused, an item's deadline moves out by the pause's bound; on
// resume it is the time the item had left, counted from then: waiting for
// another run does not spend --timeout.
func TestPauseStopsTheClock(t *testing.T) {
	runOne(time.Hour, func(ctx context.Context) string {
		before, _ := ctx.Deadline()
		resume := Pause(ctx, time.Minute)
		paused, _ := ctx.Deadline()
		if d := paused.Sub(before); d != time.Minute {
			t.Errorf("paused deadline moved by %v, want 1m", d)
		}
		time.Sleep(20 * time.Millisecond) // not a wait for anything: time passing while paused
		left := time.Until(before)
		resume()
		after, _ := ctx.Deadline()
		if d := after.Sub(before); d < 20*time.Millisecond || d > time.Second {
			t.Errorf("resumed deadline is %v after the first, want the pause's length", d)
		}
		if time.Until(after) < left {
			t.Errorf("time left after resume %v, before %v", time.Until(after), left)
		}
		return ""
	})
}

// A paused item still ends, when the pause's bound is spent, with the
// timeout's error and cause; a resumed one ends when its own time is up.
func TestPausedAndResumedItemsStillTimeOut(t *testing.T) {
	for _, resumeAt := range []bool{false, true} {
		got := runOne(30*time.Millisecond, func(ctx context.Context) string {
			resume := Pause(ctx, 30*time.Millisecond)
			if resumeAt {
				resume()
			}
			<-ctx.Done()
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return "err " + ctx.Err().Error()
			}
			return context.Cause(ctx).Error()
		})
		if got != "no result within 30ms (timeout)" { // the caller phrases the option (remedy.Timeout)
			t.Errorf("resumed %v: %q", resumeAt, got)
		}
	}
}

// A cancelled run ends a paused item at once, as interrupted.
func TestPausedItemIsCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	res := Run(ctx, nodes(1), name, Options{Timeout: time.Hour}, func(ctx context.Context, _ string, _ int, _ time.Time) (string, string, bool) {
		defer Pause(ctx, time.Hour)()
		cancel()
		<-ctx.Done()
		return ctx.Err().Error(), "", false
	})
	if res[0] != context.Canceled.Error() {
		t.Errorf("got %q", res[0])
	}
}
