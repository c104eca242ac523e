package main

import (
	"errors"
	"io/fs"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/internal/atomicfile"
	"github.com/es-service-tokens/es-service-tokens/internal/fserr"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/change"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
	"github.com/es-service-tokens/es-service-tokens/sync/rotate"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/esconfig"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

func (t *tool) create(c *cli.Context) error {
	var asJSON bool
	var alg tokens.Algorithm
	var comment string
	acct, name, loc, plan, err := t.prepareChange(c, func(_ esconfig.Location, settings *esconfig.Settings) (err error) {
		if asJSON, alg, err = t.createOptions(c, settings); err != nil {
			return err
		}
		comment, err = commentOption(c)
		return err
	})
	if err != nil {
		return err
	}
	defer plan.close()
	proof, consumers, err := t.planCreated(c, plan, acct.Principal+"/"+name)
	if err != nil {
		return err
	}
	if err := t.beginAudit(c, "create"); err != nil {
		return err
	}
	// In JSON the note is a field of the token document, not a warning:
	// it describes the token, and a script creating tokens in a loop would
	// otherwise log it every time.
	note := acct.VersionNote()
	if note != "" && !asJSON {
		t.warn(c, "%s", note)
	}
	tok, hash, err := tokens.New(acct, name, alg, t.random)
	if err != nil {
		return err
	}
	tokenFile := c.String("token-file")
	// Delivered without a token file, the secret is only in this process
	// until every consumer holds it: it is kept on disk meanwhile, so that
	// a run killed in between loses no secret.
	var keep rotate.Keeper
	if consumers != nil && tokenFile == "" {
		keep = t.keptSecrets(loc.File)
	}
	ch, err := addToken(loc.File, tok, hash, tokenFile, keep, t.newRecord(tok, comment, consumerNames(consumersOf(t.inv, tok.QualifiedName()))))
	if err != nil {
		t.noteKept(c, loc.File, tok.QualifiedName())
		return err
	}
	t.audit.LocalChange(loc.File, tok.QualifiedName(), ch.Before.Data, ch.After)
	res := output.Created{TokenFile: tokenFile, File: loc.File, Algorithm: alg.String(), Note: note, DeliverTo: consumerNames(consumers)}
	res.Token.Principal, res.Token.Name, res.Token.QualifiedName = acct.Principal, name, tok.QualifiedName()
	// With --deliver the secret is not printed: a failed print loses
	// nothing, the consumers get it.
	if printErr := output.CreatedToken(t.stdout, asJSON, c.Bool("silent"), res, tok); printErr != nil && tokenFile == "" && consumers == nil {
		return takeBack(loc.File, tok, printErr, plan != nil)
	}
	t.notes().StoreLines(ch.Warnings)
	t.printMetaChange(c, ch, "the metadata of "+tok.QualifiedName())
	if plan == nil {
		return nil
	}
	return t.publishChange(c, plan, change.Options{File: loc.File, Change: ch, Created: &tok, Proof: proof, Consumers: consumers, TokenFile: tokenFile, Kept: keep})
}

// planCreated prepares, before anything changes, what create -i does
// after the push: the proof by secret (nodes with an address) and, with
// --deliver, the consumers of token with their keys loaded.
func (t *tool) planCreated(c *cli.Context, plan *remote, token string) (*prove.Options, []*inventory.Consumer, error) {
	if plan == nil {
		return nil, nil, nil
	}
	var consumers []*inventory.Consumer
	if c.Bool("deliver") {
		var err error
		if consumers, err = t.planDelivery(plan, token); err != nil {
			return nil, nil, err
		}
	}
	proof, err := t.planProof(c, plan.inv)
	return proof, consumers, err
}

// createOptions checks create's own settings: the output format and the
// hashing algorithm (-E, else the node's elasticsearch.yml).
func (t *tool) createOptions(c *cli.Context, settings *esconfig.Settings) (asJSON bool, alg tokens.Algorithm, err error) {
	if asJSON, err = t.jsonOutput(c); err != nil {
		return
	}
	alg, _, err = settings.HashingAlgorithm(t.getenv)
	return
}

// addToken adds tok to the local file and rec to its metadata. With a
// token file, or a keeper, the secret is on disk before the token exists,
// so no failure after this point can leave a token nobody can use; the
// token file or kept secret goes again when the token cannot be added.
func addToken(file string, tok tokens.Token, hash, tokenFile string, keep rotate.Keeper, rec meta.Record) (store.Change, error) {
	if tokenFile != "" {
		if err := atomicfile.WriteNew(tokenFile, []byte(tok.Bearer()+"\n"), 0o600); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return store.Change{}, exit.Fail(exit.CantCreate, "token file [%s] already exists; give a new path (a token file is never overwritten)", tokenFile)
			}
			return store.Change{}, exit.Fail(exit.CantCreate, "cannot create token file [%s]: %v", tokenFile, fserr.WithoutPath(err))
		}
	}
	q := tok.QualifiedName()
	kept := false
	change, err := store.UpdateWithMeta(file, store.MetaBestEffort, func(f *tokens.File, m *meta.Set) error {
		if _, ok := f.Hash(q); ok {
			return exit.Fail(exit.CodeError, "Service token [%s] already exists", q)
		}
		// Kept under the file's lock, once the name is known to be free:
		// a secret kept for a token of that name is then stale, never
		// one some run still needs.
		if keep != nil {
			if err := keep.Keep(q, tok.Bearer()); err != nil {
				return exit.Fail(exit.IOError, "%v; set XDG_STATE_HOME to a directory of your own", err)
			}
			kept = true
		}
		f.Set(q, hash)
		m.Put(rec)
		return nil
	})
	if err != nil && tokenFile != "" {
		os.Remove(tokenFile)
	}
	if err != nil && kept {
		keep.Forget(q)
	}
	return change, err
}

// takeBack removes a token whose secret nobody received (the print
// failed) rather than leave one that no client can ever use. The push
// comes after the print for this reason: no node has seen the token yet.
func takeBack(file string, tok tokens.Token, printErr error, withPush bool) error {
	_, undoErr := store.Update(file, func(f *tokens.File) error { f.Delete(tok.QualifiedName()); return nil })
	if undoErr != nil {
		return exit.Fail(exit.IOError, "cannot write the token to standard output (%v) and cannot remove it from %s again: %v; delete [%s] by hand", fserr.WithoutPath(printErr), file, undoErr, tok.QualifiedName())
	}
	pushed := ""
	if withPush {
		pushed = "; nothing was pushed"
	}
	return exit.Fail(exit.IOError, "cannot write the token to standard output (%v): nobody received its secret, so [%s] was removed from %s again%s", fserr.WithoutPath(printErr), tok.QualifiedName(), file, pushed)
}
