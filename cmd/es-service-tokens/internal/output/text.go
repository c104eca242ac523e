// The text reports of push, check and nodes, for people.
package output

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/check"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/sync/rollout"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
)

func printCheck(w io.Writer, rep Checked) {
	width := nameWidth(len(rep.Results), func(i int) string { return rep.Results[i].Node })
	for _, r := range rep.Results {
		sha, attrs := "-", "-"
		if r.Seen.SHA256 != "" {
			sha = "sha256:" + digest.Short(r.Seen.SHA256)
			attrs = r.Seen.Owner + ":" + r.Seen.Group + " " + r.Seen.Mode
		}
		line := fmt.Sprintf("%-*s  %-7s  %-19s  %-26s %6.2fs", width, r.Node, r.State, sha, attrs, r.Seconds)
		if note := describeCheck(r); note != "" {
			line += "  " + safetext.Escape(note) // it may quote the node's own words
		}
		fmt.Fprintln(w, line)
	}
	s := rep.Summary
	fmt.Fprintf(w, "%s: %d in sync, %d drifted, %d failed\n", Plural(s.Total, "node"), s.InSync, s.Drifted, s.Failed)
}

// describeCheck says what differs, by token name: never a hash.
func describeCheck(r check.Result) string {
	if r.State == check.Error {
		return Phrased(r.Reason)
	}
	var parts []string
	for _, d := range r.Differences {
		switch d.What {
		case "missing":
			parts = append(parts, "file missing")
		case "content":
			diff := tokens.Diff{Added: d.MissingOnNode, Removed: d.ExtraOnNode, Changed: d.HashDiffers}
			if d.Detail != "" && diff.Empty() {
				parts = append(parts, "content: "+d.Detail)
			} else {
				parts = append(parts, "content: "+push.DescribeDiff(diff, "missing on node", "extra on node"))
			}
		case "stale temporary file":
			parts = append(parts, fmt.Sprintf("stale temporary file %s (%s)", safetext.Escape(d.Seen), d.Detail))
		default:
			parts = append(parts, fmt.Sprintf("%s %s (want %s)", d.What, d.Seen, d.Expected))
		}
	}
	return strings.Join(parts, "; ")
}

func printNodes(w io.Writer, inv *inventory.Inventory, views []NodeView) {
	fmt.Fprintf(w, "%s (%s inventory), %s", inv.File, inv.Format, Plural(len(views), "node"))
	if inv.LocalFile != "" {
		fmt.Fprintf(w, ", local file %s", inv.LocalFile)
	}
	if inv.MaxTokenAgeText != "" {
		fmt.Fprintf(w, ", max_token_age %s", inv.MaxTokenAgeText)
	}
	fmt.Fprintln(w)
	for _, v := range views {
		printNode(w, v, inv.Elasticsearch != nil)
	}
	printESSection(w, viewES(inv.Elasticsearch))
	printConsumers(w, each(inv.Consumers, viewConsumer))
	if len(inv.Groups) > 0 {
		names := make([]string, 0, len(inv.Groups))
		for g := range inv.Groups {
			names = append(names, g)
		}
		sort.Strings(names)
		fmt.Fprintln(w, "\ngroups")
		for _, g := range names {
			fmt.Fprintf(w, "  %-16s %s\n", g, strings.Join(inv.Groups[g], ", "))
		}
	}
}

// printNode is one node's settings, each with where it came from; its
// Elasticsearch name when the inventory has a cluster (withES) or sets it.
func printNode(w io.Writer, v NodeView, withES bool) {
	fmt.Fprintf(w, "\n%s\n", v.Name)
	row := func(key, value string) {
		fmt.Fprintf(w, "  %-16s %-40s %s\n", key, value, v.Origin[key])
	}
	row("host", v.Host)
	row("port", fmt.Sprint(v.Port))
	row("user", v.User)
	row("identity_file", orDash(strings.Join(v.IdentityFiles, " ")))
	if len(v.CertificateFiles) > 0 {
		row("certificate_file", strings.Join(v.CertificateFiles, " "))
	}
	row("known_hosts", strings.Join(v.KnownHosts, " "))
	row("global_known_hosts", orDash(strings.Join(v.GlobalKnownHosts, " ")))
	row("host_key_check", v.HostKeyCheck)
	row("connect_timeout", fmt.Sprintf("%gs", v.ConnectTimeout))
	if v.ServerAliveInterval > 0 {
		fmt.Fprintf(w, "  %-16s %-40s %s\n", "server_alive", fmt.Sprintf("every %gs, %d unanswered close", v.ServerAliveInterval, v.ServerAliveCountMax), v.Origin["server_alive_interval"])
	}
	row("jump", orDash(strings.Join(v.Jump, " > ")))
	if v.ProxyProgram != "" {
		row("proxy_command", v.ProxyProgram+" ... (arguments not shown)")
	}
	row("path", v.Path)
	row("owner", orDash(v.Owner))
	row("group", orDash(v.Group))
	row("mode", v.Mode)
	row("sudo", fmt.Sprint(v.Sudo))
	row("sftp_server", orDash(v.SFTPServer))
	row("backups", strconv.Itoa(v.Backups))
	if withES || v.ESNodeName != "" {
		row("es_node_name", orDash(v.ESNodeName))
	}
	if v.HTTPURL != "" {
		row("es_http_url", v.HTTPURL)
	}
	if len(v.Groups) > 0 {
		fmt.Fprintf(w, "  %-16s %s\n", "groups", strings.Join(v.Groups, ", "))
	}
}

// printESSection shows the elasticsearch section: what confirmation and check
// will use.
func printESSection(w io.Writer, e *esView) {
	if e == nil {
		return
	}
	fmt.Fprintf(w, "\nelasticsearch (%s)\n", e.Origin)
	row := func(key, value string) { fmt.Fprintf(w, "  %-16s %s\n", key, value) }
	row("url", strings.Join(e.URLs, " "))
	switch {
	case e.CA != "":
		row("ca", e.CA)
	case e.CAFingerprint != "":
		row("ca_fingerprint", e.CAFingerprint)
	default:
		row("ca", "- (the system's trusted CAs)")
	}
	switch {
	case e.APIKeyFile != "":
		row("api_key_file", e.APIKeyFile)
	case e.Username != "":
		row("username", e.Username+", password_file "+orDash(e.PasswordFile))
	default:
		row("credentials", "- (ES_API_KEY, else ES_USERNAME and ES_PASSWORD, from the environment)")
	}
	if e.ConfirmTimeout > 0 {
		row("confirm_timeout", fmt.Sprintf("%gs", e.ConfirmTimeout))
	}
	if e.NodeURL != "" {
		row("node_url", e.NodeURL)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printPush(w io.Writer, file string, req push.Request, rep push.Report) {
	verb := "push"
	if req.DryRun {
		verb = "dry run of push"
	}
	results := rep.Results
	fmt.Fprintf(w, "%s %s (sha256:%s, %s) to %s\n", verb, file, digest.Short(digest.SHA256(req.Data)), Plural(req.Local.Len(), "token"), Plural(len(results), "node"))
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
		if !r.Reason.IsZero() {
			notes = append(notes, Phrased(r.Reason))
		}
		notes = append(notes, each(r.Notes, Phrased)...)
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
	fmt.Fprintln(w, rep.Outcome())
}

// printStillAccepted says, after a push that removes tokens, where they
// still work: a revocation is not done until every node has it.
func printStillAccepted(w io.Writer, still []push.Unrevoked, finish string) {
	for _, u := range still {
		names := make([]string, len(u.Tokens))
		for i, n := range u.Tokens {
			names[i] = safetext.Bounded(n)
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

// printUndone says that a change every node refused was taken back, and
// how to clear the way.
func printUndone(w io.Writer, u *Undone) {
	if u == nil {
		return
	}
	fmt.Fprintln(w, u.Note)
	for _, r := range u.Remedies {
		fmt.Fprintln(w, "  "+r)
	}
}

// printES renders the confirmation for people.
// written says whether the run wrote a node: the seconds count from the
// last write, else from the start of the confirmation.
func printES(w io.Writer, gates []rollout.Gate, e *rollout.Confirmation, written bool) {
	for _, g := range gates {
		if g.Passed {
			fmt.Fprintf(w, "gate %d (%s): passed\n", g.Batch, strings.Join(g.Nodes, ", "))
		} else {
			fmt.Fprintf(w, "gate %d (%s): FAILED: %s; the rollout stopped, later nodes are untouched\n", g.Batch, strings.Join(g.Nodes, ", "), g.Reason)
		}
	}
	if e == nil || e.Outcome == nil {
		return
	}
	o := e.Outcome
	after := func(secs float64) string {
		if written {
			return fmt.Sprintf("%.2fs after the last write", secs)
		}
		return fmt.Sprintf("in %.2fs (no node was written)", secs)
	}
	if !o.Error.IsZero() && len(o.Nodes) == 0 {
		fmt.Fprintf(w, "elasticsearch: not confirmed: %s (the file work above is done)\n", Phrased(o.Error))
		return
	}
	what := describeWant(o.Want)
	switch {
	case o.Confirmed && o.Scope == elastic.ScopeAnsweringNode:
		fmt.Fprintf(w, "elasticsearch %s: confirmed on %s only, %s: Elasticsearch 7.13/7.14 reports the answering node's credentials alone, so the confirmation covers that node alone (%s; %d requests)\n", o.URL, o.AnsweringNode, after(o.Seconds), what, o.Requests)
	case o.Confirmed:
		fmt.Fprintf(w, "elasticsearch %s: confirmed %s: %d nodes %s (%d requests)\n", o.URL, after(o.Seconds), len(o.Nodes), what, o.Requests)
	default:
		fmt.Fprintf(w, "elasticsearch %s: NOT confirmed %s (%s; %d requests)\n", o.URL, after(o.Seconds), what, o.Requests)
		if o.Scope == elastic.ScopeAnsweringNode {
			fmt.Fprintf(w, "  Elasticsearch 7.13/7.14 reports the answering node's credentials alone: this covers %s alone\n", o.AnsweringNode)
		}
		width := nameWidth(len(o.Nodes), func(i int) string { return o.Nodes[i].Node })
		for _, n := range o.Nodes {
			if n.Confirmed {
				continue
			}
			var parts []string
			if len(n.Lacks) > 0 {
				parts = append(parts, "lacks "+strings.Join(n.Lacks, ", "))
			}
			if len(n.StillHolds) > 0 {
				parts = append(parts, "still holds "+strings.Join(n.StillHolds, ", "))
			}
			parts = append(parts, Phrased(n.Cause))
			fmt.Fprintf(w, "  %-*s  %s\n", width, n.Node, strings.Join(parts, ": "))
		}
		if !o.Error.IsZero() {
			fmt.Fprintf(w, "  %s\n", Phrased(o.Error))
		}
	}
}

// describeWant is what the nodes had to show: what the run changed, and
// exactly the local file's tokens.
func describeWant(w elastic.Want) string {
	var parts []string
	if len(w.Present) > 0 {
		parts = append(parts, "list "+strings.Join(w.Present, ", "))
	}
	if len(w.Absent) > 0 {
		parts = append(parts, "no longer list "+strings.Join(w.Absent, ", "))
	}
	if w.File != nil {
		parts = append(parts, "serve exactly the local file's "+Plural(len(w.File), "token"))
	}
	return strings.Join(parts, " and ")
}

// printCoverage renders the cluster's view; files says what check found
// of each inventory node's file, so that a node serving other tokens than
// the local file is given the cause that is true of it.
func printCoverage(w io.Writer, cov *elastic.Coverage, covErr error, files map[string]check.State) {
	if covErr != nil {
		fmt.Fprintf(w, "%s\n", Phrase(covErr))
		return
	}
	if cov == nil {
		return
	}
	if cov.Scope == elastic.ScopeAnsweringNode {
		fmt.Fprintf(w, "elasticsearch %s: Elasticsearch 7.13/7.14 reports the answering node's credentials alone: this covers %s alone\n", cov.URL, cov.AnsweringNode)
	}
	bad := 0
	width := nameWidth(len(cov.Nodes), func(i int) string { return cov.Nodes[i].Node })
	for _, n := range cov.Nodes {
		if !n.Drift() {
			continue
		}
		bad++
		var parts []string
		if !n.InInventory {
			parts = append(parts, "not in the inventory: it never gets the file")
		}
		if !n.InCluster {
			parts = append(parts, fmt.Sprintf("inventory node %s: no node of this name in the cluster (set es_node_name)", n.InventoryNode))
		}
		if len(n.Missing) > 0 {
			parts = append(parts, "not loaded: "+strings.Join(n.Missing, ", "))
		}
		if len(n.Extra) > 0 {
			parts = append(parts, "loaded but not in the local file: "+strings.Join(n.Extra, ", "))
		}
		if n.InInventory && n.InCluster && (len(n.Missing) > 0 || len(n.Extra) > 0) {
			switch files[n.InventoryNode] {
			case check.InSync:
				parts = append(parts, "its file is right; Elasticsearch there has not reloaded it: look at that node's log, or restart it")
			case check.Drift:
				parts = append(parts, "its file is not the local file (above)")
			}
		}
		fmt.Fprintf(w, "es %-*s  %s\n", width, n.Node, strings.Join(parts, "; "))
	}
	if cov.FailedNodes > 0 {
		fmt.Fprintf(w, "elasticsearch %s: %d nodes did not answer\n", cov.URL, cov.FailedNodes)
	}
	switch {
	case len(cov.Unjudged) > 0 && len(cov.Unnamed) > 0:
		fmt.Fprintf(w, "elasticsearch %s: not judged: %s (they may be %s, outside --limit, whose Elasticsearch names are unknown without connecting to them: set es_node_name to judge them)\n",
			cov.URL, strings.Join(cov.Unjudged, ", "), strings.Join(cov.Unnamed, ", "))
	case len(cov.Unjudged) > 0:
		fmt.Fprintf(w, "elasticsearch %s: not judged: %s is outside --limit, and Elasticsearch 7.13/7.14 reports no other node: nothing of the cluster was checked\n",
			cov.URL, strings.Join(cov.Unjudged, ", "))
	}
	fmt.Fprintf(w, "elasticsearch %s: %d nodes, %d differ from the local file\n", cov.URL, len(cov.Nodes), bad)
}

// printAges renders the ages for people: each token past the maximum
// with its renewal, and the tokens whose age is not known.
func printAges(w io.Writer, a *Ages) {
	if a == nil || a.Max == 0 {
		return
	}
	if a.MetaErr != nil {
		fmt.Fprintf(w, "token ages unknown, max_token_age %s not judged: %s; fix that file (or move it away: no token depends on it)\n", a.MaxText, a.MetaErr)
		return
	}
	for _, o := range a.Over {
		renew := a.Rotate[o.Token]
		if renew == "" {
			renew = "rotate, once the inventory has an elasticsearch section to prove the new token on (docs/rotation.md)"
		}
		if old := a.Replaces[o.Token]; old != "" && a.Rotate[o.Token] != "" {
			fmt.Fprintf(w, "token %s is %s old, over max_token_age %s: it replaces %s in a rotation not yet finished: continue that rotation with: %s\n",
				o.Token, meta.FormatAge(o.Age), a.MaxText, old, renew)
			continue
		}
		fmt.Fprintf(w, "token %s is %s old, over max_token_age %s: renew it with: %s\n", o.Token, meta.FormatAge(o.Age), a.MaxText, renew)
	}
	if len(a.Unknown) > 0 {
		fmt.Fprintf(w, "age unknown (not created by es-service-tokens), not judged against max_token_age %s: %s\n", a.MaxText, strings.Join(a.Unknown, ", "))
	}
}
