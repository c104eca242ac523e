package rotate

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

const oldToken = "elastic/kibana/kibana-1"

// testAlgorithm hashes fast: the tests hash and verify many tokens.
var testAlgorithm, _ = tokens.ParseAlgorithm("pbkdf2_stretch_1000")

// fleet plays the nodes and the consumers for the state machine. After
// every step it checks the invariant a rotation promises: every consumer
// holds a secret that every node accepts (no outage), and the local file
// never holds three tokens of the lineage.
type fleet struct {
	t         *testing.T
	file      string
	nodes     [3]*tokens.File
	consumers map[string]string // name -> bearer held
	handedTo  string            // the bearer handed to the user
	calls     int
	// killAt makes the calls-th step fail as if the run were killed.
	killAt int
	// fail makes every call of that step fail.
	fail Step
}

var errKilled = errors.New("killed")

func newFleet(t *testing.T, consumers ...string) *fleet {
	t.Helper()
	dir := t.TempDir()
	f := &fleet{t: t, file: filepath.Join(dir, "service_tokens"), consumers: map[string]string{}}
	tok, hash, err := tokens.New(mustAccount(t, "elastic/kibana"), "kibana-1", testAlgorithm, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.UpdateWithMeta(f.file, store.MetaRequired, func(file *tokens.File, set *meta.Set) error {
		file.Set(oldToken, hash)
		set.Put(meta.Record{Token: oldToken, Created: time.Now().Add(-100 * 24 * time.Hour), CreatedBy: "alice@ws1", Comment: "kibana prod"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	snap, _ := store.Load(f.file)
	for i := range f.nodes {
		f.nodes[i] = snap.File.Clone()
	}
	for _, c := range consumers {
		f.consumers[c] = tok.Bearer()
	}
	return f
}

func mustAccount(t *testing.T, p string) tokens.Account {
	a, ok := tokens.LookupAccount(p)
	if !ok {
		t.Fatalf("no account %s", p)
	}
	return a
}

func (f *fleet) enter(s Step) error {
	f.calls++
	if f.calls == f.killAt {
		return errKilled
	}
	if s == f.fail {
		return fmt.Errorf("%s failed", s)
	}
	return nil
}

func (f *fleet) Publish(_ context.Context, p Publication) error {
	if err := f.enter(StepPublish); err != nil {
		return err
	}
	for i := range f.nodes {
		f.nodes[i] = p.Local.Clone()
	}
	f.checkNoOutage("publish")
	return nil
}

func (f *fleet) Prove(_ context.Context, token, bearer string) error {
	if err := f.enter(StepProve); err != nil {
		return err
	}
	for i, n := range f.nodes {
		if name, err := tokens.Authenticate(bearer, n, "node"); err != nil || name != token {
			return fmt.Errorf("node %d refuses %s: %v", i, token, err)
		}
	}
	return nil
}

func (f *fleet) Deliver(_ context.Context, token, bearer string) error {
	if err := f.enter(StepDeliver); err != nil {
		return err
	}
	for c := range f.consumers {
		f.consumers[c] = bearer
	}
	f.checkNoOutage("deliver")
	return nil
}

func (f *fleet) HandOver(_ context.Context, token, bearer string) error {
	if err := f.enter(StepHandOver); err != nil {
		return err
	}
	f.handedTo = bearer
	return nil
}

func (f *fleet) ConfirmGone(_ context.Context, token string) error {
	if err := f.enter(StepConfirm); err != nil {
		return err
	}
	for i, n := range f.nodes {
		if _, ok := n.Hash(token); ok {
			return fmt.Errorf("node %d still lists %s", i, token)
		}
	}
	return nil
}

// checkNoOutage fails the test when a consumer's secret stops working on
// a node: what the rotation exists to prevent.
func (f *fleet) checkNoOutage(after string) {
	f.t.Helper()
	for c, bearer := range f.consumers {
		for i, n := range f.nodes {
			if _, err := tokens.Authenticate(bearer, n, "node"); err != nil {
				f.t.Fatalf("after %s: consumer %s is refused by node %d: %v (an outage)", after, c, i, err)
			}
		}
	}
	snap, err := store.Load(f.file)
	if err != nil {
		f.t.Fatal(err)
	}
	if n := snap.File.Len(); n > 2 {
		f.t.Fatalf("after %s: the local file holds %d tokens: %q", after, n, snap.File.Keys())
	}
}

// keeper is a Keeper in memory; lose drops every secret, as another host
// would not have them.
type keeper map[string]string

func (k keeper) Keep(token, bearer string) error { k[token] = bearer; return nil }
func (k keeper) Held(token string) (string, bool) {
	b, ok := k[token]
	return b, ok
}
func (k keeper) Forget(token string) error { delete(k, token); return nil }

func (f *fleet) request(mode Mode, consumers ...string) Request {
	return Request{File: f.file, Token: oldToken, Mode: mode, Consumers: consumers, Algorithm: testAlgorithm,
		Random: rand.Reader, Creator: "bob@ws2", Wait: func(context.Context, time.Duration) error { return nil }}
}

func (f *fleet) localKeys() []string {
	snap, err := store.Load(f.file)
	if err != nil {
		f.t.Fatal(err)
	}
	return snap.File.Keys()
}

// A rotation with consumers ends with the successor alone, everywhere,
// delivered, and traceable in the metadata.
func TestRotateWithConsumers(t *testing.T) {
	f := newFleet(t, "kibana-a", "kibana-b")
	rep, err := Run(context.Background(), f.request(Rotate, "kibana-a", "kibana-b"), f, keeper{})
	if err != nil || rep.Outcome != Rotated {
		t.Fatalf("Run: %v, %+v", err, rep)
	}
	f.assertRotated(rep.New)
	var steps []string
	for _, s := range rep.Steps {
		steps = append(steps, string(s.Step))
	}
	if got := strings.Join(steps, ","); got != "create,publish,prove,deliver,retire,publish,confirm" {
		t.Errorf("steps = %s", got)
	}
	m, _ := store.LoadMeta(f.file)
	rec, _ := m.Set.Get(rep.New)
	if rec.RotatedFrom != oldToken || rec.Phase != meta.Done || rec.Comment != "kibana prod" || strings.Join(rec.Consumers, ",") != "kibana-a,kibana-b" || rec.CreatedBy != "bob@ws2" {
		t.Errorf("successor record = %+v", rec)
	}
	if !strings.HasPrefix(rep.New, oldToken+"-") || meta.Lineage(rep.New) != oldToken {
		t.Errorf("successor name %s", rep.New)
	}
	// Run again: nothing left to do, and it says so.
	again, err := Run(context.Background(), f.request(Rotate, "kibana-a"), f, keeper{})
	if err != nil || again.Outcome != AlreadyDone || again.New != rep.New {
		t.Errorf("second run: %v, %+v", err, again)
	}
}

func (f *fleet) assertRotated(succ string) {
	f.t.Helper()
	if got := strings.Join(f.localKeys(), ","); got != succ {
		f.t.Fatalf("local file holds %s, want the successor %s alone", got, succ)
	}
	for i, n := range f.nodes {
		if got := strings.Join(n.Keys(), ","); got != succ {
			f.t.Fatalf("node %d holds %s, want %s alone", i, got, succ)
		}
	}
	for c, bearer := range f.consumers {
		if name, err := tokens.Authenticate(bearer, f.nodes[0], "node"); err != nil || name != succ {
			f.t.Fatalf("consumer %s holds %s (%v), want %s", c, name, err, succ)
		}
	}
}

// Killed at every step in turn, and run again until done, a rotation
// never makes a third token, never breaks a consumer, and ends with the
// successor alone everywhere. lose makes the second run lack the kept
// secret (run from another host): an undelivered successor is remade, a
// delivering one is refused.
func TestRotateKilledAtEveryStep(t *testing.T) {
	for _, lose := range []bool{false, true} {
		for kill := 1; kill <= 5; kill++ { // publish, prove, deliver, publish, confirm
			t.Run(fmt.Sprintf("kill%d/lose=%v", kill, lose), func(t *testing.T) {
				f := newFleet(t, "kibana-a")
				k := keeper{}
				f.killAt = kill
				rep, err := Run(context.Background(), f.request(Rotate, "kibana-a"), f, k)
				if !errors.Is(err, errKilled) {
					t.Fatalf("first run: %v (%+v)", err, rep)
				}
				if got := f.localKeys(); !contains(got, oldToken) && kill < 4 {
					t.Fatalf("after a kill before the successor was delivered the local file holds %q", got)
				}
				if lose {
					clear(k)
				}
				f.killAt = 0
				rep, err = Run(context.Background(), f.request(Rotate, "kibana-a"), f, k)
				var se *StateError
				if lose && errors.As(err, &se) && se.Problem == SecretLost {
					if !contains(f.localKeys(), oldToken) {
						t.Fatal("the old token went while the successor's delivery was unfinished")
					}
					return
				}
				if err != nil || rep.Outcome != Rotated {
					t.Fatalf("second run: %v, %+v", err, rep)
				}
				f.assertRotated(rep.New)
				if len(k) != 0 {
					t.Errorf("secrets still kept: %d", len(k))
				}
			})
		}
	}
}

func contains(v []string, s string) bool {
	for _, x := range v {
		if x == s {
			return true
		}
	}
	return false
}

// A consumer whose health never passes: the old token stays, the run
// fails, the secret is kept; once the consumer is fixed, the same
// command finishes the job.
func TestRotateDeliveryFails(t *testing.T) {
	f := newFleet(t, "kibana-a")
	k := keeper{}
	f.fail = StepDeliver
	rep, err := Run(context.Background(), f.request(Rotate, "kibana-a"), f, k)
	if err == nil || rep.Outcome != Failed || !strings.Contains(err.Error(), "deliver failed") {
		t.Fatalf("Run: %v, %+v", err, rep)
	}
	if !contains(f.localKeys(), oldToken) || !contains(f.nodes[0].Keys(), oldToken) {
		t.Fatal("the old token went although delivery failed")
	}
	if _, ok := k[rep.New]; !ok {
		t.Fatal("the successor's secret was not kept for the next run")
	}
	f.fail = ""
	rep2, err := Run(context.Background(), f.request(Rotate, "kibana-a"), f, k)
	if err != nil || rep2.Outcome != Rotated || rep2.New != rep.New || rep2.Found != meta.Delivering {
		t.Fatalf("second run: %v, %+v", err, rep2)
	}
	f.assertRotated(rep.New)
}

// Without consumers the rotation stops once the successor is proven: its
// bearer goes to the user, the old token stays until finish.
func TestRotateHandOverThenFinish(t *testing.T) {
	f := newFleet(t)
	k := keeper{}
	rep, err := Run(context.Background(), f.request(Rotate), f, k)
	if err != nil || rep.Outcome != Pending {
		t.Fatalf("Run: %v, %+v", err, rep)
	}
	if name, err := tokens.Authenticate(f.handedTo, f.nodes[2], "node"); err != nil || name != rep.New {
		t.Fatalf("handed over %q: %v", name, err)
	}
	if len(f.localKeys()) != 2 || len(k) != 0 {
		t.Fatalf("after hand-over: local %q, kept %d", f.localKeys(), len(k))
	}
	// The same command again: nothing to do until the user finishes.
	again, err := Run(context.Background(), f.request(Rotate), f, k)
	if err != nil || again.Outcome != Pending || len(again.Steps) != 0 {
		t.Fatalf("again: %v, %+v", err, again)
	}
	// Abort is refused: the user has the bearer and may use it.
	_, err = Run(context.Background(), f.request(Abort), f, k)
	var se *StateError
	if !errors.As(err, &se) || se.Problem != InUse {
		t.Fatalf("abort after hand-over: %v", err)
	}
	fin, err := Run(context.Background(), f.request(Finish), f, k)
	if err != nil || fin.Outcome != Rotated {
		t.Fatalf("finish: %v, %+v", err, fin)
	}
	f.assertRotated(rep.New)
}

// Finish before anyone has the successor, and abort of one nobody has.
func TestFinishTooEarlyAndAbort(t *testing.T) {
	f := newFleet(t, "kibana-a")
	k := keeper{}
	f.killAt = 2 // the prove step: the successor is published, not proven
	Run(context.Background(), f.request(Rotate, "kibana-a"), f, k)
	f.killAt = 0
	_, err := Run(context.Background(), f.request(Finish), f, k)
	var se *StateError
	if !errors.As(err, &se) || se.Problem != NotInUse {
		t.Fatalf("finish too early: %v", err)
	}
	rep, err := Run(context.Background(), f.request(Abort), f, k)
	if err != nil || rep.Outcome != Aborted {
		t.Fatalf("abort: %v, %+v", err, rep)
	}
	if got := strings.Join(f.localKeys(), ","); got != oldToken {
		t.Fatalf("after abort local = %s", got)
	}
	for i, n := range f.nodes {
		if n.Len() != 1 {
			t.Fatalf("node %d after abort: %q", i, n.Keys())
		}
	}
	m, _ := store.LoadMeta(f.file)
	if rec, _ := m.Set.Get(oldToken); rec.RotatedTo != "" || m.Set.Len() != 1 {
		t.Errorf("metadata after abort: %q, old %+v", m.Set.Tokens(), rec)
	}
	if len(k) != 0 {
		t.Error("the aborted successor's secret is still kept")
	}
	if _, err := Run(context.Background(), f.request(Abort), f, k); !errors.As(err, &se) || se.Problem != NoRotation {
		t.Errorf("abort with nothing to abort: %v", err)
	}
}

// The successor of an unfinished rotation cannot itself be rotated: that
// would make a third token.
func TestSuccessorIsNotRotated(t *testing.T) {
	f := newFleet(t)
	rep, err := Run(context.Background(), f.request(Rotate), f, keeper{})
	if err != nil {
		t.Fatal(err)
	}
	req := f.request(Rotate)
	req.Token = rep.New
	_, err = Run(context.Background(), req, f, keeper{})
	var se *StateError
	if !errors.As(err, &se) || se.Problem != IsSuccessor || se.Other != oldToken {
		t.Fatalf("rotating the successor: %v", err)
	}
	if len(f.localKeys()) != 2 {
		t.Fatal("a third token")
	}
}

// A rotation depends on its metadata: unreadable metadata stops it before
// anything changes.
func TestRotateNeedsMetadata(t *testing.T) {
	f := newFleet(t)
	if err := os.WriteFile(store.MetaPath(f.file), []byte("<<<<<<< HEAD\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), f.request(Rotate), f, keeper{})
	var me *store.MetaError
	if !errors.As(err, &me) || f.calls != 0 || len(f.localKeys()) != 1 {
		t.Fatalf("err = %v, steps %d, local %q", err, f.calls, f.localKeys())
	}
}

// Two rotations of one token at once (two admins on two hosts): however
// they interleave, never a third token; the loser is told the state
// changed.
func TestConcurrentRotations(t *testing.T) {
	for i := 0; i < 20; i++ {
		f := newFleet(t)
		errs := make(chan error, 2)
		for j := 0; j < 2; j++ {
			go func() {
				_, err := Run(context.Background(), f.request(Rotate), &quiet{}, keeper{})
				errs <- err
			}()
		}
		e1, e2 := <-errs, <-errs
		if n := len(f.localKeys()); n != 2 {
			t.Fatalf("iteration %d: %d tokens (%v, %v)", i, n, e1, e2)
		}
		if e1 != nil && e2 != nil {
			t.Fatalf("iteration %d: both failed: %v; %v", i, e1, e2)
		}
	}
}

// quiet is Steps that always succeed, without nodes: for races on the
// local file alone.
type quiet struct{}

func (quiet) Publish(context.Context, Publication) error     { return nil }
func (quiet) Prove(context.Context, string, string) error    { return nil }
func (quiet) Deliver(context.Context, string, string) error  { return nil }
func (quiet) HandOver(context.Context, string, string) error { return nil }
func (quiet) ConfirmGone(context.Context, string) error      { return nil }

// A node that lost the successor between two runs (someone pushed an
// older file) gets it again before the rotation goes on: the resumed run
// pushes before it proves, and before it delivers again.
func TestResumeRepublishes(t *testing.T) {
	for _, kill := range []int{2, 3} { // after publish (prove killed), after prove (deliver killed)
		f := newFleet(t, "kibana-a")
		k := keeper{}
		before := f.nodes[0].Clone()
		f.killAt = kill
		if _, err := Run(context.Background(), f.request(Rotate, "kibana-a"), f, k); !errors.Is(err, errKilled) {
			t.Fatalf("kill %d: %v", kill, err)
		}
		f.killAt = 0
		f.nodes[1] = before // back to the file without the successor
		rep, err := Run(context.Background(), f.request(Rotate, "kibana-a"), f, k)
		if err != nil || rep.Outcome != Rotated {
			t.Fatalf("kill %d: resumed run: %v, %+v", kill, err, rep)
		}
		f.assertRotated(rep.New)
	}
}

// A run interrupted (Ctrl-C) says so in the step it stopped: not Go's
// "context canceled", and not a failure the step did not have. The next
// run continues.
func TestInterruptedStepSaysSo(t *testing.T) {
	f := newFleet(t, "kibana-a")
	ctx, cancel := context.WithCancel(context.Background())
	req := f.request(Rotate, "kibana-a")
	req.Wait, req.Grace = nil, time.Hour // the real wait: the grace is interrupted
	req.Progress = func(rep Report) {
		if rep.Steps[len(rep.Steps)-1].Step == StepDeliver {
			cancel()
		}
	}
	rep, err := Run(ctx, req, f, keeper{})
	last := rep.Steps[len(rep.Steps)-1]
	if err == nil || last.Step != StepGrace || last.Err == nil {
		t.Fatalf("Run: %v, %+v", err, rep)
	}
	if msg := last.Err.Error(); !strings.HasPrefix(msg, "interrupted") || strings.Contains(msg, "context canceled") {
		t.Errorf("grace step's error %q", msg)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not say the run was cancelled", err)
	}
	rep, err = Run(context.Background(), f.request(Rotate, "kibana-a"), f, keeper{})
	if err != nil || rep.Outcome != Rotated {
		t.Fatalf("run again: %v, %+v", err, rep)
	}
	f.assertRotated(rep.New)
}

// The metadata file lost (moved away, as a warning about a damaged one
// allows, or an older copy checked out) mid-rotation: the successor is
// in the local file without a record. Rotating again must not make a
// third token of the lineage; it says which token the metadata does not
// account for, and changes nothing.
func TestRotateRefusesUnrecordedSibling(t *testing.T) {
	f := newFleet(t, "kibana-a")
	f.fail = StepDeliver
	first, err := Run(context.Background(), f.request(Rotate, "kibana-a"), f, keeper{})
	if err == nil || first.New == "" {
		t.Fatalf("first run: %v, %+v", err, first)
	}
	f.fail = ""
	if err := os.Remove(store.MetaPath(f.file)); err != nil {
		t.Fatal(err)
	}
	before := f.localKeys()
	for _, mode := range []Mode{Rotate, Finish, Abort} {
		rep, err := Run(context.Background(), f.request(mode, "kibana-a"), f, keeper{})
		se, ok := errors.AsType[*StateError](err)
		if !ok || se.Problem != Unrecorded || se.Other != first.New || len(rep.Steps) != 0 {
			t.Fatalf("mode %d: %v, %+v", mode, err, rep)
		}
		if got := f.localKeys(); strings.Join(got, ",") != strings.Join(before, ",") {
			t.Fatalf("mode %d: the local file changed: %q, was %q", mode, got, before)
		}
	}
}
