package elastic

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/estest"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// writeTokens writes a file of the qualified token names.
func writeTokens(t *testing.T, path string, qualified ...string) {
	t.Helper()
	var b strings.Builder
	for _, q := range qualified {
		b.WriteString(q + strings.TrimPrefix(line, "elastic/fleet-server/%s"))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A confirmation against the whole local file fails on a node that still
// serves a token the file no longer has, under an account the run did not
// touch, and passes once that node has reloaded.
func TestConfirmTheWholeLocalFile(t *testing.T) {
	t.Parallel() // waits on reloads and polls, not on the CPU
	f := startWith(t, estest.Options{}, nil, 50*time.Millisecond, 50*time.Millisecond)
	for _, p := range f.files {
		writeTokens(t, p, "elastic/fleet-server/a", "elastic/kibana/k")
	}
	waitLoaded(t, f, "node-2", 2)
	if err := f.c.Freeze("node-2", true); err != nil {
		t.Fatal(err)
	}
	for _, p := range f.files {
		writeTokens(t, p, "elastic/fleet-server/a") // elastic/kibana/k deleted
	}
	c := client(t, f.cfg)
	want := Want{File: []string{"elastic/fleet-server/a"}}
	out := c.Confirm(context.Background(), want, Target{Inventory: inv("node-1", "node-2")}, 800*time.Millisecond)
	if out.Confirmed || len(out.Nodes) != 2 || !out.Nodes[0].Confirmed {
		t.Fatalf("%+v", out)
	}
	if n := out.Nodes[1]; n.Node != "node-2" || strings.Join(n.StillHolds, ",") != "elastic/kibana/k" || len(n.Lacks) != 0 {
		t.Errorf("node-2: %+v", n)
	}
	f.c.Freeze("node-2", false)
	out = c.Confirm(context.Background(), want, Target{Inventory: inv("node-1", "node-2")}, 5*time.Second)
	if !out.Confirmed {
		t.Fatalf("after reload: %+v", out)
	}
}

// A node that lacks a token of the local file is named too, and every
// account is asked once; later rounds ask only about the accounts still
// wrong somewhere.
func TestConfirmAsksSettledAccountsOnce(t *testing.T) {
	t.Parallel() // waits on reloads and polls, not on the CPU
	// node-2 never reloads: it serves nothing.
	f := start(t, estest.Options{}, 50*time.Millisecond, 0)
	for _, p := range f.files {
		writeTokens(t, p, "elastic/fleet-server/a")
	}
	waitLoaded(t, f, "node-1", 1)
	c := client(t, f.cfg)
	out := c.Confirm(context.Background(), Want{File: []string{"elastic/fleet-server/a"}}, Target{Inventory: inv("node-1", "node-2")}, 1500*time.Millisecond)
	if out.Confirmed || strings.Join(out.Nodes[1].Lacks, ",") != "elastic/fleet-server/a" {
		t.Fatalf("%+v", out)
	}
	accounts := len(tokens.Accounts())
	// GET /_nodes, every account once, then fleet-server alone in each
	// later round (at least one more in 1.5s); asking every account again
	// would cost another 5 at once.
	if out.Requests <= 1+accounts || out.Requests >= 1+2*accounts {
		t.Errorf("%d requests", out.Requests)
	}
}

// When every node serves the local file already, one round confirms it.
func TestConfirmNothingChanged(t *testing.T) {
	t.Parallel()
	f := startWith(t, estest.Options{}, map[int][]string{0: {"a"}, 1: {"a"}}, 50*time.Millisecond, 50*time.Millisecond)
	c := client(t, f.cfg)
	out := c.Confirm(context.Background(), Want{File: []string{"elastic/fleet-server/a"}}, Target{Inventory: inv("node-1", "node-2")}, 5*time.Second)
	if !out.Confirmed || out.Requests != 1+len(tokens.Accounts()) {
		t.Fatalf("%d requests: %+v", out.Requests, out)
	}
}

// waitLoaded waits until node has loaded n tokens.
func waitLoaded(t *testing.T, f *fake, node string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(f.c.Loaded(node)) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%s loaded %v", node, f.c.Loaded(node))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
