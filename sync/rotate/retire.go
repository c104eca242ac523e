package rotate

import (
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// retire ends a rotation whose successor is in use: after the grace
// period (when grace is true: not again for a run that already began to
// retire), the old token leaves the local file, every node, and every
// Elasticsearch node's list; then the successor's record says done.
func (r *run) retire(succ string, grace bool) error {
	if grace && r.req.Grace > 0 {
		if err := r.step(StepGrace, func() error { return r.req.Wait(r.ctx, r.req.Grace) }); err != nil {
			return err
		}
	}
	var ch store.Change
	err := r.step(StepRetire, func() (err error) {
		ch, err = r.update(func(s state, f *tokens.File, set *meta.Set) error {
			if !s.hasSucc || s.succ.Token != succ || !inUse(s.succ.Phase) {
				return &StateError{Problem: Changed, Token: r.req.Token}
			}
			f.Delete(r.req.Token)
			set.Delete(r.req.Token)
			rec := s.succ
			rec.Phase = meta.Retiring
			set.Put(rec)
			return nil
		})
		return err
	})
	if err != nil {
		return err
	}
	if err := r.publishGone(ch, r.req.Token); err != nil {
		return err
	}
	if err := r.setPhase(succ, meta.Done, func(p meta.Phase) bool { return p == meta.Retiring }); err != nil {
		return err
	}
	r.rep.Outcome = Rotated
	return nil
}

// inUse reports whether a successor in phase p may be in use, so that
// the old token may go.
func inUse(p meta.Phase) bool {
	return p == meta.Delivered || p == meta.HandedOver || p == meta.Retiring
}

// abort removes a successor nobody received, from the local file, every
// node and every Elasticsearch node's list, and forgets its secret.
func (r *run) abort(st state) error {
	succ := st.succ.Token
	if !undelivered(st.succ.Phase) {
		return &StateError{Problem: InUse, Token: r.req.Token, Other: succ, Phase: st.succ.Phase}
	}
	var ch store.Change
	err := r.step(StepRemove, func() (err error) {
		ch, err = r.update(func(s state, f *tokens.File, set *meta.Set) error {
			if !s.hasSucc || s.succ.Token != succ || !undelivered(s.succ.Phase) {
				return &StateError{Problem: Changed, Token: r.req.Token}
			}
			f.Delete(succ)
			set.Delete(succ)
			if s.old.RotatedTo != "" {
				old := s.old
				old.RotatedTo = ""
				set.Put(old)
			}
			return nil
		})
		return err
	})
	if err != nil {
		return err
	}
	// Gone from the local file, the successor needs its secret no more,
	// even when a node cannot be reached now: the way on is a push.
	forgot := r.keep.Forget(succ)
	if err := r.publishGone(ch, succ); err != nil {
		return err
	}
	r.rep.Outcome = Aborted
	return forgot
}

// publishGone pushes a change that removed token, then waits until no
// Elasticsearch node lists it.
func (r *run) publishGone(ch store.Change, token string) error {
	if err := r.publishChange(StepPublish, ch); err != nil {
		return err
	}
	return r.step(StepConfirm, func() error { return r.steps.ConfirmGone(r.ctx, token) })
}

// update changes the local file and its metadata under the file's lock,
// fn seeing the rotation's state as it is under that lock. The metadata
// must be readable: a rotation never guesses its own state.
func (r *run) update(fn func(s state, f *tokens.File, set *meta.Set) error) (store.Change, error) {
	return store.UpdateWithMeta(r.req.File, store.MetaRequired, func(f *tokens.File, set *meta.Set) error {
		return fn(stateOf(f, set, r.req.Token), f, set)
	})
}

// setPhase records that the successor reached phase, if its phase is
// still one from which that step leads (from).
func (r *run) setPhase(succ string, phase meta.Phase, from func(meta.Phase) bool) error {
	_, err := r.update(func(s state, _ *tokens.File, set *meta.Set) error {
		rec, ok := set.Get(succ)
		if !ok || rec.RotatedFrom != r.req.Token || !from(rec.Phase) {
			return &StateError{Problem: Changed, Token: r.req.Token}
		}
		rec.Phase = phase
		if phase == meta.Delivering {
			rec.Consumers = r.req.Consumers
		}
		set.Put(rec)
		return nil
	})
	return err
}
