// Package change sees a change of the local file through to the cluster.
// create and delete change the local file first (so that it is never
// behind the nodes); Run then pushes the file (push.Run) and:
//
//   - takes the change back out of the local file when every node refused
//     it (a conflict, a guard, a file or login that may not be written):
//     refusal changes nothing;
//   - for a created token, proves its secret on every node with an
//     address (prove.Run), and with consumers hands it over (deliver): a
//     secret that reached no consumer, and that no token file keeps, is
//     of no use to anyone, so the token is removed again from the local
//     file and every node.
//
// Each step is reported as it ends (Options.Progress), so that a caller
// shows the push before a delivery that may take a minute.
package change

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/deliver"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// Options are one change to see through.
type Options struct {
	// Push reaches and writes the nodes (Inventory, Nodes, Dialer, Fleet,
	// Me, BreakLock, Batches, ES, Force, Audit...); Run sets its Data,
	// Local, Before and Removed from Change.
	Push push.Options
	// File is the local tokens file, and Change what create or delete
	// made of it (store.Update).
	File   string
	Change store.Change
	// Created is the token a create added, with its secret; zero for a
	// delete.
	Created *tokens.Token
	// Proof, when set, proves the created token's secret after the push
	// (its Bearer, Since and Listed are filled in).
	Proof *prove.Options
	// Consumers are given the created token's secret once every node
	// accepts it (a create that delivers); none: no delivery.
	Consumers []*inventory.Consumer
	// TokenFile also holds the created token's secret: it goes when the
	// change is taken back, and keeps the token when the delivery fails.
	TokenFile string
	// Kept, when set, holds the secret of the created token (kept before
	// the token was written, so that a run killed before the delivery's
	// end loses no secret), or of the deleted token. Run forgets it as
	// soon as the outcome makes it of no use: every consumer holds the
	// secret, or the token is out of the local file (taken back, removed
	// again, or deleted).
	Kept Forgetter
	// Progress, when set, is called as each step ends with the report so
	// far.
	Progress func(Step, *Report)
}

// Forgetter drops a token's kept secret (rotate.StateDir); forgetting a
// secret that is not kept is no error.
type Forgetter interface {
	Forget(token string) error
}

// Step is a part of a run, as Progress reports it.
type Step string

// The steps.
const (
	StepPush    Step = "push"    // pushed; taken back, or proven
	StepDeliver Step = "deliver" // the secret delivered, or why not
	StepRemove  Step = "remove"  // the created token removed again and pushed
)

// Undelivered says why a created token's secret reached no consumer.
type Undelivered string

// The reasons.
const (
	NotAccepted Undelivered = "not accepted" // not every node accepts it: nothing was delivered
	NotReached  Undelivered = "not reached"  // the secret did not reach every consumer: none was restarted
)

// Report is what a run did.
type Report struct {
	Push push.Report
	// Undone is set when every node refused the change and Run took it
	// back out of the local file (or could not: Undone.Err).
	Undone *Undone
	// Conflicted are the nodes, of a change that stays, whose file is
	// neither the local file before the change nor after it: what only
	// they have is lost there when the change is completed on them.
	Conflicted []string
	Proof      *prove.Report
	// Delivery is the delivery, nil when none was attempted.
	Delivery *deliver.Report
	// Undelivered is why the secret reached no consumer ("": it did, or
	// there are none); Kept then says that the token stays, its secret
	// in the token file, else Removal is its removal.
	Undelivered Undelivered
	Kept        bool
	Removal     *Removal
	// KeptErr is why a kept secret that is of no use any more could not
	// be removed (Options.Kept).
	KeptErr error
}

// Undone is a change taken back because every node refused it.
type Undone struct {
	// Added and Removed are the change's tokens, now out of the local file
	// again or back in it.
	Added, Removed []string
	// Err is why the change could not be taken back: the local file still
	// holds it. errors.Is(Err, store.ErrChangedSince): it was changed
	// again since, and left as it is.
	Err error
	// Conflicted are the nodes whose file is neither the local file before
	// the change nor after it (a conflict): a way out names them.
	Conflicted []string
	// TokenFile is the created token's file, removed with the token
	// (TokenFileErr: it could not be).
	TokenFile    string
	TokenFileErr error
}

// Removal is a created token taken back: the local file without it, and
// the push of that file.
type Removal struct {
	Token  string
	Change store.Change
	Push   push.Report
}

// RemoveError is a created token whose secret nobody holds that could not
// be removed from the local file again.
type RemoveError struct {
	Token, File string
	Err         error
}

func (e *RemoveError) Error() string {
	return fmt.Sprintf("cannot remove [%s] from %s again (%v): nobody holds its secret; delete [%s] by hand", e.Token, e.File, e.Err, e.Token)
}

func (e *RemoveError) Unwrap() error { return e.Err }

// Pushed reports whether the push landed and the cluster confirmed it,
// and every node accepts a created token's secret.
func (r *Report) Pushed() bool {
	return r.Undone == nil && r.Push.OK() && (r.Proof == nil || r.Proof.Accepted)
}

// OK reports whether the change is done everywhere: pushed, proven, and
// delivered when there were consumers.
func (r *Report) OK() bool {
	return r.Pushed() && r.Undelivered == "" && (r.Delivery == nil || r.Delivery.OK())
}

// run is one Run in progress.
type run struct {
	ctx  context.Context
	opts Options
	rep  Report
}

// Run pushes the change and sees it through. Its error is about the
// options or the local file, and is returned when the run stops there;
// what happened on the nodes and consumers is in the report.
func Run(ctx context.Context, opts Options) (Report, error) {
	r := &run{ctx: ctx, opts: opts}
	if err := r.push(); err != nil {
		return r.rep, err
	}
	r.progress(StepPush)
	if r.rep.Undone != nil || len(opts.Consumers) == 0 || opts.Created == nil || opts.Push.DryRun {
		return r.rep, nil
	}
	return r.rep, r.deliver()
}

func (r *run) progress(s Step) {
	if r.opts.Progress != nil {
		r.opts.Progress(s, &r.rep)
	}
}

// push pushes the changed file, takes the change back when every node
// refused it, and proves a created token.
func (r *run) push() error {
	ch := r.opts.Change
	local, err := tokens.Parse(ch.After)
	if err != nil {
		return fmt.Errorf("%s: %w", r.opts.File, err)
	}
	p := r.opts.Push
	p.Data, p.Local, p.Before = ch.After, local, ch.Before.Data
	if p.Before == nil {
		p.Before = []byte{} // no file before: Before is empty, not nil (a plain push)
	}
	p.Removed = tokens.Compare(ch.Before.File, local).Removed
	if r.rep.Push, err = push.Run(r.ctx, p); err != nil {
		return err
	}
	if p.DryRun {
		return nil
	}
	if refusedEverywhere(r.rep.Push.Results) {
		r.rep.Undone = r.undo(local)
		// Taken back, the removed tokens are in the local file again:
		// there is no revocation to finish.
		r.rep.Push.StillAccepted = nil
		return nil
	}
	if r.opts.Created == nil {
		for _, q := range p.Removed {
			r.forget(q) // deleted, and the change stays
		}
	}
	r.rep.Conflicted = conflicting(r.rep.Push.Results)
	if r.opts.Proof != nil && r.opts.Created != nil {
		r.rep.Proof = r.prove()
	}
	return nil
}

// prove proves the created token's secret on every node: the seconds
// count from the last rename, and the push's confirmation tells which
// nodes list the token by name.
func (r *run) prove() *prove.Report {
	p := *r.opts.Proof
	for _, res := range r.rep.Push.Results {
		if res.Replaced.After(p.Since) {
			p.Since = res.Replaced
		}
	}
	if r.rep.Push.ES != nil {
		p.Listed = r.rep.Push.ES.Outcome
	}
	p.Bearer = r.opts.Created.Bearer()
	proof, _ := prove.Run(r.ctx, p) // ErrNoAddress: the caller planned a proof for nodes with addresses
	return &proof
}

// refusedEverywhere reports whether the change landed nowhere and every
// node that was tried refused it: a conflict, a guard, a file or login
// that may not be written. A node that could not be reached refused
// nothing: the change stays, to be pushed there later.
func refusedEverywhere(results []push.Result) bool {
	refused := 0
	for _, r := range results {
		switch {
		case r.Status == push.Skipped:
		case r.Status == push.Conflict, r.Status == push.Failed && (r.Failure == failure.Refused || r.Failure == failure.Permission):
			refused++
		default:
			return false
		}
	}
	return refused > 0
}

// conflicting are the nodes whose file is neither the local file before
// the change nor after it.
func conflicting(results []push.Result) []string {
	var nodes []string
	for _, r := range results {
		if r.Status == push.Conflict && r.Failure == failure.Conflict {
			nodes = append(nodes, r.Node)
		}
	}
	return nodes
}

// undo takes the change back out of the local file, with a created
// token's file.
func (r *run) undo(local *tokens.File) *Undone {
	ch := r.opts.Change
	d := tokens.Compare(ch.Before.File, local)
	u := &Undone{Added: d.Added, Removed: d.Removed}
	if u.Err = store.Undo(r.opts.File, ch); u.Err != nil {
		return u
	}
	u.Conflicted = conflicting(r.rep.Push.Results)
	for _, q := range d.Added {
		r.forget(q) // taken back: no node has it
	}
	if len(d.Added) > 0 && r.opts.TokenFile != "" {
		u.TokenFile = r.opts.TokenFile
		if err := os.Remove(u.TokenFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			u.TokenFileErr = err
		}
	}
	return u
}

// deliver hands the created token's secret to its consumers once every
// node accepts it. A secret that reached no consumer is kept in the token
// file, or the token is removed again.
func (r *run) deliver() error {
	if !r.rep.Pushed() {
		return r.undelivered(NotAccepted)
	}
	p := r.opts.Push
	d := &deliver.Deliverer{Dialer: p.Dialer, Fleet: p.Fleet}
	dr := d.Deliver(r.ctx, r.opts.Consumers, r.opts.Created.Bearer())
	r.rep.Delivery = &dr
	if dr.OK() || dr.Activated {
		// Activated and not OK: every consumer holds the secret, some do
		// not work again; the token stays for them.
		r.forget(r.opts.Created.QualifiedName())
		r.progress(StepDeliver)
		return nil
	}
	return r.undelivered(NotReached)
}

// undelivered ends a delivery that reached no consumer: the token stays
// when its token file holds the secret, else it goes again.
func (r *run) undelivered(why Undelivered) error {
	r.rep.Undelivered = why
	r.rep.Kept = r.opts.TokenFile != ""
	r.progress(StepDeliver)
	if r.rep.Kept {
		return nil
	}
	return r.remove()
}

// remove takes the created token out of the local file and its metadata,
// and pushes the file to every node.
func (r *run) remove() error {
	q := r.opts.Created.QualifiedName()
	ch, err := store.UpdateWithMeta(r.opts.File, store.MetaBestEffort, func(f *tokens.File, m *meta.Set) error {
		f.Delete(q)
		m.Delete(q)
		return nil
	})
	if err != nil {
		return &RemoveError{Token: q, File: r.opts.File, Err: err}
	}
	// Out of the local file, the token is gone for good: the push below
	// takes it off the nodes, or its report says how to finish that, and
	// its secret has no use left.
	r.forget(q)
	local, err := tokens.Parse(ch.After)
	if err != nil {
		return fmt.Errorf("%s: %w", r.opts.File, err)
	}
	p := r.opts.Push
	p.Data, p.Local, p.Before, p.Removed = ch.After, local, ch.Before.Data, []string{q}
	rm := &Removal{Token: q, Change: ch}
	if rm.Push, err = push.Run(r.ctx, p); err != nil {
		return err
	}
	r.rep.Removal = rm
	r.progress(StepRemove)
	return nil
}

// forget drops token's kept secret, which the run's outcome made of no
// use; a failure is reported, not fatal: the change itself is done.
func (r *run) forget(token string) {
	if r.opts.Kept == nil {
		return
	}
	if err := r.opts.Kept.Forget(token); err != nil && r.rep.KeptErr == nil {
		r.rep.KeptErr = err
	}
}
