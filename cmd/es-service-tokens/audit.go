package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/internal/audit"
	"github.com/es-service-tokens/es-service-tokens/internal/buildinfo"
	"github.com/es-service-tokens/es-service-tokens/internal/fserr"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/sync/rotate"
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
	trail.Words = output.FlagWord
	limit := c.String("limit")
	if command == "pull" { // pull reads the node its argument names; --limit plays no part
		limit = ""
	}
	t.audit = &auditRun{trail: trail, rec: audit.Begin(command, c.Args().Slice(), limit, c.Bool("force"))}
	return nil
}

// localChange records the local file before and after a change.
func (a *auditRun) localChange(file, token string, before, after []byte) {
	if a != nil {
		a.rec.LocalChange(file, token, before, after)
	}
}

// pushed records what every node ended up with.
func (a *auditRun) pushed(file string, data []byte, rep push.Report) {
	if a == nil {
		return
	}
	nodes := make([]audit.Node, len(rep.Results))
	for i, r := range rep.Results {
		nodes[i] = audit.Node{Name: r.Node, Result: string(r.Status), SHA256: r.SHA256, Reason: output.Phrased(r.Reason)}
	}
	a.rec.Pushed(file, data, nodes, rep.Outcome())
}

// pulled records the file a pull wrote.
func (a *auditRun) pulled(node, out, sha string) {
	if a != nil {
		a.rec.Pulled(node, out, sha)
	}
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
	r.User = t.login()
	r.SudoUser = t.getenv("SUDO_USER")
	r.Host, _ = os.Hostname()
	r.Version = buildinfo.Get().Version
	failure := ""
	if s := silentExit(0); err != nil && !errors.As(err, &s) {
		failure = output.Phrase(err)
	}
	r.End(time.Now(), code, failure)
	if werr := a.trail.Write(*r); werr != nil {
		// Even under -s: a lost audit record must be seen.
		t.warning(fmt.Sprintf("the audit record was not written: %s (the change itself was made)", output.OneLine(werr.Error())))
	}
}

// rotated records one rotation: its successor, outcome and steps, never
// its secret.
func (a *auditRun) rotated(rep rotate.Report, err error) {
	if a == nil {
		return
	}
	rot := audit.Rotation{Token: rep.Old, Successor: rep.New, Outcome: string(rep.Outcome), Steps: []audit.RotationStep{}}
	for _, s := range rep.Steps {
		res := "ok"
		if s.Err != nil {
			res = output.OneLine(output.Phrase(s.Err))
		}
		rot.Steps = append(rot.Steps, audit.RotationStep{Step: string(s.Step), Seconds: s.Seconds, Result: res})
	}
	if err != nil && len(rot.Steps) == 0 {
		rot.Outcome = "failed: " + output.OneLine(output.Phrase(err))
	}
	a.rec.Rotated(rot)
}
