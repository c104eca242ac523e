package rotate

import (
	"fmt"
	"slices"
	"time"

	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// newSuccessor draws the successor of the token being rotated: a name
// free in f (a second rotation within one second takes the next second)
// and a secret, kept before the token exists anywhere.
func (r *run) newSuccessor(f *tokens.File) (tokens.Token, string, error) {
	principal, name, _ := tokens.SplitQualifiedName(r.req.Token)
	acct, ok := tokens.LookupAccount(principal)
	if !ok {
		return tokens.Token{}, "", fmt.Errorf("%s is not a service account Elasticsearch knows: no token of it authenticates, so there is nothing to renew (delete it)", principal)
	}
	at := r.req.Now()
	next := meta.SuccessorName(name, at)
	for i := 1; next == name || has(f, principal+"/"+next); i++ {
		next = meta.SuccessorName(name, at.Add(time.Duration(i)*time.Second))
	}
	tok, hash, err := tokens.New(acct, next, r.req.Algorithm, r.req.Random)
	if err != nil {
		return tokens.Token{}, "", err
	}
	if err := r.keep.Keep(tok.QualifiedName(), tok.Bearer()); err != nil {
		return tokens.Token{}, "", err
	}
	return tok, hash, nil
}

func has(f *tokens.File, key string) bool {
	_, ok := f.Hash(key)
	return ok
}

// successorRecord is the record of a new successor: the old token's
// comment and consumers carry over.
func (r *run) successorRecord(tok tokens.Token, old meta.Record) meta.Record {
	return meta.Record{Token: tok.QualifiedName(), Created: r.req.Now(), CreatedBy: r.req.Creator,
		Comment: old.Comment, Consumers: slices.Clone(old.Consumers), RotatedFrom: r.req.Token, Phase: meta.Created}
}

// create starts a rotation: the successor in the local file, published
// and proven, then switched to.
func (r *run) create(st state) error {
	valid := func(s state) bool {
		_, unrecorded := s.unrecordedSibling()
		return s.oldIn && !s.hasSucc && !unrecorded
	}
	return r.introduce(StepCreate, st, valid, nil)
}

// remake replaces a successor nobody received and whose secret this run
// does not hold (or which is missing from the file) by a new one, in one
// change of the local file: never three tokens.
func (r *run) remake(st state) error {
	gone := st.succ.Token
	r.keep.Forget(gone) // useless: not the secret of the token in the file
	valid := func(s state) bool { return s.hasSucc && s.succ.Token == gone && undelivered(s.succ.Phase) }
	return r.introduce(StepRemake, st, valid, func(f *tokens.File, set *meta.Set) {
		f.Delete(gone)
		set.Delete(gone)
	})
}

// introduce adds a new successor to the local file in one change (the
// step name), if valid still holds of the state under the file's lock;
// clear, when set, is part of that change. The successor is then
// published, proven and switched to.
func (r *run) introduce(name Step, st state, valid func(state) bool, clear func(*tokens.File, *meta.Set)) error {
	tok, hash, err := r.newSuccessor(st.file)
	if err != nil {
		return err
	}
	prev := r.rep.New
	r.rep.New = tok.QualifiedName() // the step's report names it
	var ch store.Change
	err = r.step(name, func() (err error) {
		ch, err = r.update(func(s state, f *tokens.File, set *meta.Set) error {
			if !valid(s) || has(f, tok.QualifiedName()) {
				return &StateError{Problem: Changed, Token: r.req.Token}
			}
			if clear != nil {
				clear(f, set)
			}
			r.add(f, set, s.old, tok, hash)
			return nil
		})
		return err
	})
	if err != nil {
		r.rep.New = prev
		r.keep.Forget(tok.QualifiedName())
		return err
	}
	if err := r.publishChange(StepPublish, ch); err != nil {
		return err
	}
	return r.proveAndSwitch(tok.QualifiedName(), tok.Bearer())
}

// add puts a new successor into f and its record, and the old token's
// pointer to it, into set.
func (r *run) add(f *tokens.File, set *meta.Set, old meta.Record, tok tokens.Token, hash string) {
	f.Set(tok.QualifiedName(), hash)
	set.Put(r.successorRecord(tok, old))
	old.RotatedTo = tok.QualifiedName()
	set.Put(old)
}

// undelivered reports whether a successor in phase p has reached nobody.
func undelivered(p meta.Phase) bool { return p == meta.Created || p == meta.Proven }

// proveAndSwitch proves the successor on every node, then delivers it to
// the consumers, or hands it to the user when there are none.
func (r *run) proveAndSwitch(succ, bearer string) error {
	if err := r.step(StepProve, func() error { return r.steps.Prove(r.ctx, succ, bearer) }); err != nil {
		return err
	}
	if err := r.setPhase(succ, meta.Proven, undelivered); err != nil {
		return err
	}
	if len(r.req.Consumers) == 0 {
		return r.handOver(succ, bearer)
	}
	return r.deliver(succ, bearer)
}

// deliver gives the successor to the consumers, then retires the old
// token. The secret is kept until every consumer is healthy with it.
func (r *run) deliver(succ, bearer string) error {
	err := r.setPhase(succ, meta.Delivering, func(p meta.Phase) bool { return p == meta.Proven || p == meta.Delivering })
	if err != nil {
		return err
	}
	if err := r.step(StepDeliver, func() error { return r.steps.Deliver(r.ctx, succ, bearer) }); err != nil {
		return err
	}
	if err := r.setPhase(succ, meta.Delivered, func(p meta.Phase) bool { return p == meta.Delivering }); err != nil {
		return err
	}
	if err := r.keep.Forget(succ); err != nil {
		return err
	}
	return r.retire(succ, true)
}

// handOver gives the successor's bearer to the user; the rotation waits
// for them to switch and finish it.
func (r *run) handOver(succ, bearer string) error {
	if err := r.step(StepHandOver, func() error { return r.steps.HandOver(r.ctx, succ, bearer) }); err != nil {
		return err
	}
	if err := r.setPhase(succ, meta.HandedOver, func(p meta.Phase) bool { return p == meta.Proven }); err != nil {
		return err
	}
	r.rep.Outcome = Pending
	return r.keep.Forget(succ)
}
