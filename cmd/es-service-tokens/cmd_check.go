package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/internal/atomicfile"
	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/sync/check"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

func (t *tool) checkCommand() *cli.Command {
	return command("check", " ", "Compare every node's file with the local one; write nothing",
		"Exit codes (as diff): 0 all in sync, 1 drift, 2 a node could not be checked;\n"+
			"with --nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n"+
			"Example:\n   es-service-tokens -i cluster.yml check --prometheus-textfile /var/lib/node_exporter/es_tokens.prom",
		t.check, nodeFlags(false,
			&cli.BoolFlag{Name: "nagios", Usage: "print one Nagios/Icinga plugin line with perfdata"},
			&cli.StringFlag{Name: "prometheus-textfile", Usage: "also write node_exporter textfile metrics to `PATH` (atomically)"},
			&cli.StringFlag{Name: "against", Usage: "compare the local file with `OTHER_FILE` instead of nodes"},
			maxAgeFlag())...)
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
	found := checked{file: loc.File, sha256: digest.SHA256(snap.Data)}
	if other := c.String("against"); other != "" {
		start := time.Now()
		r, err := check.Against(loc.File, snap, other)
		if err != nil {
			return err
		}
		rs := []check.Result{r}
		found.Report = check.Report{Results: rs, Summary: check.Summarize(rs), CheckedAt: start.UTC(), Seconds: time.Since(start).Seconds()}
	} else {
		r, err := t.remote(c)
		if err != nil {
			return err
		}
		defer r.close()
		if found.Report, err = t.checkNodes(c, r, snap); err != nil {
			return err
		}
		if found.ages, err = t.checkAges(c, loc.File, snap.File); err != nil {
			return err
		}
	}
	return t.printCheckReport(c, asJSON, found)
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
	if against != "" && c.IsSet("max-age") {
		return false, fail(exitUsage, "--max-age judges the tokens of the cluster's local file: drop --against, or drop --max-age")
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

// checked is what check found, before it is rendered.
type checked struct {
	check.Report
	file, sha256 string // the local file
	// ages are the local tokens' ages, nil with --against.
	ages *tokenAges
}

// checkNodes compares every node's file, and with elasticsearch the
// cluster's view, with the local file (check.Run).
func (t *tool) checkNodes(c *cli.Context, r *remote, snap store.Snapshot) (check.Report, error) {
	es, timeout, err := t.esClient(c, r.inv)
	if err != nil {
		return check.Report{}, err // a usage or configuration error: nothing was judged
	}
	rep, err := check.Run(r.ctx, check.Options{Data: snap.Data, Local: snap.File, Inventory: r.inv, Nodes: r.nodes,
		Dialer: r.dialer, Fleet: r.fleet, ES: es, ConfirmTimeout: timeout})
	if err != nil {
		return rep, fail(exitCodeError, "%v", err)
	}
	return rep, nil
}

// printCheckReport renders the report as asked (textfile metrics, Nagios,
// JSON or text) and ends with check's exit code.
func (t *tool) printCheckReport(c *cli.Context, asJSON bool, found checked) error {
	if path := c.String("prometheus-textfile"); path != "" {
		metrics := agesPrometheus(esPrometheus(prometheus(found), found.Coverage, found.CoverageErr), found.ages)
		if err := atomicfile.Write(path, metrics, atomicfile.Options{Perm: 0o644, UID: -1, GID: -1}); err != nil {
			return fail(exitIOError, "cannot write %s: %v", path, err)
		}
	}
	switch {
	case c.Bool("nagios"):
		line, code := esNagios(nagios(found.Summary, found.Results), nagiosState(found.Summary), found.Coverage, found.CoverageErr)
		line, code = agesNagios(line, code, found.ages)
		fmt.Fprintln(t.stdout, line)
		return silentExit(code)
	case asJSON:
		if err := writeJSON(t.stdout, checkJSON(found)); err != nil {
			return err
		}
	default:
		printCheck(t.stdout, found)
		files := map[string]check.State{}
		for _, r := range found.Results {
			files[r.Node] = r.State
		}
		printCoverage(t.stdout, found.Coverage, found.CoverageErr, files)
		printAges(t.stdout, found.ages)
	}
	code := esExitCode(found.Summary.ExitCode(), found.Coverage, found.CoverageErr)
	if code == 0 && found.ages.drift() {
		code = 1
	}
	if code != 0 {
		return silentExit(code)
	}
	return nil
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
