package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// pushReport is push's JSON document (see the README).
type pushReport struct {
	Command string         `json:"command"`
	File    string         `json:"file"`
	SHA256  string         `json:"sha256"`
	Tokens  int            `json:"tokens"`
	DryRun  bool           `json:"dry_run"`
	Nodes   []push.Result  `json:"nodes"`
	Summary map[string]int `json:"summary"`
}

var pushOrder = []push.Status{push.Updated, push.Unchanged, push.Fixed, push.WouldUpdate, push.WouldFix, push.Conflict, push.Failed}

func (t *tool) runPush(c *cli.Context, r *remote, file string, data, before []byte) error {
	asJSON, err := t.jsonOutput(c)
	if err != nil {
		return err
	}
	local, err := tokens.Parse(data)
	if err != nil {
		return fail(exitDataError, "%s: %v", file, err)
	}
	p := &push.Pusher{Dialer: r.dialer, Fleet: r.fleet}
	req := push.Request{Data: data, Before: before, DryRun: c.Bool("dry-run"), Force: c.Bool("force")}
	results := p.Push(r.ctx, r.nodes, req)

	summary := map[string]int{"total": len(results)}
	for _, s := range pushOrder {
		summary[string(s)] = 0
	}
	ok := true
	for _, res := range results {
		summary[string(res.Status)]++
		if !res.Status.Verified() && res.Status != push.WouldUpdate && res.Status != push.WouldFix {
			ok = false
		}
	}
	t.audit.pushed(file, data, results, pushSummaryLine(summary))
	if asJSON {
		if err := writeJSON(t.stdout, pushReport{"push", file, digest.SHA256(data), local.Len(), req.DryRun, results, summary}); err != nil {
			return err
		}
	} else {
		t.printPush(t.stdout, file, data, local, results, summary, req.DryRun)
	}
	if !ok {
		return silentExit(exitFailed)
	}
	return nil
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

func nameWidth(n int, name func(int) string) int {
	w := 4
	for i := 0; i < n; i++ {
		if l := len(name(i)); l > w {
			w = l
		}
	}
	return w
}

// plural is "1 token", "2 tokens".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
