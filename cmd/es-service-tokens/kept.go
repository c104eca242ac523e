package main

// The secret of a token that create --deliver made, kept (rotate.StateDir,
// the store rotations use) from before the token is written until every
// consumer holds it, so that a run killed in between loses no secret; and
// the later runs that find it: create, list --long, deliver, delete.

import (
	"crypto/subtle"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/sync/rotate"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// keptSecrets is where this user keeps new tokens' secrets for file.
func (t *tool) keptSecrets(file string) rotate.StateDir {
	return rotate.StateDir{Dir: t.stateDir(), File: file}
}

// keptIn is where the secret of token is kept, if a create --deliver
// of the local file as it is now did not finish delivering it.
func (t *tool) keptIn(file, token string) (string, bool) {
	snap, err := store.Load(file)
	if err != nil {
		return "", false
	}
	m, _ := store.LoadMeta(file) // unreadable: no record, as a create leaves none
	return t.keptSecrets(file).Unfinished(snap.File, m.Set, token)
}

// noteKept says where the kept secret of token is, if one is, and the
// commands that finish its delivery or drop the token.
func (t *tool) noteKept(c *cli.Context, file, token string) {
	if path, ok := t.keptIn(file, token); ok {
		t.notes().Notice("note", output.KeptSecret(t.remedies(c, file), token, path))
	}
}

// forgetDelivered drops the kept secret of token once bearer, that very
// secret, reached every consumer of the token (deliver without
// --consumer): nothing is left for it to finish.
func (t *tool) forgetDelivered(c *cli.Context, token, bearer string) {
	loc, err := t.location(c)
	if err != nil {
		return // no local file: no secret kept by it
	}
	keep := t.keptSecrets(loc.File)
	path, ok := t.keptIn(loc.File, token)
	if !ok {
		return
	}
	if held, _ := keep.Held(token); subtle.ConstantTimeCompare([]byte(held), []byte(bearer)) != 1 {
		return // another secret of that name: not what was delivered
	}
	if err := keep.Forget(token); err != nil {
		t.warn(c, "%v: remove it by hand", err)
		return
	}
	t.notes().Notice("note", "removed "+path+", the kept secret of "+token+": every consumer holds it now")
}
