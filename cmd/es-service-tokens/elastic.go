package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/esnode"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/sync/rollout"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// esFlags are the Elasticsearch options; rollout adds the confirmation
// and gated-rollout ones for commands that write.
func esFlags(rollout bool) []cli.Flag {
	f := []cli.Flag{
		&cli.StringFlag{Name: "es-url", Usage: "the cluster's REST `URL` (comma-separated list tried in order); overrides the inventory's elasticsearch.url"},
		&cli.StringFlag{Name: "es-ca", Usage: "the PEM CA `FILE` of the cluster's HTTPS certificate"},
		&cli.BoolFlag{Name: "es-insecure-http", Usage: "allow a plain http:// URL (test clusters only)"},
	}
	if rollout {
		f = append(f,
			&cli.DurationFlag{Name: "confirm-timeout", Usage: "wait at most `DURATION` (or seconds) for every Elasticsearch node to load the change", DefaultText: "the inventory's, else 30s"},
			&cli.BoolFlag{Name: "no-confirm", Usage: "do not ask Elasticsearch whether its nodes loaded the change"},
			&cli.IntFlag{Name: "canary", Usage: "write the first `N` nodes and wait for them (gate) before any other"},
			&cli.StringFlag{Name: "batch", Usage: "then write `N` nodes (or N%) at a time, each batch gated"},
		)
	}
	return f
}

// esConfig resolves the Elasticsearch settings; ok is false when none are
// configured.
func (t *tool) esConfig(c *cli.Context, inv *inventory.Inventory) (elastic.Config, bool, error) {
	return t.resolveES(c, inv, false)
}

// resolveES is esConfig; with optionalCredentials, a cluster without
// configured credentials resolves to none (verify sends the token alone).
func (t *tool) resolveES(c *cli.Context, inv *inventory.Inventory, optionalCredentials bool) (elastic.Config, bool, error) {
	timeout := c.Duration("confirm-timeout")
	if c.IsSet("confirm-timeout") && timeout <= 0 {
		return elastic.Config{}, false, fail(exitUsage, "--confirm-timeout %s: give a positive duration (30s, 2m) or a number of seconds", timeout)
	}
	if c.String("es-url") == "" && (c.IsSet("es-ca") || c.IsSet("es-insecure-http")) && (inv == nil || inv.Elasticsearch == nil) {
		return elastic.Config{}, false, fail(exitUsage, "--es-ca and --es-insecure-http need --es-url or the inventory's elasticsearch section")
	}
	src := elastic.Sources{URL: c.String("es-url"), CA: c.String("es-ca"), InsecureHTTP: c.Bool("es-insecure-http"), Timeout: timeout, Getenv: t.getenv, CredentialsOptional: optionalCredentials}
	if inv != nil {
		src.Inventory = inv.Elasticsearch
	}
	cfg, err := elastic.Resolve(src)
	if errors.Is(err, elastic.ErrNotConfigured) {
		if timeout > 0 || c.IsSet("no-confirm") {
			return cfg, false, fail(exitUsage, "--confirm-timeout and --no-confirm need --es-url or the inventory's elasticsearch section")
		}
		return cfg, false, nil
	}
	if err != nil {
		return cfg, false, fail(exitConfig, "%v", err)
	}
	return cfg, true, nil
}

// planRollout builds the batches and the cluster client before anything is
// written, so that a bad setting changes nothing.
func (t *tool) planRollout(c *cli.Context, r *remote) (*rollout.Plan, error) {
	batches, err := push.Batches(len(r.nodes), c.Int("canary"), c.String("batch"))
	if err != nil {
		return nil, fail(exitUsage, "%v", err)
	}
	p := &rollout.Plan{Batches: batches}
	inv, _ := t.loadInventory(c)
	cfg, ok, err := t.esConfig(c, inv)
	if err != nil || !ok || c.Bool("no-confirm") || c.Bool("dry-run") {
		return p, err
	}
	if p.ES, err = elastic.New(cfg); err != nil {
		return nil, fail(exitConfig, "%v", err)
	}
	p.Timeout = cfg.ConfirmTimeout
	return p, nil
}

// printES renders the confirmation for people.
func printES(w io.Writer, gates []rollout.Gate, e *rollout.Confirmation) {
	for _, g := range gates {
		if g.Passed {
			fmt.Fprintf(w, "gate %d (%s): passed\n", g.Batch, strings.Join(g.Nodes, ", "))
		} else {
			fmt.Fprintf(w, "gate %d (%s): FAILED: %s; the rollout stopped, later nodes are untouched\n", g.Batch, strings.Join(g.Nodes, ", "), g.Reason)
		}
	}
	if e == nil {
		return
	}
	if e.Outcome == nil {
		fmt.Fprintf(w, "elasticsearch: %s\n", e.Note)
		return
	}
	o := e.Outcome
	if o.Error != "" && len(o.Nodes) == 0 {
		fmt.Fprintf(w, "elasticsearch: not confirmed: %s (the file work above is done)\n", o.Error)
		return
	}
	what := describeWant(o.Want)
	switch {
	case o.Confirmed && o.Scope == elastic.ScopeAnsweringNode:
		fmt.Fprintf(w, "elasticsearch %s: confirmed on %s only, %.2fs after the last write: Elasticsearch 7.13/7.14 reports the answering node's credentials alone, so the confirmation covers that node alone (%s; %d requests)\n", o.URL, o.AnsweringNode, o.Seconds, what, o.Requests)
	case o.Confirmed:
		fmt.Fprintf(w, "elasticsearch %s: confirmed %.2fs after the last write: %d nodes %s (%d requests)\n", o.URL, o.Seconds, len(o.Nodes), what, o.Requests)
	default:
		fmt.Fprintf(w, "elasticsearch %s: NOT confirmed %.2fs after the last write (%s; %d requests)\n", o.URL, o.Seconds, what, o.Requests)
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
			parts = append(parts, n.Cause)
			fmt.Fprintf(w, "  %-*s  %s\n", width, n.Node, strings.Join(parts, ": "))
		}
		if o.Error != "" {
			fmt.Fprintf(w, "  %s\n", o.Error)
		}
	}
}

func describeWant(w elastic.Want) string {
	var parts []string
	if len(w.Present) > 0 {
		parts = append(parts, "list "+strings.Join(w.Present, ", "))
	}
	if len(w.Absent) > 0 {
		parts = append(parts, "no longer list "+strings.Join(w.Absent, ", "))
	}
	return strings.Join(parts, " and ")
}

// esCoverage is check's cluster view; nil without elasticsearch.
func (t *tool) esCoverage(c *cli.Context, r *remote, local *tokens.File) (*elastic.Coverage, error) {
	inv, _ := t.loadInventory(c)
	cfg, ok, err := t.esConfig(c, inv)
	if err != nil || !ok {
		return nil, err
	}
	es, err := elastic.New(cfg)
	if err != nil {
		return nil, fail(exitConfig, "%v", err)
	}
	m := t.esNames(c, r)
	tg := elastic.Target{Inventory: m.ByES, Outside: m.Outside, Unnamed: m.Unnamed}
	principals := principalNames()
	ctx, cancel := context.WithTimeout(r.ctx, cfg.ConfirmTimeout)
	defer cancel()
	cov, err := es.Coverage(ctx, local.Keys(), principals, tg)
	if err != nil {
		return nil, err
	}
	return &cov, nil
}

func printCoverage(w io.Writer, cov *elastic.Coverage, covErr error) {
	if covErr != nil {
		fmt.Fprintf(w, "%s\n", phrase(covErr))
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

// esExitCode folds the cluster view into check's exit code.
func esExitCode(code int, cov *elastic.Coverage, covErr error) int {
	switch {
	case covErr != nil:
		return 2
	case cov != nil && cov.Drift && code == 0:
		return 1
	}
	return code
}

// esNagios adds the cluster view to a Nagios line.
func esNagios(line string, code int, cov *elastic.Coverage, covErr error) (string, int) {
	head, perf, _ := strings.Cut(line, " | ")
	newCode := esExitCode(code, cov, covErr)
	var extra string
	switch {
	case covErr != nil:
		extra = "; " + oneLine(phrase(covErr))
	case cov != nil && cov.Drift:
		var bad []string
		for _, n := range cov.Nodes {
			if n.Drift() {
				bad = append(bad, n.Node)
			}
		}
		extra = "; elasticsearch nodes differ: " + strings.Join(bad, ", ")
	}
	if newCode != code {
		for _, s := range []string{"OK", "WARNING", "CRITICAL"} {
			head = strings.Replace(head, "ES-SERVICE-TOKENS "+s, "ES-SERVICE-TOKENS "+map[int]string{1: "WARNING", 2: "CRITICAL"}[newCode], 1)
		}
	}
	if cov != nil {
		missing := 0
		for _, n := range cov.Nodes {
			missing += len(n.Missing)
		}
		perf += fmt.Sprintf(" es_nodes=%d;;;0 es_tokens_missing=%d;;;0", len(cov.Nodes), missing)
	}
	return head + extra + " | " + perf, newCode
}

// esPrometheus adds the cluster view to the textfile metrics.
func esPrometheus(b []byte, cov *elastic.Coverage, covErr error) []byte {
	var s strings.Builder
	s.Write(b)
	gauge := func(name, help string) {
		fmt.Fprintf(&s, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	gauge("es_service_tokens_es_reachable", "1 if the Elasticsearch API answered.")
	if covErr != nil || cov == nil {
		fmt.Fprintln(&s, "es_service_tokens_es_reachable 0")
		return []byte(s.String())
	}
	fmt.Fprintln(&s, "es_service_tokens_es_reachable 1")
	gauge("es_service_tokens_es_node_tokens_missing", "Tokens of the local file the Elasticsearch node has not loaded.")
	for _, n := range cov.Nodes {
		fmt.Fprintf(&s, "es_service_tokens_es_node_tokens_missing{node=%s} %d\n", promLabel(n.Node), len(n.Missing))
	}
	gauge("es_service_tokens_es_node_tokens_extra", "Tokens the Elasticsearch node has loaded that the local file lacks.")
	for _, n := range cov.Nodes {
		fmt.Fprintf(&s, "es_service_tokens_es_node_tokens_extra{node=%s} %d\n", promLabel(n.Node), len(n.Extra))
	}
	gauge("es_service_tokens_es_node_in_inventory", "1 if the Elasticsearch node is in the inventory.")
	for _, n := range cov.Nodes {
		v := 0
		if n.InInventory {
			v = 1
		}
		fmt.Fprintf(&s, "es_service_tokens_es_node_in_inventory{node=%s} %d\n", promLabel(n.Node), v)
	}
	return []byte(s.String())
}

// liveVerify sends the token to _authenticate when a cluster is
// configured; nil, nil when not. Admin credentials are optional: the token
// is its own; with them, the answering node is named.
func (t *tool) liveVerify(c *cli.Context, bearer string) (*elastic.Authentication, error) {
	var inv *inventory.Inventory
	if c.String("inventory") != "" {
		var err error
		if inv, err = t.loadInventory(c); err != nil {
			return nil, err
		}
	}
	cfg, ok, err := t.resolveES(c, inv, true)
	if err != nil || !ok {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ConfirmTimeout)
	defer cancel()
	a, err := elastic.Authenticate(ctx, cfg, bearer, cfg.Auth != "")
	return &a, err
}

// liveResult is verify's "elasticsearch" object.
type liveResult struct {
	Valid bool `json:"valid"`
	*elastic.Authentication
	Error  string `json:"error,omitempty"`
	Status int    `json:"status,omitempty"`
}

// verifyLive asks the cluster; nil when no cluster is configured.
func (t *tool) verifyLive(c *cli.Context, bearer string) (*liveResult, error) {
	a, err := t.liveVerify(c, bearer)
	if a == nil && err != nil {
		return nil, err // a configuration error: nothing was sent
	}
	if a == nil {
		return nil, nil
	}
	res := &liveResult{Valid: err == nil, Authentication: a}
	if err != nil {
		res.Error = phrase(err)
		var ee *elastic.Error
		if errors.As(err, &ee) {
			res.Status = ee.Status
		}
	}
	return res, nil
}

// printLive reports the local and the live verdicts; both must agree.
func (t *tool) printLive(c *cli.Context, asJSON bool, res verifyResult, live *liveResult, haveLocal bool) error {
	res.Elasticsearch = live
	ok := live.Valid && (!haveLocal || res.Valid)
	refused := live.Status == 401
	disagree := ""
	switch {
	case haveLocal && res.Valid && refused:
		disagree = "the local file accepts the token but Elasticsearch refused it: the answering node has not loaded the current file (or cannot parse it); look at its log"
	case haveLocal && !res.Valid && live.Valid:
		disagree = "Elasticsearch accepted the token but the local file does not: the local file is not what the cluster has; pull it from a node, or push"
	}
	if !haveLocal {
		res.Valid, res.QualifiedName = live.Valid, ""
		if live.Valid {
			res.QualifiedName = live.Username + "/" + live.TokenName
		}
	}
	if asJSON {
		if disagree != "" {
			res.Reason = disagree
		}
		res.Valid = ok
		if err := writeJSON(t.stdout, res); err != nil {
			return err
		}
	} else {
		if haveLocal {
			if res.Valid {
				fmt.Fprintf(t.stdout, "VALID %s in %s\n", res.QualifiedName, res.File)
			} else {
				fmt.Fprintf(t.stdout, "INVALID %s in %s: %s\n", res.QualifiedName, res.File, res.Reason)
			}
		}
		switch {
		case live.Valid:
			by := "at " + live.URL
			if live.Node != "" {
				by = "by node " + live.Node + " at " + live.URL
			}
			fmt.Fprintf(t.stdout, "VALID %s/%s in Elasticsearch: authenticated %s\n", live.Username, live.TokenName, by)
		case refused:
			fmt.Fprintf(t.stdout, "INVALID in Elasticsearch: %s\n", live.Error)
		default:
			fmt.Fprintf(t.stdout, "UNKNOWN in Elasticsearch: %s\n", live.Error)
		}
		if disagree != "" {
			fmt.Fprintf(t.stdout, "DISAGREE: %s\n", disagree)
		}
	}
	if !ok {
		return silentExit(exitFailed)
	}
	return nil
}

// esNames names every inventory node as Elasticsearch does (esnode): the
// nodes this run reaches by es_node_name, else node.name read over SFTP,
// else their hostname; the others by es_node_name alone.
func (t *tool) esNames(c *cli.Context, r *remote) esnode.Mapping {
	inv, _ := t.loadInventory(c)
	return esnode.Map(inv.Nodes, esnode.Resolve(r.ctx, r.dialer, r.fleet, r.nodes))
}
