package main

// Token metadata (tokens/meta) as the commands record and show it: the
// record create writes, the notes and warnings of a change, and the
// --comment option.

import (
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// commentOption is --comment, checked before anything changes.
func commentOption(c *cli.Context) (string, error) {
	s := c.String("comment")
	if err := meta.CheckComment(s); err != nil {
		return "", exit.Fail(exit.Usage, "--comment %q: %v", safetext.Input(s), err)
	}
	return s, nil
}

// creator is who makes a token, as its record names them: the person
// behind sudo when there is one, at this host.
func (t *tool) creator() string {
	user := t.getenv("SUDO_USER")
	if user == "" {
		user = t.login()
	}
	host, _ := os.Hostname()
	return meta.Creator(user, host)
}

// newRecord is the record of a token this run creates.
func (t *tool) newRecord(tok tokens.Token, comment string, consumers []string) meta.Record {
	return meta.Record{Token: tok.QualifiedName(), Created: time.Now(), CreatedBy: t.creator(), Comment: comment, Consumers: consumers}
}

// printMetaChange says what a change did to the metadata besides the
// change itself: records dropped or merged (notes), or a metadata file
// that was left alone because it is unusable. That warning is printed
// even with -s: a record the user expects is missing.
func (t *tool) printMetaChange(c *cli.Context, ch store.Change, what string) {
	for _, n := range ch.MetaNotes {
		if !c.Bool("silent") {
			t.notes().Notice("note", n)
		}
	}
	if ch.MetaSkipped != nil {
		e := ch.MetaSkipped
		t.notes().Warning(output.MetaSkipped(e, e.Path, e.Line, e.Op == "write", what))
	}
}
