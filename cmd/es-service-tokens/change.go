package main

// create -i and delete -i: the change pushed and seen through by
// change.Run, each step rendered as it ends; the notes and the commands
// that clear the way when every node refused the change or the secret
// reached no consumer.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/sync/change"
	"github.com/es-service-tokens/es-service-tokens/sync/deliver"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// errUndone ends a create or delete whose change every node refused; the
// report said so already.
type errUndone struct{}

func (errUndone) Error() string { return "refused on every node: the local change was taken back" }
func (errUndone) Unwrap() error { return silentExit(exitFailed) }

// publishChange pushes the change create or delete made and sees it
// through (change.Run), rendering each step as it ends.
func (t *tool) publishChange(c *cli.Context, r *remote, opts change.Options) error {
	asJSON, err := t.jsonOutput(c)
	if err != nil {
		return err
	}
	t.pushOptions(c, r, opts.File, &opts.Push)
	var renderErr error
	opts.Progress = func(step change.Step, rep *change.Report) {
		if err := t.renderChange(c, asJSON, opts, step, rep); err != nil && renderErr == nil {
			renderErr = err
		}
	}
	rep, err := change.Run(r.ctx, opts)
	switch {
	case err != nil && exitCodeOf(err) == exitFailed:
		return fail(exitCodeError, "%v", err) // the options: nothing was written
	case err != nil:
		return err
	case renderErr != nil:
		return renderErr
	case rep.Undone != nil:
		return errUndone{}
	case !rep.OK():
		return silentExit(exitFailed)
	}
	return nil
}

// renderChange renders a step of a change as it ends, and records it.
func (t *tool) renderChange(c *cli.Context, asJSON bool, opts change.Options, step change.Step, rep *change.Report) error {
	switch step {
	case change.StepPush:
		t.pushWarnings(c, rep.Push)
		if u := rep.Undone; u != nil && u.Err == nil && t.audit != nil {
			t.audit.rec.RolledBackTo(opts.Change.Before.Data)
		}
		t.audit.proved(rep.Proof)
		return t.renderPush(asJSON, opts.File, pushed(opts.Change.After, opts.Push.DryRun), rep.Push, t.changeEnd(c, opts, rep))
	case change.StepDeliver:
		if rep.Delivery != nil {
			t.audit.delivered(*rep.Delivery)
		}
		return t.emitDelivery(c, createdDelivery(c, opts, rep), rep.Delivery)
	case change.StepRemove:
		rm := rep.Removal
		t.pushWarnings(c, rm.Push)
		if t.audit != nil {
			t.audit.rec.RolledBackTo(rm.Change.After)
			t.audit.rec.Outcome = "not delivered; " + rm.Token + " removed again: " + t.audit.rec.Outcome
		}
		p := pushed(rm.Change.After, false)
		return t.renderPush(asJSON, opts.File, p, rm.Push, t.pushEnd(c, opts.File, p.Request, rm.Push))
	}
	return nil
}

// pushed is what a report says was pushed: data, a file create or delete
// wrote (and so parses).
func pushed(data []byte, dryRun bool) push.Options {
	local, _ := tokens.Parse(data)
	if local == nil {
		local = tokens.NewFile()
	}
	return push.Options{Request: push.Request{Data: data, Local: local, DryRun: dryRun}}
}

// changeEnd is what the push report of a change ends with: the change
// taken back, the command that finishes a revocation, or the one that
// completes the change on the nodes that conflicted, and the proof.
func (t *tool) changeEnd(c *cli.Context, opts change.Options, rep *change.Report) pushEnd {
	ch := opts.Change
	p := pushed(ch.After, false)
	end := t.pushEnd(c, opts.File, p.Request, rep.Push)
	end.proof = rep.Proof
	switch {
	case rep.Undone != nil:
		end.undone = undoneNote(c, opts.File, rep.Undone, ch.Before.File.Len() == 0)
	case end.finish == "" && len(rep.Conflicted) > 0:
		end.complete = fmt.Sprintf("complete the change on %s (what only they have is lost there; pull keeps it): %s",
			strings.Join(rep.Conflicted, ", "), pushCommand(c, opts.File, rep.Conflicted, p.Local.Len() == 0))
	}
	return end
}

// proved records the proof by secret in the audit record.
func (a *auditRun) proved(sp *prove.Report) {
	if a == nil || sp == nil {
		return
	}
	a.rec.SecretProof = fmt.Sprintf("accepted by %d of %d nodes", sp.AcceptedBy(), len(sp.Nodes))
}

// undone is what a create's or delete's push says when every node
// refused the change: the local change was taken back (note), and the
// commands that clear the way, each for the state it names.
type undone struct {
	note     string
	remedies []string
}

// undoneNote says what taking the change back means for its tokens.
func undoneNote(c *cli.Context, file string, u *change.Undone, emptyBefore bool) *undone {
	switch {
	case errors.Is(u.Err, store.ErrChangedSince):
		return &undone{note: fmt.Sprintf("every node refused the change (above); %s was changed again since, so it was left as it is", file)}
	case u.Err != nil:
		return &undone{note: fmt.Sprintf("every node refused the change (above), and it could not be taken back out of %s (%v): the local file still holds it", file, u.Err)}
	}
	out := &undone{remedies: conflictRemedies(c, file, u.Conflicted, emptyBefore)}
	if len(u.Added) == 0 {
		out.note = fmt.Sprintf("NOT DELETED: every node refused the change (above), so %s is back in the local file, as it was", names(u.Removed))
		return out
	}
	out.note = fmt.Sprintf("NOT CREATED: every node refused the change (above), so %s was taken out of the local file again: it is as it was, and the secret of %s is valid nowhere", names(u.Added), names(u.Added))
	switch {
	case u.TokenFile != "" && u.TokenFileErr != nil:
		out.note += fmt.Sprintf("; its token file %s could not be removed (%v): delete it", safetext.Bounded(u.TokenFile), u.TokenFileErr)
	case u.TokenFile != "":
		out.note += fmt.Sprintf("; its token file %s was removed", safetext.Bounded(u.TokenFile))
	}
	return out
}

func names(qualified []string) string {
	out := make([]string, len(qualified))
	for i, q := range qualified {
		out[i] = safetext.Bounded(q)
	}
	return strings.Join(out, ", ")
}

// pushCommand is the plain push of the local file to nodes, as it can be
// pasted. An empty local file over nodes with tokens needs --force (the
// emptying guard), and here it is what was asked.
func pushCommand(c *cli.Context, file string, nodes []string, localEmpty bool) string {
	force := ""
	if localEmpty {
		force = " --force"
	}
	return fmt.Sprintf("es-service-tokens -i %s --file %s push --limit %s%s", shellWord(c.String("inventory")), shellWord(file), shellWord(strings.Join(nodes, ",")), force)
}

// conflictRemedies are the two ways out of a conflict, for the nodes whose
// file is neither the local file before the change nor after it: keep
// what a node has (pull it, and make it the local file), or write the
// local file over them. A push of an empty local file over nodes with
// tokens needs --force (the emptying guard).
func conflictRemedies(c *cli.Context, file string, nodes []string, localEmpty bool) []string {
	if len(nodes) == 0 {
		return nil
	}
	out := pullTarget(file, nodes[0])
	return []string{
		fmt.Sprintf("to keep what %s has, copy it and make it the local file: es-service-tokens -i %s pull %s --out %s && mv %s %s",
			nodes[0], shellWord(c.String("inventory")), shellWord(nodes[0]), shellWord(out), shellWord(out), shellWord(file)),
		fmt.Sprintf("or, to write the local file over %s (what only they have is lost there): %s",
			strings.Join(nodes, ", "), pushCommand(c, file, nodes, localEmpty)),
		"then run the command again",
	}
}

// pullTarget is a file beside the local one that does not exist yet, for
// pull's --out (pull never overwrites).
func pullTarget(file, node string) string {
	base := filepath.Join(filepath.Dir(file), filepath.Base(file)+"."+node)
	p := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			return p
		}
		p = fmt.Sprintf("%s.%d", base, i)
	}
}

// createdDelivery is the delivery document of create --deliver: the
// consumers' results, and where the secret is when it reached none.
func createdDelivery(c *cli.Context, opts change.Options, rep *change.Report) deliveryJSON {
	q := opts.Created.QualifiedName()
	doc := deliveryJSON{Command: "deliver", Token: q, Consumers: []consumerJSON{}, Summary: "not delivered"}
	if rep.Delivery != nil {
		doc = deliveryOf(q, *rep.Delivery)
	}
	why := "the secret did not reach every consumer, so none was restarted"
	if rep.Undelivered == change.NotAccepted {
		why = "not every node accepts " + q + " (above), so no consumer was given its secret"
	}
	switch {
	case rep.Undelivered == "" && rep.Delivery.OK():
	case rep.Undelivered == "":
		doc.Secret = "consumers"
		doc.Note = fmt.Sprintf("%s stays: every node accepts it and every consumer holds its secret, but not every consumer works again: fix what the line above says on that consumer", q)
	case rep.Kept:
		doc.Secret, doc.TokenFile = "token file", opts.TokenFile
		doc.Note = fmt.Sprintf("NOT DELIVERED: %s; %s stays, its secret is in %s: once the failure is fixed, deliver it with: %s", why, q, opts.TokenFile, deliverCommand(c, opts.TokenFile))
	default:
		doc.Secret = "removed"
		doc.Note = fmt.Sprintf("NOT DELIVERED: %s; no token file holds its secret, so %s is removed again from the local file and every node%s", why, q, heldBy(rep.Delivery))
	}
	return doc
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
