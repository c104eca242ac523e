package main

import (
	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/sync/change"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

func (t *tool) delete(c *cli.Context) error {
	acct, name, loc, plan, err := t.prepareChange(c, nil)
	if err != nil {
		return err
	}
	defer plan.close()
	if err := t.beginAudit(c, "delete"); err != nil {
		return err
	}
	key := acct.Principal + "/" + name
	ch, err := store.Update(loc.File, func(f *tokens.File) error {
		if !f.Delete(key) {
			return exit.Fail(exit.CodeError, "Service token [%s] does not exist", key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	t.audit.LocalChange(loc.File, key, ch.Before.Data, ch.After)
	t.notes().StoreLines(ch.Warnings)
	t.printMetaChange(c, ch, "")
	kept := t.keptSecrets(loc.File)
	if plan == nil {
		// Out of the local file, the token is gone: a secret kept for it
		// (create --deliver) has no use left.
		if err := kept.Forget(key); err != nil {
			t.warn(c, "%v: remove it by hand", err)
		}
		return nil
	}
	return t.publishChange(c, plan, change.Options{File: loc.File, Change: ch, Kept: kept})
}
