package main

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/internal/audit"
	"github.com/es-service-tokens/es-service-tokens/internal/buildinfo"
	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/internal/fserr"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
)

// syslogSocket is where audit records go to syslog; the tests point it at
// a socket of their own.
var syslogSocket = audit.DefaultSyslogSocket

// auditRun is the audit record of a run that changes something: begun
// before the change (so that a log that cannot be opened stops the run),
// filled in as the change happens, and written once when the run ends.
type auditRun struct {
	trail *audit.Trail
	rec   audit.Record
}

// beginAudit opens the audit trail of create, delete, push and pull, after
// their arguments and inventory are checked and before anything changes.
func (t *tool) beginAudit(c *cli.Context, command string) error {
	path, from := c.String("audit-log"), "--audit-log"
	if path == "" && t.inv != nil {
		path, from = t.inv.AuditLog, "audit_log in "+t.inv.File
	}
	trail, err := audit.Open(path, t.syslogSocket)
	if err != nil {
		return fail(exitIOError, "%s %s: %v; create its directory or fix the path (nothing was changed)", from, path, fserr.WithoutPath(err))
	}
	rec := audit.Record{Command: command, Args: append([]string{}, c.Args().Slice()...), Nodes: []audit.Node{}}
	if command != "pull" { // pull reads the node its argument names; --limit plays no part
		rec.Limit = c.String("limit")
	}
	rec.Force = c.Bool("force")
	t.audit = &auditRun{trail: trail, rec: rec}
	return nil
}

// localChange records the local file before and after a change.
func (a *auditRun) localChange(file, token string, before, after []byte) {
	if a == nil {
		return
	}
	a.rec.File, a.rec.Token = file, token
	if before != nil { // nil: there was no file
		a.rec.SHA256Before = digest.SHA256(before)
	}
	a.rec.SHA256After = digest.SHA256(after)
	a.rec.Outcome = file + " written"
}

// pushed records what every node ended up with.
func (a *auditRun) pushed(file string, data []byte, results []push.Result, outcome string) {
	if a == nil {
		return
	}
	if a.rec.File == "" { // push: the local file as it is
		a.rec.File = file
		a.rec.SHA256Before = digest.SHA256(data)
		a.rec.SHA256After = a.rec.SHA256Before
	}
	for _, r := range results {
		a.rec.Nodes = append(a.rec.Nodes, audit.Node{Name: r.Node, Result: string(r.Status), SHA256: r.SHA256, Reason: r.Reason})
	}
	a.rec.Outcome = outcome
}

// pulled records the file a pull wrote.
func (a *auditRun) pulled(node, out, sha string) {
	if a == nil {
		return
	}
	a.rec.File, a.rec.SHA256After = out, sha
	a.rec.Nodes = append(a.rec.Nodes, audit.Node{Name: node, Result: "pulled", SHA256: sha})
	a.rec.Outcome = "copied to " + out
}

// finishAudit writes the record of a run that began one. A record that
// cannot be written is a warning: the change it describes stays made.
func (t *tool) finishAudit(err error, code int) {
	a := t.audit
	if a == nil {
		return
	}
	defer a.trail.Close()
	r := &a.rec
	r.Time = time.Now().UTC().Format(time.RFC3339)
	r.User = t.getenv("USER")
	if u, uerr := user.Current(); uerr == nil {
		r.User = u.Username
	}
	r.SudoUser = t.getenv("SUDO_USER")
	r.Host, _ = os.Hostname()
	r.Version = buildinfo.Get().Version
	r.ExitCode = code
	var silent silentExit
	switch {
	case err != nil && !errors.As(err, &silent):
		r.Outcome = "error: " + oneLine(err.Error())
	case r.Outcome == "":
		r.Outcome = fmt.Sprintf("exit %d", code)
	}
	if werr := a.trail.Write(*r); werr != nil {
		// Even under -s: a lost audit record must be seen.
		t.warning(fmt.Sprintf("the audit record was not written: %s (the change itself was made)", oneLine(werr.Error())))
	}
}
