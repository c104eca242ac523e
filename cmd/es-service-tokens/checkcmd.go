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
	"github.com/es-service-tokens/es-service-tokens/sync/check"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/pull"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// checkReport is check's JSON document (see the README).
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
	return &cli.Command{
		Name:      "check",
		Usage:     "Compare every node's file with the local one; write nothing",
		ArgsUsage: " ",
		Description: "Exit codes (as diff): 0 all in sync, 1 drift, 2 a node could not be checked;\n" +
			"with --nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n" +
			"Example:\n   es-service-tokens -i cluster.yml check --prometheus-textfile /var/lib/node_exporter/es_tokens.prom",
		Flags: nodeFlags(false,
			&cli.BoolFlag{Name: "nagios", Usage: "print one Nagios/Icinga plugin line with perfdata"},
			&cli.StringFlag{Name: "prometheus-textfile", Usage: "also write node_exporter textfile metrics to `PATH` (atomically)"},
			&cli.StringFlag{Name: "against", Usage: "compare the local file with `OTHER_FILE` instead of nodes"}),
		Action: t.check,
	}
}

func (t *tool) check(c *cli.Context) (err error) {
	if c.Bool("nagios") {
		// Whatever goes wrong, a monitoring system gets one plugin line and
		// UNKNOWN, not a usage text.
		defer func() {
			var s silentExit
			if err != nil && !errors.As(err, &s) {
				fmt.Fprintf(t.stdout, "ES-SERVICE-TOKENS UNKNOWN - %s\n", oneLine(err.Error()))
				err = silentExit(nagiosUnknown)
			}
		}()
	}
	if c.Args().Len() > 0 {
		return &exitError{code: exitUsage, msg: fmt.Sprintf("check takes no arguments, found [%s]", strings.Join(c.Args().Slice(), ",")), usage: usageLine(c.Command)}
	}
	asJSON, err := t.jsonOutput(c)
	if err != nil {
		return err
	}
	if c.String("against") != "" && c.String("inventory") != "" {
		return fail(exitUsage, "--against compares two local files; drop -i, or drop --against to check the nodes")
	}
	if c.String("against") == "" {
		if err := t.ansibleInventory(c); err != nil {
			return err
		}
	}
	if c.String("against") == "" && c.String("inventory") == "" {
		return fail(exitUsage, "check needs an inventory (-i FILE) or --against OTHER_FILE")
	}
	loc, snap, err := t.localFile(c, "nothing to compare with (pull one from a node first)")
	if err != nil {
		return err
	}
	start := time.Now()
	var results []check.Result
	var cov *elastic.Coverage
	var covErr error
	if other := c.String("against"); other != "" {
		r, err := check.Against(loc.File, snap, other)
		if err != nil {
			return err
		}
		results = []check.Result{r}
	} else {
		r, err := t.remote(c)
		if err != nil {
			return err
		}
		defer r.close()
		k := &check.Checker{Dialer: r.dialer, Fleet: r.fleet}
		results = k.Check(r.ctx, r.nodes, snap.Data, snap.File)
		if cov, covErr = t.esCoverage(c, r, snap.File); covErr != nil {
			var ee *exitError
			if errors.As(covErr, &ee) {
				return covErr // a usage or configuration error: nothing was judged
			}
		}
	}
	sum := check.Summarize(results)
	report := checkReport{"check", loc.File, digest.SHA256(snap.Data), start.UTC(), time.Since(start).Seconds(), results, sum, cov, ""}
	if covErr != nil {
		report.ElasticsearchError = covErr.Error()
	}
	exitCode := esExitCode(sum.ExitCode(), cov, covErr)

	if path := c.String("prometheus-textfile"); path != "" {
		if err := atomicfile.Write(path, esPrometheus(prometheus(report), cov, covErr), atomicfile.Options{Perm: 0o644, UID: -1, GID: -1}); err != nil {
			return fail(exitIOError, "cannot write %s: %v", path, err)
		}
	}
	switch {
	case c.Bool("nagios"):
		line, code := esNagios(nagios(sum, results), nagiosState(sum), cov, covErr)
		fmt.Fprintln(t.stdout, line)
		return silentExit(code)
	case asJSON:
		if err := writeJSON(t.stdout, report); err != nil {
			return err
		}
	default:
		printCheck(t.stdout, report)
		printCoverage(t.stdout, cov, covErr)
	}
	if exitCode != 0 {
		return silentExit(exitCode)
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
	return &cli.Command{
		Name:        "pull",
		Usage:       "Copy one node's file to a new local file",
		ArgsUsage:   "<node> --out FILE",
		Description: "Example:\n   es-service-tokens -i cluster.yml pull es-1 --out recovered_service_tokens\n   es-service-tokens -i cluster.yml pull es-1 --backup latest --out restored_service_tokens",
		Flags: append(fanoutFlags(false), &cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "the new local `FILE` (never overwritten)"},
			&cli.StringFlag{Name: "backup", Usage: "copy one of the node's backups instead: `latest` or its timestamp (see backups: N)"}),
		Action: t.pull,
	}
}

// pull copies one node's file to a new local file, so a lost local copy
// can be recovered from the cluster.
func (t *tool) pull(c *cli.Context) error {
	usage := usageLine(c.Command)
	if c.Args().Len() != 1 {
		return &exitError{code: exitUsage, msg: "pull takes one node name", usage: usage}
	}
	out := c.String("out")
	if out == "" {
		return &exitError{code: exitUsage, msg: "pull needs --out FILE, a file that does not exist yet", usage: usage}
	}
	if err := t.ansibleInventory(c); err != nil {
		return err
	}
	if c.String("inventory") == "" {
		return fail(exitUsage, "pull needs an inventory: -i FILE")
	}
	inv, err := t.loadInventory(c)
	if err != nil {
		return err
	}
	name := c.Args().First()
	var sel []string
	for _, n := range inv.Nodes {
		if n.Name == name {
			sel = append(sel, name)
		}
	}
	if len(sel) != 1 {
		return fail(exitUsage, "no node named %q in %s: `nodes` lists them", name, inv.File)
	}
	if err := c.Set("limit", name); err != nil {
		return err
	}
	r, err := t.remote(c)
	if err != nil {
		return err
	}
	defer r.close()
	if err := t.beginAudit(c, "pull"); err != nil {
		return err
	}
	res, err := pull.Pull(r.ctx, r.dialer, pull.Request{Node: r.nodes[0], Out: out, Backup: c.String("backup")})
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
