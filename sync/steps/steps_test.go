package steps

import (
	"context"
	"testing"
	"time"
)

func TestStartReportsToTheHookOfItsContext(t *testing.T) {
	var got []string
	ctx := With(context.Background(), func(step string, d time.Duration) {
		if d < 0 {
			t.Errorf("%s took %v", step, d)
		}
		got = append(got, step)
	})
	done := Start(ctx, "read")
	done()
	Start(context.Background(), "write")() // no hook: nothing, no panic
	if len(got) != 1 || got[0] != "read" {
		t.Fatalf("steps %v, want [read]", got)
	}
}
