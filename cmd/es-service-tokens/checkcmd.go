package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/internal/atomicfile"
	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/check"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/pull"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// checkReport is check's JSON document (see docs/output.md).
type checkReport struct {
	Command   string         `json:"command"`
	File      string         `json:"file"`
	SHA256    string         `json:"sha256"`
	CheckedAt time.Time      `json:"checked_at"`
	Seconds   float64        `json:"seconds"`
	Nodes     []check.Result `json:"nodes"`
	Summary   check.Summary  `json:"summary"`
	// Elasticsearch is the cluster's view (issue 9), when configured.
	Elasticsearch      *elastic.Coverage `json:"elasticsearch,omitempty"`
	ElasticsearchError string            `json:"elasticsearch_error,omitempty"`
}

// Nagios plugin exit codes.
const (
	nagiosOK       = 0
	nagiosWarning  = 1
	nagiosCritical = 2
	nagiosUnknown  = 3
)

func (t *tool) checkCommand() *cli.Command {
	return command("check", " ", "Compare every node's file with the local one; write nothing",
		"Exit codes (as diff): 0 all in sync, 1 drift, 2 a node could not be checked;\n"+
			"with --nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n"+
			"Example:\n   es-service-tokens -i cluster.yml check --prometheus-textfile /var/lib/node_exporter/es_tokens.prom",
		t.check, nodeFlags(false,
			&cli.BoolFlag{Name: "nagios", Usage: "print one Nagios/Icinga plugin line with perfdata"},
			&cli.StringFlag{Name: "prometheus-textfile", Usage: "also write node_exporter textfile metrics to `PATH` (atomically)"},
			&cli.StringFlag{Name: "against", Usage: "compare the local file with `OTHER_FILE` instead of nodes"})...)
}

func (t *tool) check(c *cli.Context) (err error) {
	if c.Bool("nagios") {
		// Whatever goes wrong, a monitoring system gets one plugin line and
		// UNKNOWN, not a usage text.
		defer func() { err = t.nagiosUnknown(err) }()
	}
	asJSON, err := t.checkOptions(c)
	if err != nil {
		return err
	}
	loc, snap, err := t.localFile(c, "nothing to compare with (pull one from a node first)")
	if err != nil {
		return err
	}
	start := time.Now()
	var found checked
	if other := c.String("against"); other != "" {
		r, err := check.Against(loc.File, snap, other)
		if err != nil {
			return err
		}
		found.results = []check.Result{r}
	} else {
		r, err := t.remote(c)
		if err != nil {
			return err
		}
		defer r.close()
		if found, err = t.checkNodes(c, r, snap); err != nil {
			return err
		}
	}
	sum := check.Summarize(found.results)
	report := checkReport{"check", loc.File, digest.SHA256(snap.Data), start.UTC(), time.Since(start).Seconds(), found.results, sum, found.cov, ""}
	if found.covErr != nil {
		report.ElasticsearchError = phrase(found.covErr)
	}
	return t.printCheckReport(c, asJSON, report, found)
}

// checkOptions checks check's command line: what to compare the local
// file with (-i, else Ansible's inventory, or --against) and the format.
func (t *tool) checkOptions(c *cli.Context) (asJSON bool, err error) {
	if err := noArgs(c); err != nil {
		return false, err
	}
	if asJSON, err = t.jsonOutput(c); err != nil {
		return false, err
	}
	against := c.String("against")
	if against != "" && c.String("inventory") != "" {
		return false, fail(exitUsage, "--against compares two local files; drop -i, or drop --against to check the nodes")
	}
	if against == "" {
		if err := t.ansibleInventory(c); err != nil {
			return false, err
		}
	}
	if against == "" && c.String("inventory") == "" {
		return false, fail(exitUsage, "check needs an inventory (-i FILE) or --against OTHER_FILE")
	}
	return asJSON, nil
}

// nagiosUnknown turns an error into the plugin's UNKNOWN line.
func (t *tool) nagiosUnknown(err error) error {
	var s silentExit
	if err == nil || errors.As(err, &s) {
		return err
	}
	fmt.Fprintf(t.stdout, "ES-SERVICE-TOKENS UNKNOWN - %s\n", oneLine(phrase(err)))
	return silentExit(nagiosUnknown)
}

// checked is what check found, before it is rendered.
type checked struct {
	results []check.Result
	// cov is the cluster's view, nil without elasticsearch; covErr says
	// why it could not be had.
	cov    *elastic.Coverage
	covErr error
}

// checkNodes compares every node's file, and with elasticsearch the
// cluster's view, with the local file.
func (t *tool) checkNodes(c *cli.Context, r *remote, snap store.Snapshot) (checked, error) {
	k := &check.Checker{Dialer: r.dialer, Fleet: r.fleet}
	found := checked{results: k.Check(r.ctx, r.nodes, snap.Data, snap.File)}
	if found.cov, found.covErr = t.esCoverage(c, r, snap.File); found.covErr != nil {
		var ee *exitError
		if errors.As(found.covErr, &ee) {
			return found, found.covErr // a usage or configuration error: nothing was judged
		}
	}
	return found, nil
}

// printCheckReport renders the report as asked (textfile metrics, Nagios,
// JSON or text) and ends with check's exit code.
func (t *tool) printCheckReport(c *cli.Context, asJSON bool, report checkReport, found checked) error {
	if path := c.String("prometheus-textfile"); path != "" {
		if err := atomicfile.Write(path, esPrometheus(prometheus(report), found.cov, found.covErr), atomicfile.Options{Perm: 0o644, UID: -1, GID: -1}); err != nil {
			return fail(exitIOError, "cannot write %s: %v", path, err)
		}
	}
	switch {
	case c.Bool("nagios"):
		line, code := esNagios(nagios(report.Summary, found.results), nagiosState(report.Summary), found.cov, found.covErr)
		fmt.Fprintln(t.stdout, line)
		return silentExit(code)
	case asJSON:
		if err := writeJSON(t.stdout, report); err != nil {
			return err
		}
	default:
		printCheck(t.stdout, report)
		printCoverage(t.stdout, found.cov, found.covErr)
	}
	if code := esExitCode(report.Summary.ExitCode(), found.cov, found.covErr); code != 0 {
		return silentExit(code)
	}
	return nil
}

func printCheck(w io.Writer, rep checkReport) {
	width := nameWidth(len(rep.Nodes), func(i int) string { return rep.Nodes[i].Node })
	for _, r := range rep.Nodes {
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
	fmt.Fprintf(w, "%s: %d in sync, %d drifted, %d failed\n", plural(s.Total, "node"), s.InSync, s.Drifted, s.Failed)
}

// describeCheck says what differs, by token name: never a hash.
func describeCheck(r check.Result) string {
	if r.State == check.Error {
		return r.Reason
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

// nagiosState is the plugin's severity. A node whose file Elasticsearch
// cannot load serves no file tokens, an outage for every client of them:
// CRITICAL like a node that could not be checked, not WARNING like drift.
func nagiosState(s check.Summary) int {
	switch {
	case s.Failed > 0 || s.Unloadable > 0:
		return nagiosCritical
	case s.Drifted > 0:
		return nagiosWarning
	}
	return nagiosOK
}

// nagios is the one-line plugin output with perfdata.
func nagios(s check.Summary, results []check.Result) string {
	perf := fmt.Sprintf("nodes_total=%d;;;0 nodes_drifted=%d;;;0 nodes_failed=%d;;;0 nodes_unloadable=%d;;;0", s.Total, s.Drifted, s.Failed, s.Unloadable)
	var bad []string
	for _, r := range results {
		switch r.State {
		case check.Error:
			bad = append(bad, r.Node+" ("+string(r.Failure)+")")
		case check.Drift:
			var what []string
			for _, d := range r.Differences {
				if d.Unloadable {
					what = append(what, "unloadable: serves no file tokens")
				} else {
					what = append(what, d.What)
				}
			}
			bad = append(bad, r.Node+" ("+strings.Join(what, ", ")+")")
		}
	}
	switch nagiosState(s) {
	case nagiosOK:
		return fmt.Sprintf("ES-SERVICE-TOKENS OK - %s in sync | %s", plural(s.Total, "node"), perf)
	case nagiosWarning:
		return fmt.Sprintf("ES-SERVICE-TOKENS WARNING - %d of %s drifted: %s | %s", s.Drifted, plural(s.Total, "node"), strings.Join(bad, ", "), perf)
	}
	counts := fmt.Sprintf("%d of %s failed", s.Failed, plural(s.Total, "node"))
	if s.Unloadable > 0 {
		counts += fmt.Sprintf(", %d unloadable", s.Unloadable)
	}
	return fmt.Sprintf("ES-SERVICE-TOKENS CRITICAL - %s, %d drifted: %s | %s", counts, s.Drifted, strings.Join(bad, ", "), perf)
}

// prometheus renders node_exporter textfile metrics.
func prometheus(rep checkReport) []byte {
	var b bytes.Buffer
	gauge := func(name, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	bit := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	results := append([]check.Result(nil), rep.Nodes...)
	sort.Slice(results, func(i, j int) bool { return results[i].Node < results[j].Node })
	gauge("es_service_tokens_node_in_sync", "1 if the node's service_tokens file matches the local file in content, owner, group and mode.")
	for _, r := range results {
		fmt.Fprintf(&b, "es_service_tokens_node_in_sync{node=%s} %d\n", promLabel(r.Node), bit(r.State == check.InSync))
	}
	gauge("es_service_tokens_node_reachable", "1 if the node could be checked.")
	for _, r := range results {
		fmt.Fprintf(&b, "es_service_tokens_node_reachable{node=%s} %d\n", promLabel(r.Node), bit(r.State != check.Error))
	}
	gauge("es_service_tokens_node_loadable", "1 if Elasticsearch can load the node's file (0: it serves no file tokens); absent for nodes that could not be checked.")
	for _, r := range results {
		if ok, known := r.Loadable(); known {
			fmt.Fprintf(&b, "es_service_tokens_node_loadable{node=%s} %d\n", promLabel(r.Node), bit(ok))
		}
	}
	gauge("es_service_tokens_nodes_total", "Nodes checked.")
	fmt.Fprintf(&b, "es_service_tokens_nodes_total %d\n", rep.Summary.Total)
	gauge("es_service_tokens_nodes_drifted", "Nodes whose file differs.")
	fmt.Fprintf(&b, "es_service_tokens_nodes_drifted %d\n", rep.Summary.Drifted)
	gauge("es_service_tokens_nodes_failed", "Nodes that could not be checked.")
	fmt.Fprintf(&b, "es_service_tokens_nodes_failed %d\n", rep.Summary.Failed)
	gauge("es_service_tokens_check_timestamp_seconds", "When the check ran, in Unix time.")
	fmt.Fprintf(&b, "es_service_tokens_check_timestamp_seconds %d\n", rep.CheckedAt.Unix())
	return b.Bytes()
}

func promLabel(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v) + `"`
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func (t *tool) pullCommand() *cli.Command {
	return command("pull", "<node> --out FILE", "Copy one node's file to a new local file",
		"Example:\n   es-service-tokens -i cluster.yml pull es-1 --out recovered_service_tokens\n   es-service-tokens -i cluster.yml pull es-1 --backup latest --out restored_service_tokens",
		t.pull, append(fanoutFlags(false), &cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "the new local `FILE` (never overwritten)"},
			&cli.StringFlag{Name: "backup", Usage: "copy one of the node's backups instead: `latest` or its timestamp (see backups: N)"})...)
}

// namedNode is the inventory's node called name, the one a pull reads.
func (t *tool) namedNode(c *cli.Context, name string) (*inventory.Node, error) {
	inv, err := t.loadInventory(c)
	if err != nil {
		return nil, err
	}
	var found []*inventory.Node
	for _, n := range inv.Nodes {
		if n.Name == name {
			found = append(found, n)
		}
	}
	if len(found) != 1 {
		return nil, fail(exitUsage, "no node named %q in %s: `nodes` lists them", name, inv.File)
	}
	return found[0], nil
}

// pull copies one node's file to a new local file, so a lost local copy
// can be recovered from the cluster.
func (t *tool) pull(c *cli.Context) error {
	usage := usageLine(c.Command)
	if c.Args().Len() != 1 {
		return &exitError{code: exitUsage, msg: "pull takes one node name", usage: usage}
	}
	if c.IsSet("limit") {
		// The node is the argument; a --limit beside it would be ignored.
		return &exitError{code: exitUsage, msg: "pull reads the one node it names: drop --limit", usage: usage}
	}
	out := c.String("out")
	if out == "" {
		return &exitError{code: exitUsage, msg: "pull needs --out FILE, a file that does not exist yet", usage: usage}
	}
	if err := t.needInventory(c); err != nil {
		return err
	}
	name := c.Args().First()
	node, err := t.namedNode(c, name)
	if err != nil {
		return err
	}
	r, err := t.connect(c, []*inventory.Node{node})
	if err != nil {
		return err
	}
	defer r.close()
	if err := t.beginAudit(c, "pull"); err != nil {
		return err
	}
	res, err := pull.Pull(r.ctx, r.dialer, pull.Request{Node: node, Out: out, Backup: c.String("backup")})
	var notLoadable *pull.NotLoadableError
	var local *pull.LocalError
	switch {
	case errors.As(err, &notLoadable):
		return fail(exitDataError, "pull %s: %v", name, err)
	case errors.As(err, &local) && local.Op == "create":
		return fail(exitCantCreate, "%v", err)
	case errors.As(err, &local):
		return fail(exitIOError, "pull %s: %v", name, err)
	case err != nil:
		_, reason := failure.Describe(r.ctx, err)
		return fail(exitFailed, "pull %s: %s", name, reason)
	}
	t.audit.pulled(name, out, res.SHA256)
	fmt.Fprintf(t.stdout, "pulled %s:%s (sha256:%s, %s) to %s\n", name, res.Path, digest.Short(res.SHA256), plural(res.Tokens, "token"), out)
	return nil
}
