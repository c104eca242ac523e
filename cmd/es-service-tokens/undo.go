package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/esconfig"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// Refusal changes nothing: a create or delete that every node refused is
// taken back out of the local file, which create -i and delete -i change
// first (so that the local file is never behind the nodes).

// undone is what a create's or delete's push says when every node
// refused the change: the local change was taken back (note), and the
// commands that clear the way, each for the state it names.
type undone struct {
	note     string
	remedies []string
}

// errUndone ends a create or delete whose change every node refused; the
// report said so already.
type errUndone struct{}

func (errUndone) Error() string { return "refused on every node: the local change was taken back" }
func (errUndone) Unwrap() error { return silentExit(exitFailed) }

// refusedEverywhere reports whether the change landed nowhere and every
// node that was tried refused it: a conflict, a guard, a file or login
// that may not be written. A node that could not be reached refused
// nothing: the change stays, to be pushed there later.
func refusedEverywhere(results []push.Result) bool {
	refused := 0
	for _, r := range results {
		switch {
		case r.Status == push.Skipped:
		case r.Status == push.Conflict, r.Status == push.Failed && (r.Failure == failure.Refused || r.Failure == failure.Permission):
			refused++
		default:
			return false
		}
	}
	return refused > 0
}

// undoIfRefused takes ch back out of the local file when every node
// refused it, and says what that means for its tokens; nil when the
// change stays.
func (t *tool) undoIfRefused(c *cli.Context, loc esconfig.Location, ch store.Change, rep push.Report) *undone {
	if c.Bool("dry-run") || !refusedEverywhere(rep.Results) {
		return nil
	}
	local, _ := tokens.Parse(ch.After)
	d := tokens.Compare(ch.Before.File, local)
	switch err := store.Undo(loc.File, ch); {
	case errors.Is(err, store.ErrChangedSince):
		return &undone{note: fmt.Sprintf("every node refused the change (above); %s was changed again since, so it was left as it is", loc.File)}
	case err != nil:
		return &undone{note: fmt.Sprintf("every node refused the change (above), and it could not be taken back out of %s (%v): the local file still holds it", loc.File, err)}
	}
	if t.audit != nil {
		t.audit.rec.RolledBackTo(ch.Before.Data)
	}
	u := &undone{remedies: conflictRemedies(c, loc.File, rep.Results, ch.Before.File.Len() == 0)}
	switch {
	case len(d.Added) > 0:
		u.note = fmt.Sprintf("NOT CREATED: every node refused the change (above), so %s was taken out of the local file again: it is as it was, and the secret of %s is valid nowhere", names(d.Added), names(d.Added))
		if file := c.String("token-file"); file != "" {
			u.note += removeTokenFile(file)
		}
	default:
		u.note = fmt.Sprintf("NOT DELETED: every node refused the change (above), so %s is back in the local file, as it was", names(d.Removed))
	}
	return u
}

// removeTokenFile removes the token file of a token that no longer
// exists, and says so.
func removeTokenFile(file string) string {
	if err := os.Remove(file); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Sprintf("; its token file %s could not be removed (%v): delete it", safetext.Bounded(file), err)
	}
	return fmt.Sprintf("; its token file %s was removed", safetext.Bounded(file))
}

func names(qualified []string) string {
	out := make([]string, len(qualified))
	for i, q := range qualified {
		out[i] = safetext.Bounded(q)
	}
	return strings.Join(out, ", ")
}

// completeRemedy is, after a create or delete that some nodes took, the
// command that completes it on the nodes that conflicted (what only they
// have is lost there); empty when none did.
func completeRemedy(c *cli.Context, file string, results []push.Result, localEmpty bool) string {
	nodes := conflicting(results)
	if len(nodes) == 0 {
		return ""
	}
	return fmt.Sprintf("complete the change on %s (what only they have is lost there; pull keeps it): %s",
		strings.Join(nodes, ", "), pushCommand(c, file, nodes, localEmpty))
}

// conflicting are the nodes whose file is neither the local file before
// the change nor after it.
func conflicting(results []push.Result) []string {
	var nodes []string
	for _, r := range results {
		if r.Status == push.Conflict && r.Failure == failure.Conflict {
			nodes = append(nodes, r.Node)
		}
	}
	return nodes
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
func conflictRemedies(c *cli.Context, file string, results []push.Result, localEmpty bool) []string {
	nodes := conflicting(results)
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
