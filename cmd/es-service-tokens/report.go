package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/sync/nodelock"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/sync/rollout"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// pushReport is push's JSON document (see docs/output.md).
type pushReport struct {
	Command string         `json:"command"`
	File    string         `json:"file"`
	SHA256  string         `json:"sha256"`
	Tokens  int            `json:"tokens"`
	DryRun  bool           `json:"dry_run"`
	Nodes   []push.Result  `json:"nodes"`
	Summary map[string]int `json:"summary"`
	// StillAccepted: nodes where tokens this push removes still work, and
	// Finish, the command that completes the revocation.
	StillAccepted []push.Unrevoked `json:"still_accepted,omitempty"`
	Finish        string           `json:"finish,omitempty"`
	// Gates and Elasticsearch: gated rollout and confirmation (issue 9).
	Gates         []rollout.Gate        `json:"gates,omitempty"`
	Elasticsearch *rollout.Confirmation `json:"elasticsearch,omitempty"`
}

var pushOrder = []push.Status{push.Updated, push.Unchanged, push.Fixed, push.WouldUpdate, push.WouldFix, push.Conflict, push.Failed, push.Skipped}

// runPush pushes req's file to r's nodes and reports. removed are the
// tokens a create or delete took out of the local file (nil for a plain
// push): where the push did not land, they are still accepted.
func (t *tool) runPush(c *cli.Context, r *remote, file string, req push.Request, removed []string) error {
	asJSON, err := t.jsonOutput(c)
	if err != nil {
		return err
	}
	p := &push.Pusher{Dialer: r.dialer, Fleet: r.fleet, Me: t.lockHolder(), BreakLock: c.Bool("break-lock")}
	req.DryRun, req.Force = c.Bool("dry-run"), c.Bool("force")
	var plan rollout.Plan
	if r.rollout != nil {
		plan = *r.rollout
	}
	if plan.ES != nil {
		plan.Names = t.esNames(c, r)
	}
	rep := rollout.Run(r.ctx, p, r.nodes, req, req.Local, plan)
	results, gates, es := rep.Results, rep.Gates, rep.ES
	summary, ok := summarizePush(results)
	t.audit.pushed(file, req.Data, results, pushSummaryLine(summary))
	for _, res := range results {
		for _, w := range res.Warnings {
			t.warn(c, "%s: %s", safetext.Escape(res.Node), w)
		}
	}
	var still []push.Unrevoked
	finish := ""
	if !req.DryRun {
		still = push.StillAccepted(results, removed)
		finish = finishCommand(c, file, still)
	}
	if !es.Confirmed() {
		ok = false
	}
	if asJSON {
		if err := writeJSON(t.stdout, pushReport{"push", file, digest.SHA256(req.Data), req.Local.Len(), req.DryRun, results, summary, still, finish, gates, es}); err != nil {
			return err
		}
	} else {
		t.printPush(t.stdout, file, req.Data, req.Local, results, summary, req.DryRun)
		printStillAccepted(t.stdout, still, finish)
		printES(t.stdout, gates, es)
	}
	if !ok {
		return silentExit(exitFailed)
	}
	return nil
}

// summarizePush counts the nodes by result; ok is false when a node did
// not end as the run meant (verified, or for a dry run, what it would do).
func summarizePush(results []push.Result) (summary map[string]int, ok bool) {
	summary = map[string]int{"total": len(results)}
	for _, s := range pushOrder {
		summary[string(s)] = 0
	}
	ok = true
	for _, res := range results {
		summary[string(res.Status)]++
		if !res.Status.OK() {
			ok = false
		}
	}
	return summary, ok
}

func (t *tool) printPush(w io.Writer, file string, data []byte, local *tokens.File, results []push.Result, summary map[string]int, dryRun bool) {
	verb := "push"
	if dryRun {
		verb = "dry run of push"
	}
	fmt.Fprintf(w, "%s %s (sha256:%s, %s) to %s\n", verb, file, digest.Short(digest.SHA256(data)), plural(local.Len(), "token"), plural(len(results), "node"))
	width := nameWidth(len(results), func(i int) string { return results[i].Node })
	for _, r := range results {
		attrs := "-"
		if r.Owner != "" {
			attrs = r.Owner + ":" + r.Group + " " + r.Mode
		}
		sha := "-"
		if r.SHA256 != "" {
			sha = "sha256:" + digest.Short(r.SHA256)
		}
		line := fmt.Sprintf("%-*s  %-12s  %-19s  %-26s %6.2fs", width, r.Node, r.Status, sha, attrs, r.Seconds)
		var notes []string
		if r.Reason != "" {
			notes = append(notes, r.Reason)
		}
		notes = append(notes, r.Notes...)
		if r.Changes != nil && !r.Changes.Empty() && r.Status != push.Conflict {
			notes = append(notes, push.DescribeDiff(*r.Changes, "adds", "removes"))
		}
		if len(notes) > 0 {
			// A reason may quote a node's own words (sudo's stderr, a
			// token name from its file): kept to one line.
			line += "  " + safetext.Escape(strings.Join(notes, "; "))
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	fmt.Fprintln(w, pushSummaryLine(summary))
}

// pushSummaryLine is "3 updated, 1 failed": the report's last line and
// the audit record's outcome.
func pushSummaryLine(summary map[string]int) string {
	var parts []string
	for _, s := range pushOrder {
		if n := summary[string(s)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	return strings.Join(parts, ", ")
}

// lockHolder is who this run is, as written into the lock it takes on
// each node: the node's other writers see it in "locked by ...".
func (t *tool) lockHolder() nodelock.Holder {
	host, _ := os.Hostname()
	return nodelock.Holder{User: t.login(), Host: host, PID: os.Getpid(), Started: time.Now().UTC().Truncate(time.Second)}
}

// finishCommand is the push that completes a revocation on the nodes
// where it did not happen.
func finishCommand(c *cli.Context, file string, still []push.Unrevoked) string {
	if len(still) == 0 {
		return ""
	}
	var nodes []string
	for _, u := range still {
		nodes = append(nodes, u.Node)
	}
	return fmt.Sprintf("es-service-tokens -i %s --file %s push --limit %s", shellWord(c.String("inventory")), shellWord(file), shellWord(strings.Join(nodes, ",")))
}

// shellWord quotes s for a shell when it needs it, so the printed command
// can be pasted as it is.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./,:@=+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// printStillAccepted says, after a push that removes tokens, where they
// still work: a revocation is not done until every node has it.
func printStillAccepted(w io.Writer, still []push.Unrevoked, finish string) {
	for _, u := range still {
		names := make([]string, len(u.Tokens))
		for i, n := range u.Tokens {
			names[i] = safetext.Escape(n)
		}
		why := string(u.Status)
		if u.Failure != "" && u.Failure != string(u.Status) {
			why = u.Failure
		}
		fmt.Fprintf(w, "NOT REVOKED on %s (%s): %s still accepted there\n", safetext.Escape(u.Node), why, strings.Join(names, ", "))
	}
	if finish != "" {
		fmt.Fprintf(w, "finish the revocation with: %s\n", finish)
	}
}
