package output

import (
	"fmt"
	"io"

	"github.com/es-service-tokens/es-service-tokens/sync/prove"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
)

// Undone says that a change every node refused was taken back (Note), and
// how to clear the way (Remedies, each a command for the state it names).
type Undone struct {
	Note     string
	Remedies []string
}

// PushEnd is what a push report ends with besides its nodes: a change
// taken back, the command that finishes a revocation (Finish) or
// completes a change on the nodes that conflicted (Complete), and the
// proof by secret.
type PushEnd struct {
	Undone           *Undone
	Finish, Complete string
	Proof            *prove.Report
}

// Push renders a push's report (req is what was pushed): its JSON
// document, or for people each node, then the end, the gates, the
// cluster's confirmation and the proof.
func Push(w io.Writer, asJSON bool, file string, req push.Request, rep push.Report, end PushEnd) error {
	if asJSON {
		doc := pushJSON(file, req, rep, end.Finish, end.Proof)
		if end.Undone != nil {
			doc.Undone, doc.Remedies = end.Undone.Note, end.Undone.Remedies
		}
		if end.Complete != "" {
			doc.Remedies = []string{end.Complete}
		}
		return JSON(w, doc)
	}
	printPush(w, file, req, rep)
	printStillAccepted(w, rep.StillAccepted, end.Finish)
	printUndone(w, end.Undone)
	if end.Complete != "" {
		fmt.Fprintln(w, end.Complete)
	}
	printES(w, rep.Gates, rep.ES, wroteANode(rep.Results))
	printProof(w, end.Proof)
	return nil
}

// wroteANode reports whether a node was written (its file replaced, or
// its attributes fixed): the confirmation's seconds count from then.
func wroteANode(results []push.Result) bool {
	for _, r := range results {
		if r.Status == push.Updated || r.Status == push.Fixed {
			return true
		}
	}
	return false
}

// PlainEnd is what a push report ends with when nothing else is to say:
// where a token the push removes is still accepted, the push that
// finishes the revocation.
func PlainEnd(cmds Commands, rep push.Report, localEmpty bool) PushEnd {
	var end PushEnd
	if len(rep.StillAccepted) > 0 {
		end.Finish = cmds.Push(unrevokedNodes(rep.StillAccepted), localEmpty)
	}
	return end
}

// unrevokedNodes are the nodes where a revocation did not happen: the
// push that finishes it goes to them (pushCommand).
func unrevokedNodes(still []push.Unrevoked) []string {
	nodes := make([]string, len(still))
	for i, u := range still {
		nodes[i] = u.Node
	}
	return nodes
}
