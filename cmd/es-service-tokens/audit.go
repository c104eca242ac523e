package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/internal/audit"
	"github.com/es-service-tokens/es-service-tokens/internal/buildinfo"
	"github.com/es-service-tokens/es-service-tokens/internal/fserr"
)

// syslogSocket is where audit records go to syslog; the tests point it at
// a socket of their own.
var syslogSocket = audit.DefaultSyslogSocket

// beginAudit opens the audit trail of create, delete, push and pull, after
// their arguments and inventory are checked and before anything changes.
func (t *tool) beginAudit(c *cli.Context, command string) error {
	path, from := c.String("audit-log"), "--audit-log"
	if path == "" && t.inv != nil {
		path, from = t.inv.AuditLog, "audit_log in "+t.inv.File
	}
	trail, err := audit.Open(path, t.syslogSocket)
	var refused *audit.RefusedError
	if errors.As(err, &refused) {
		return exit.Fail(exit.IOError, "%s %s: %s (nothing was changed)", from, path, refused.What)
	}
	if err != nil {
		return exit.Fail(exit.IOError, "%s %s: %v; create its directory or fix the path (nothing was changed)", from, path, fserr.WithoutPath(err))
	}
	trail.Words = output.FlagWord
	limit := c.String("limit")
	if command == "pull" { // pull reads the node its argument names; --limit plays no part
		limit = ""
	}
	t.audit = &output.Audit{Trail: trail, Rec: audit.Begin(command, c.Args().Slice(), limit, c.Bool("force"))}
	return nil
}

// finishAudit writes the record of a run that began one. A record that
// cannot be written is a warning: the change it describes stays made.
func (t *tool) finishAudit(err error, code int) {
	a := t.audit
	if a == nil {
		return
	}
	defer a.Trail.Close()
	r := &a.Rec
	r.User = t.login()
	r.SudoUser = t.getenv("SUDO_USER")
	r.Host, _ = os.Hostname()
	r.Version = buildinfo.Get().Version
	failure := ""
	if s := exit.Silent(0); err != nil && !errors.As(err, &s) {
		failure = output.Phrase(err)
	}
	r.End(time.Now(), code, failure)
	if werr := a.Trail.Write(*r); werr != nil {
		// Even under -s: a lost audit record must be seen.
		t.notes().Warning(fmt.Sprintf("the audit record was not written: %s (the change itself was made)", output.OneLine(werr.Error())))
	}
}
