package rotate

import (
	"fmt"

	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// Problem is why a rotation cannot go on from the state it found.
type Problem string

// The problems.
const (
	NoSuchToken Problem = "no-such-token"
	// IsSuccessor: the token is the successor of a rotation that has not
	// finished; renewing it would make a third token.
	IsSuccessor Problem = "is-successor"
	// NotInUse: finish was asked before the successor reached anyone.
	NotInUse Problem = "not-in-use"
	// NoRotation: no rotation of the token is under way (to finish or
	// abort).
	NoRotation Problem = "no-rotation"
	// InUse: abort was asked of a successor that may be in use.
	InUse Problem = "in-use"
	// SecretLost: delivery had started, and this run does not hold the
	// successor's secret: it can neither finish delivering it nor remove
	// a token some consumer may use.
	SecretLost Problem = "secret-lost"
	// Busy: another run on this host is rotating tokens of this file.
	Busy Problem = "busy"
	// Changed: the state changed between two steps (another run).
	Changed Problem = "changed"
	// Unrecorded: another token of the lineage is in the local file and
	// the metadata has no record of it (the metadata file was lost or
	// replaced mid-rotation): it may be the successor of an unfinished
	// rotation, and a new one would make a third token.
	Unrecorded Problem = "unrecorded"
)

// StateError says why the state found stops the run.
type StateError struct {
	Problem Problem
	Token   string
	Other   string     // the successor, or for IsSuccessor the token it replaces
	Phase   meta.Phase // the successor's phase
	Holder  string     // who made the successor: whoever may hold its secret
}

func (e *StateError) Error() string {
	switch e.Problem {
	case NoSuchToken:
		return fmt.Sprintf("no token %s in the local file", e.Token)
	case IsSuccessor:
		return fmt.Sprintf("%s is the successor in an unfinished rotation of %s (%s): finish that rotation first", e.Token, e.Other, e.Phase)
	case NotInUse:
		return fmt.Sprintf("the rotation of %s to %s is at %s: its successor has reached nobody yet, so the old token stays", e.Token, e.Other, phaseWords(e.Phase))
	case NoRotation:
		return fmt.Sprintf("no rotation of %s is under way", e.Token)
	case InUse:
		return fmt.Sprintf("the rotation of %s to %s is at %s: the successor may be in use, so it is not removed", e.Token, e.Other, phaseWords(e.Phase))
	case SecretLost:
		return fmt.Sprintf("the rotation of %s to %s was delivering it, and this run does not hold its secret (made by %s): it is neither delivered again nor removed", e.Token, e.Other, e.Holder)
	case Busy:
		return fmt.Sprintf("another run on this host is rotating tokens of this file (%s)", e.Token)
	case Unrecorded:
		return fmt.Sprintf("%s, of the same lineage as %s, is in the local file and its metadata has no record of it (was the metadata file moved away or replaced?): it may be the successor of an unfinished rotation, and rotating again would make a third token", e.Other, e.Token)
	}
	return fmt.Sprintf("the rotation of %s changed while this run worked on it: run it again", e.Token)
}

func phaseWords(p meta.Phase) string {
	if p == meta.Done {
		return "its end"
	}
	return "phase " + string(p)
}

// state is what the local file and its metadata say of a rotation.
type state struct {
	file    *tokens.File
	set     *meta.Set
	old     meta.Record // the token to renew (Token set even without a record)
	oldIn   bool        // old is in the file
	succ    meta.Record // the successor of an unfinished rotation
	hasSucc bool
	succIn  bool // the successor is in the file
}

// readState reads the rotation of token from file. The metadata must be
// readable: a rotation's state lives there.
func readState(file, token string) (state, error) {
	snap, err := store.Load(file)
	if err != nil {
		return state{}, err
	}
	m, err := store.LoadMeta(file)
	if err != nil {
		return state{}, err
	}
	return stateOf(snap.File, m.Set, token), nil
}

func stateOf(f *tokens.File, set *meta.Set, token string) state {
	s := state{file: f, set: set}
	s.old, _ = set.Get(token)
	s.old.Token = token
	_, s.oldIn = f.Hash(token)
	s.succ, s.hasSucc = set.SuccessorOf(token)
	if s.hasSucc {
		_, s.succIn = f.Hash(s.succ.Token)
	}
	return s
}

// unfinishedPredecessor reports the token that s.old replaces in a
// rotation that has not finished, if any.
func (s state) unfinishedPredecessor() (string, bool) {
	if s.old.RotatedFrom == "" || s.old.Phase == meta.Done {
		return "", false
	}
	return s.old.RotatedFrom, true
}

// unrecordedSibling is a token of old's lineage in the file that the
// metadata has no record of: with the metadata file lost mid-rotation, a
// successor looks like that, and the rotation's state is gone with it.
func (s state) unrecordedSibling() (string, bool) {
	lineage := meta.Lineage(s.old.Token)
	for _, k := range s.file.Keys() {
		if k == s.old.Token || meta.Lineage(k) != lineage {
			continue
		}
		if _, ok := s.set.Get(k); !ok {
			return k, true
		}
	}
	return "", false
}
