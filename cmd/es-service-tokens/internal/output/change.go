package output

// What create -i and delete -i print besides the push report: the change
// taken back because every node refused it, the command that completes it
// on the nodes that conflicted, and where a created token's secret is when
// it reached no consumer.

import (
	"errors"
	"fmt"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/sync/change"
	"github.com/es-service-tokens/es-service-tokens/sync/deliver"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// ChangeEnd is what the push report of a change ends with: the change
// taken back, the command that finishes a revocation, or the one that
// completes the change on the nodes that conflicted, and the proof.
// localEmpty and emptyBefore say whether the local file is empty after
// the change and was before it (a push of an empty file needs --force).
func ChangeEnd(cmds Commands, rep *change.Report, localEmpty, emptyBefore bool) PushEnd {
	end := PlainEnd(cmds, rep.Push, localEmpty)
	end.Proof = rep.Proof
	switch {
	case rep.Undone != nil:
		end.Undone = undone(cmds, rep.Undone, emptyBefore)
	case end.Finish == "" && len(rep.Conflicted) > 0:
		end.Complete = fmt.Sprintf("complete the change on %s (what only they have is lost there; pull keeps it): %s",
			strings.Join(rep.Conflicted, ", "), cmds.Push(rep.Conflicted, localEmpty))
	}
	return end
}

// undone says what taking the change back means for its tokens, and the
// two ways out of the conflict: keep what a node has (pull it, and make
// it the local file), or write the local file over the nodes.
func undone(cmds Commands, u *change.Undone, emptyBefore bool) *Undone {
	file := cmds.File
	switch {
	case errors.Is(u.Err, store.ErrChangedSince):
		return &Undone{Note: fmt.Sprintf("every node refused the change (above); %s was changed again since, so it was left as it is", file)}
	case u.Err != nil:
		return &Undone{Note: fmt.Sprintf("every node refused the change (above), and it could not be taken back out of %s (%v): the local file still holds it", file, u.Err)}
	}
	out := &Undone{}
	if nodes := u.Conflicted; len(nodes) > 0 {
		out.Remedies = []string{
			fmt.Sprintf("to keep what %s has, copy it and make it the local file: %s", nodes[0], cmds.PullInstead(nodes[0])),
			fmt.Sprintf("or, to write the local file over %s (what only they have is lost there): %s", strings.Join(nodes, ", "), cmds.Push(nodes, emptyBefore)),
			"then run the command again",
		}
	}
	if len(u.Added) == 0 {
		out.Note = fmt.Sprintf("NOT DELETED: every node refused the change (above), so %s is back in the local file, as it was", names(u.Removed))
		return out
	}
	out.Note = fmt.Sprintf("NOT CREATED: every node refused the change (above), so %s was taken out of the local file again: it is as it was, and the secret of %s is valid nowhere", names(u.Added), names(u.Added))
	switch {
	case u.TokenFile != "" && u.TokenFileErr != nil:
		out.Note += fmt.Sprintf("; its token file %s could not be removed (%v): delete it", safetext.Bounded(u.TokenFile), u.TokenFileErr)
	case u.TokenFile != "":
		out.Note += fmt.Sprintf("; its token file %s was removed", safetext.Bounded(u.TokenFile))
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

// CreatedDelivery is the delivery of create --deliver: the consumers'
// results, and where the secret is when it reached none.
func CreatedDelivery(cmds Commands, token, tokenFile string, rep *change.Report) Delivery {
	d := Delivery{Token: token, Report: rep.Delivery}
	why := "the secret did not reach every consumer, so none was restarted"
	if rep.Undelivered == change.NotAccepted {
		why = "not every node accepts " + token + " (above), so no consumer was given its secret"
	}
	switch {
	case rep.Undelivered == "" && rep.Delivery.OK():
	case rep.Undelivered == "":
		d.Secret = "consumers"
		d.Note = fmt.Sprintf("%s stays: every node accepts it and every consumer holds its secret, but not every consumer works again: fix what the line above says on that consumer", token)
	case rep.Kept:
		d.Secret, d.TokenFile = "token file", tokenFile
		d.Note = fmt.Sprintf("NOT DELIVERED: %s; %s stays, its secret is in %s: once the failure is fixed, deliver it with: %s", why, token, tokenFile, cmds.Deliver(tokenFile))
	default:
		d.Secret = "removed"
		d.Note = fmt.Sprintf("NOT DELIVERED: %s; no token file holds its secret, so %s is removed again from the local file and every node%s", why, token, heldBy(rep.Delivery))
	}
	return d
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
