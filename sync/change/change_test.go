package change

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/nodetest"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// created makes a token in a new local file and returns the options
// that publish it to two nodes and deliver it to a consumer whose file
// cannot be written (its directory does not exist).
func created(t *testing.T) (Options, *nodetest.Cluster) {
	t.Helper()
	nodes := nodetest.Start("es-1", "es-2", "kb-1")
	t.Cleanup(nodes.Close)
	file := filepath.Join(t.TempDir(), "service_tokens")
	acct, _ := tokens.LookupAccount("elastic/kibana")
	tok, hash, err := tokens.New(acct, "k1", tokens.DefaultAlgorithm, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := store.Update(file, func(f *tokens.File) error { f.Set(tok.QualifiedName(), hash); return nil })
	if err != nil {
		t.Fatal(err)
	}
	host := nodes.Nodes[2]
	host.Path = filepath.Join(filepath.Dir(host.Path), "missing", "kibana.token")
	kb := &inventory.Consumer{Name: "kb-1", Token: tok.QualifiedName(), Method: inventory.MethodFile, Host: host}
	return Options{File: file, Change: ch, Created: &tok, Consumers: []*inventory.Consumer{kb},
		Push: push.Options{Nodes: nodes.Nodes[:2], Dialer: nodes.Dialer}}, nodes
}

// A secret that reached no consumer and is kept nowhere else is of no use:
// the token leaves the local file and every node again, and each step is
// reported in order.
func TestUndeliveredTokenIsRemoved(t *testing.T) {
	opts, nodes := created(t)
	var steps []string
	opts.Progress = func(s Step, _ *Report) { steps = append(steps, string(s)) }
	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(steps, ","); got != "push,deliver,remove" {
		t.Errorf("steps %s, want push,deliver,remove", got)
	}
	if rep.OK() || rep.Undelivered != NotReached || rep.Kept || rep.Removal == nil || !rep.Removal.Push.OK() {
		t.Fatalf("report %+v: want the token removed again after a delivery that reached nobody", rep)
	}
	local, err := store.Load(opts.File)
	if err != nil || local.File.Len() != 0 {
		t.Errorf("local file keeps %v (%v)", local.File.Keys(), err)
	}
	for _, n := range nodes.Nodes[:2] {
		if data, _ := os.ReadFile(n.Path); len(data) != 0 {
			t.Errorf("%s keeps %q", n.Name, data)
		}
	}
}

// With a token file the secret is not lost: the token stays for a later
// delivery.
func TestUndeliveredTokenFileKeepsToken(t *testing.T) {
	opts, _ := created(t)
	opts.TokenFile = filepath.Join(t.TempDir(), "k1.token")
	rep, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || !rep.Kept || rep.Removal != nil || rep.Delivery == nil {
		t.Fatalf("report %+v: want the token kept", rep)
	}
	local, _ := store.Load(opts.File)
	if local.File.Len() != 1 {
		t.Errorf("local file holds %v, want the token", local.File.Keys())
	}
}

// forgetter records the kept secrets Run drops.
type forgetter struct{ forgot []string }

func (f *forgetter) Forget(token string) error { f.forgot = append(f.forgot, token); return nil }

// A kept secret is dropped only once the outcome makes it useless: kept
// through the push and proof (a run killed there still holds it), dropped
// when every consumer holds it, or when the token leaves the local file.
func TestKeptSecretForgottenAtTheEnd(t *testing.T) {
	for _, tc := range []struct {
		name      string
		delivered bool
	}{{"delivered", true}, {"removed again", false}} {
		t.Run(tc.name, func(t *testing.T) {
			opts, _ := created(t)
			if tc.delivered {
				kb := *opts.Consumers[0].Host
				kb.Path = filepath.Join(filepath.Dir(filepath.Dir(kb.Path)), "kibana.token")
				c := *opts.Consumers[0]
				c.Host = &kb
				opts.Consumers = []*inventory.Consumer{&c}
			}
			kept := &forgetter{}
			opts.Kept = kept
			opts.Progress = func(s Step, _ *Report) {
				if s == StepPush && len(kept.forgot) != 0 {
					t.Errorf("forgotten before the delivery: %v", kept.forgot)
				}
			}
			rep, err := Run(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := (rep.Delivery != nil && rep.Delivery.OK()); got != tc.delivered {
				t.Fatalf("delivered %v, want %v: %+v", got, tc.delivered, rep)
			}
			if strings.Join(kept.forgot, ",") != opts.Created.QualifiedName() {
				t.Errorf("forgot %v, want %s once", kept.forgot, opts.Created.QualifiedName())
			}
		})
	}
}
