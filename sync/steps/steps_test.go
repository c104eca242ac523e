package steps

import (
	"context"
	"fmt"
	"sync"
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

// Nodes report from their own goroutines: every step is kept, each
// node's in the order it ended.
func TestRecorderKeepsEveryStepOfEveryItem(t *testing.T) {
	var r Recorder
	var wg sync.WaitGroup
	for _, node := range []string{"es-1", "es-2", "es-3"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				r.Record(node, fmt.Sprint(i), time.Duration(i)*time.Millisecond)
			}
		}()
	}
	wg.Wait()
	for _, node := range []string{"es-1", "es-2", "es-3"} {
		got, ok := r.Of(node)
		if !ok || len(got) != 100 {
			t.Fatalf("%s: %d steps (ok %v), want 100", node, len(got), ok)
		}
		for i, s := range got {
			if s.Step != fmt.Sprint(i) || s.Seconds != float64(i)/1000 {
				t.Fatalf("%s step %d = %+v", node, i, s)
			}
		}
	}
	if _, ok := r.Of("es-4"); ok {
		t.Error("a node never reached has steps")
	}
}
