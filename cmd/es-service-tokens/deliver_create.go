package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/deliver"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/esconfig"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// created is what create -i does after the local file changed: push,
// prove the secret on every node with an address, and with --deliver
// hand it to the consumers.
type created struct {
	loc       esconfig.Location
	change    store.Change
	tok       tokens.Token
	proof     *prove.Options
	consumers []*inventory.Consumer // --deliver
}

// pushCreated pushes the new file, proves the secret, and delivers it.
func (t *tool) pushCreated(c *cli.Context, r *remote, cr created) error {
	var proof func(push.Report) *prove.Report
	if cr.proof != nil {
		proof = func(rep push.Report) *prove.Report {
			sp := proveAfterPush(r.ctx, *cr.proof, cr.tok.Bearer(), rep)
			t.audit.proved(sp)
			return sp
		}
	}
	pushErr := t.pushAfterChange(c, r, cr.loc, cr.change, proof)
	if cr.consumers == nil || errors.As(pushErr, new(errUndone)) {
		return pushErr // taken back: there is no token to deliver
	}
	return t.deliverCreated(c, r, cr, pushErr)
}

// proved records the proof by secret in the audit record.
func (a *auditRun) proved(sp *prove.Report) {
	if a == nil || sp == nil {
		return
	}
	a.rec.SecretProof = fmt.Sprintf("accepted by %d of %d nodes", sp.AcceptedBy(), len(sp.Nodes))
}

// deliverCreated hands the new secret to its consumers once every node
// accepts it (pushErr is nil). A failure never loses the secret silently:
// it stays in the --token-file the user gave, or the token is removed
// again from the local file and every node.
func (t *tool) deliverCreated(c *cli.Context, r *remote, cr created, pushErr error) error {
	q := cr.tok.QualifiedName()
	if pushErr != nil {
		doc := deliveryJSON{Command: "deliver", Token: q, Consumers: []consumerJSON{}, Summary: "not delivered"}
		return t.undelivered(c, r, cr, doc, nil, "not every node accepts "+q+" (above), so no consumer was given its secret")
	}
	rep := t.runDelivery(r, cr.consumers, cr.tok.Bearer())
	doc := deliveryOf(q, rep)
	switch {
	case rep.OK():
		return t.emitDelivery(c, doc, &rep)
	case rep.Activated:
		doc.Secret = "consumers"
		doc.Note = fmt.Sprintf("%s stays: every node accepts it and every consumer holds its secret, but not every consumer works again: fix what the line above says on that consumer", q)
		if err := t.emitDelivery(c, doc, &rep); err != nil {
			return err
		}
		return silentExit(exitFailed)
	}
	return t.undelivered(c, r, cr, doc, &rep, "the secret did not reach every consumer, so none was restarted")
}

// undelivered ends a create --deliver whose secret did not reach every
// consumer: kept in the token file, or the token taken back.
func (t *tool) undelivered(c *cli.Context, r *remote, cr created, doc deliveryJSON, rep *deliver.Report, why string) error {
	q := cr.tok.QualifiedName()
	if file := c.String("token-file"); file != "" {
		doc.Secret, doc.TokenFile = "token file", file
		doc.Note = fmt.Sprintf("NOT DELIVERED: %s; %s stays, its secret is in %s: once the failure is fixed, deliver it with: %s", why, q, file, deliverCommand(c, file))
		if err := t.emitDelivery(c, doc, rep); err != nil {
			return err
		}
		return silentExit(exitFailed)
	}
	doc.Secret = "removed"
	doc.Note = fmt.Sprintf("NOT DELIVERED: %s; no token file holds its secret, so %s is removed again from the local file and every node%s", why, q, heldBy(rep))
	if err := t.emitDelivery(c, doc, rep); err != nil {
		return err
	}
	if err := t.removeCreated(c, r, cr); err != nil {
		return err
	}
	return silentExit(exitFailed)
}

// heldBy names the consumers whose store holds the secret of a token that
// is being removed: they were not restarted, and the next delivery
// replaces it.
func heldBy(rep *deliver.Report) string {
	if rep == nil {
		return ""
	}
	held, unknown := rep.Holding()
	var parts []string
	if len(held) > 0 {
		parts = append(parts, strings.Join(held, ", ")+" stored it and was not restarted: its store holds a secret that no node accepts any more, until the next delivery replaces it")
	}
	if len(unknown) > 0 {
		parts = append(parts, "whether "+strings.Join(unknown, ", ")+" stored it is unknown (see above); it was not restarted")
	}
	if len(parts) == 0 {
		return "; no consumer's store changed"
	}
	return "; " + strings.Join(parts, "; ")
}

// deliverCommand is the deliver command that hands the secret in file to
// the consumers, as it can be pasted.
func deliverCommand(c *cli.Context, file string) string {
	return fmt.Sprintf("es-service-tokens -i %s deliver < %s", shellWord(c.String("inventory")), shellWord(file))
}

// emitDelivery prints a delivery: the document in JSON, else the
// consumers' lines (when there was a delivery) and the note.
func (t *tool) emitDelivery(c *cli.Context, doc deliveryJSON, rep *deliver.Report) error {
	asJSON, err := t.jsonOutput(c)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(t.stdout, doc)
	}
	if rep != nil {
		printDelivery(t.stdout, doc.Token, *rep)
	}
	if doc.Note != "" {
		_, err = fmt.Fprintln(t.stdout, doc.Note)
	}
	return err
}

// removeCreated takes the new token back: out of the local file and its
// metadata, then pushed to every node, whose report follows.
func (t *tool) removeCreated(c *cli.Context, r *remote, cr created) error {
	q := cr.tok.QualifiedName()
	change, err := store.UpdateWithMeta(cr.loc.File, store.MetaBestEffort, func(f *tokens.File, m *meta.Set) error {
		f.Delete(q)
		m.Delete(q)
		return nil
	})
	if err != nil {
		return fail(exitIOError, "cannot remove [%s] from %s again (%v): nobody holds its secret; delete [%s] by hand", q, cr.loc.File, err, q)
	}
	if t.audit != nil {
		t.audit.rec.RolledBackTo(change.After)
	}
	local, perr := tokens.Parse(change.After)
	if perr != nil {
		return fail(exitDataError, "%s: %v", cr.loc.File, perr)
	}
	req := push.Request{Data: change.After, Local: local, Before: change.Before.Data}
	err = t.runPush(c, r, cr.loc.File, push.Options{Request: req, Removed: []string{q}}, pushHooks{})
	if t.audit != nil {
		t.audit.rec.Outcome = "not delivered; " + q + " removed again: " + t.audit.rec.Outcome
	}
	return err
}
