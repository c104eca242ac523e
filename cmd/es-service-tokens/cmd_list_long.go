package main

// list --long: each token with what its metadata says.

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// listLong prints the tokens with their metadata. A metadata file that
// cannot be used is a warning: the tokens are listed all the same.
func (t *tool) listLong(c *cli.Context, asJSON bool, file string, f *tokens.File, keys []string) error {
	m, err := store.LoadMeta(file)
	_, unreadable := errors.AsType[*store.MetaError](err)
	if unreadable {
		t.notes().Warning(fmt.Sprintf("%s; token metadata cannot be shown: fix that file (or move it away: no token depends on it)", err))
	}
	for _, n := range m.Notes {
		t.notes().Notice("note", n+" (list changes nothing: the next create or delete writes it back as one)")
	}
	if orphans := m.Set.Orphans(f); len(orphans) > 0 {
		t.notes().Notice("note", fmt.Sprintf("%s: metadata of %s not in %s: dropped at the next create or delete", store.MetaPath(file), output.Plural(len(orphans), "token"), file))
	}
	keep := t.keptSecrets(file)
	for _, k := range keys {
		if path, ok := keep.Unfinished(f, m.Set, k); ok {
			t.notes().Notice("note", output.KeptSecret(t.remedies(c, file), k, path))
		}
	}
	return output.ListLong(t.stdout, asJSON, output.Listing{File: file, Tokens: f, Keys: keys}, m.Set, time.Now(), unreadable)
}
