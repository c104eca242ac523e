package output

// The audit record of a run (docs/audit.md): another rendering of what the
// run's reports say, one record per run, never a secret or a hash.

import (
	"fmt"

	"github.com/es-service-tokens/es-service-tokens/internal/audit"
	"github.com/es-service-tokens/es-service-tokens/sync/deliver"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/sync/rotate"
)

// Audit is the audit record of a run that changes something: begun before
// the change (so that a log that cannot be opened stops the run), filled
// in as the change happens, and written once when the run ends. A nil
// Audit records nothing.
type Audit struct {
	Trail *audit.Trail
	Rec   audit.Record
}

// LocalChange records the local file before and after a change of token.
func (a *Audit) LocalChange(file, token string, before, after []byte) {
	if a != nil {
		a.Rec.LocalChange(file, token, before, after)
	}
}

// Pushed records what every node ended up with; data is what was pushed.
func (a *Audit) Pushed(file string, data []byte, rep push.Report) {
	if a == nil {
		return
	}
	nodes := make([]audit.Node, len(rep.Results))
	for i, r := range rep.Results {
		nodes[i] = audit.Node{Name: r.Node, Result: string(r.Status), SHA256: r.SHA256, Reason: Phrased(r.Reason)}
	}
	a.Rec.Pushed(file, data, nodes, rep.Outcome())
}

// RolledBack records that the run's change was taken back: after is the
// local file now.
func (a *Audit) RolledBack(after []byte) {
	if a != nil {
		a.Rec.RolledBackTo(after)
	}
}

// Removed records that a created token whose secret reached no one was
// removed again, after the push that took it off the nodes.
func (a *Audit) Removed(token string, after []byte) {
	if a != nil {
		a.Rec.RolledBackTo(after)
		a.Rec.Outcome = "not delivered; " + token + " removed again: " + a.Rec.Outcome
	}
}

// Proved records the proof by secret.
func (a *Audit) Proved(sp *prove.Report) {
	if a != nil && sp != nil {
		a.Rec.SecretProof = fmt.Sprintf("accepted by %d of %d nodes", sp.AcceptedBy(), len(sp.Nodes))
	}
}

// Delivered records a delivery.
func (a *Audit) Delivered(rep deliver.Report) {
	if a == nil {
		return
	}
	var cs []audit.Consumer
	for _, r := range rep.Results {
		cs = append(cs, audit.Consumer{Name: r.Consumer, Method: string(r.Method), Result: r.Status(), Store: string(r.Store), Reason: r.Reason})
	}
	a.Rec.Delivered(cs, rep.Summary())
}

// Pulled records the file a pull wrote.
func (a *Audit) Pulled(node, out, sha string) {
	if a != nil {
		a.Rec.Pulled(node, out, sha)
	}
}

// Rotated records one rotation: its successor, outcome and steps, never
// its secret.
func (a *Audit) Rotated(rep rotate.Report, err error) {
	if a == nil {
		return
	}
	rot := audit.Rotation{Token: rep.Old, Successor: rep.New, Outcome: string(rep.Outcome), Steps: []audit.RotationStep{}}
	for _, s := range rep.Steps {
		res := "ok"
		if s.Err != nil {
			res = OneLine(Phrase(s.Err))
		}
		rot.Steps = append(rot.Steps, audit.RotationStep{Step: string(s.Step), Seconds: s.Seconds, Result: res})
	}
	if err != nil && len(rot.Steps) == 0 {
		rot.Outcome = "failed: " + OneLine(Phrase(err))
	}
	a.Rec.Rotated(rot)
}
