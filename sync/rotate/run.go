package rotate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// run is one Run in progress.
type run struct {
	ctx   context.Context
	req   Request
	steps Steps
	keep  Keeper
	rep   Report
}

// Run does what req asks from the state the local file and its metadata
// are in, and reports every step with its time. The error is the one
// that stopped the run: a *StateError, a step's error, or a local file
// error (the metadata must be readable: the rotation's state is there).
func Run(ctx context.Context, req Request, steps Steps, keep Keeper) (Report, error) {
	if req.Now == nil {
		req.Now = time.Now
	}
	if req.Wait == nil {
		req.Wait = sleep
	}
	r := &run{ctx: ctx, req: req, steps: steps, keep: keep, rep: Report{Old: req.Token}}
	start := req.Now()
	err := r.dispatch()
	r.rep.Seconds = req.Now().Sub(start).Seconds()
	if err != nil {
		r.rep.Outcome = Failed
	}
	return r.rep, err
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *run) dispatch() error {
	st, err := readState(r.req.File, r.req.Token)
	if err != nil {
		return err
	}
	if st.hasSucc {
		r.rep.New, r.rep.Found, r.rep.Resumed = st.succ.Token, st.succ.Phase, true
	}
	if pred, ok := st.unfinishedPredecessor(); ok {
		return &StateError{Problem: IsSuccessor, Token: r.req.Token, Other: pred, Phase: st.old.Phase}
	}
	if !st.hasSucc {
		if other, ok := st.unrecordedSibling(); ok && st.oldIn {
			return &StateError{Problem: Unrecorded, Token: r.req.Token, Other: other}
		}
		return r.noRotation(st)
	}
	switch r.req.Mode {
	case Abort:
		return r.abort(st)
	case Finish:
		return r.finish(st)
	}
	return r.resume(st)
}

// noRotation starts a rotation, or says why there is none to act on.
func (r *run) noRotation(st state) error {
	if !st.oldIn {
		if done, ok := rotatedTo(st.set, r.req.Token); ok && r.req.Mode != Abort {
			r.rep.New, r.rep.Outcome = done, AlreadyDone
			return nil
		}
		return &StateError{Problem: NoSuchToken, Token: r.req.Token}
	}
	if r.req.Mode != Rotate {
		return &StateError{Problem: NoRotation, Token: r.req.Token}
	}
	return r.create(st)
}

// rotatedTo finds the successor of a finished rotation of token: the run
// that ended it may have died before it could say so.
func rotatedTo(set *meta.Set, token string) (string, bool) {
	for _, k := range set.Tokens() {
		if rec, _ := set.Get(k); rec.RotatedFrom == token && rec.Phase == meta.Done {
			return k, true
		}
	}
	return "", false
}

// resume continues the rotation st found from its phase.
func (r *run) resume(st state) error {
	s := st.succ
	switch s.Phase {
	case meta.Created, meta.Proven:
		bearer, held := r.held(st)
		if !held || !st.succIn {
			return r.remake(st)
		}
		// The nodes may have lost the successor since (someone pushed an
		// older file): pushed again, then proven again.
		if err := r.publish(StepPublish, st.file, nil); err != nil {
			return err
		}
		return r.proveAndSwitch(s.Token, bearer)
	case meta.Delivering:
		bearer, held := r.held(st)
		if !held {
			return &StateError{Problem: SecretLost, Token: r.req.Token, Other: s.Token, Phase: s.Phase, Holder: s.CreatedBy}
		}
		return r.redeliver(st.file, s.Token, bearer)
	case meta.Delivered:
		return r.retire(s.Token, true)
	case meta.Retiring:
		return r.retire(s.Token, false)
	}
	r.rep.Outcome = Pending // handed over: the user switches, then finishes
	return nil
}

// redeliver continues a delivery that did not finish: the successor is
// pushed and proven again first, since a consumer given a secret some
// node lost meanwhile would fail there.
func (r *run) redeliver(f *tokens.File, succ, bearer string) error {
	if err := r.publish(StepPublish, f, nil); err != nil {
		return err
	}
	if err := r.step(StepProve, func() error { return r.steps.Prove(r.ctx, succ, bearer) }); err != nil {
		return err
	}
	return r.deliver(succ, bearer)
}

// held is the successor's secret, when this run has it and it is the
// secret of the successor in the local file.
func (r *run) held(st state) (string, bool) {
	bearer, ok := r.keep.Held(st.succ.Token)
	if !ok || !st.succIn {
		return "", false
	}
	if name, err := tokens.Authenticate(bearer, st.file, r.req.File); err != nil || name != st.succ.Token {
		return "", false
	}
	return bearer, true
}

// finish removes the old token of a rotation whose successor is in use.
func (r *run) finish(st state) error {
	switch st.succ.Phase {
	case meta.HandedOver, meta.Delivered:
		return r.retire(st.succ.Token, true)
	case meta.Retiring:
		return r.retire(st.succ.Token, false)
	}
	return &StateError{Problem: NotInUse, Token: r.req.Token, Other: st.succ.Token, Phase: st.succ.Phase}
}

// step runs fn as one reported step.
func (r *run) step(name Step, fn func() error) error {
	start := r.req.Now()
	err := fn()
	if err != nil && errors.Is(r.ctx.Err(), context.Canceled) {
		err = &interruptedError{err}
	}
	r.rep.Steps = append(r.rep.Steps, StepResult{Step: name, Start: start, Seconds: r.req.Now().Sub(start).Seconds(), Err: err})
	if r.req.Progress != nil {
		r.req.Progress(r.rep)
	}
	return err
}

// publish pushes the local file f. before is the file as it was before
// this run changed it, nil for a plain push.
func (r *run) publish(name Step, f *tokens.File, before []byte) error {
	data, err := f.Marshal()
	if err != nil {
		return err
	}
	return r.step(name, func() error {
		return r.steps.Publish(r.ctx, Publication{Data: data, Local: f, Before: before})
	})
}

// publishChange pushes a change this run made; a resumed run pushes
// plainly, since nodes may hold any file of the rotation so far.
func (r *run) publishChange(name Step, ch store.Change) error {
	f, err := tokens.Parse(ch.After)
	if err != nil {
		return fmt.Errorf("%s: %w", r.req.File, err)
	}
	var before []byte
	if !r.rep.Resumed {
		before = ch.Before.Data
		if before == nil {
			before = []byte{}
		}
	}
	return r.publish(name, f, before)
}

// interruptedError is a step stopped because the run was (Ctrl-C,
// SIGTERM): its report says so first, since what the step noticed (a
// cancelled wait, a proof not yet passed) is not why it stopped.
type interruptedError struct{ err error }

func (e *interruptedError) Error() string {
	if e.err.Error() == context.Canceled.Error() {
		return "interrupted"
	}
	return "interrupted: " + e.err.Error()
}

func (e *interruptedError) Unwrap() error { return e.err }
