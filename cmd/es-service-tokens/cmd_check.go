package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/cmdline"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/internal/atomicfile"
	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/sync/check"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

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
	found := output.Checked{File: loc.File, SHA256: digest.SHA256(snap.Data)}
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
		if found.Ages, err = t.checkAges(c, loc.File, snap.File); err != nil {
			return err
		}
	}
	return t.printCheckReport(c, asJSON, found)
}

// checkOptions checks check's command line: what to compare the local
// file with (-i, else Ansible's inventory, or --against) and the format.
func (t *tool) checkOptions(c *cli.Context) (asJSON bool, err error) {
	if err := cmdline.NoArgs(c); err != nil {
		return false, err
	}
	if asJSON, err = t.jsonOutput(c); err != nil {
		return false, err
	}
	against := c.String("against")
	if against != "" && c.String("inventory") != "" {
		return false, exit.Fail(exit.Usage, "--against compares two local files; drop -i, or drop --against to check the nodes")
	}
	if against != "" && c.IsSet("max-age") {
		return false, exit.Fail(exit.Usage, "--max-age judges the tokens of the cluster's local file: drop --against, or drop --max-age")
	}
	if against == "" {
		if err := t.ansibleInventory(c); err != nil {
			return false, err
		}
	}
	if against == "" && c.String("inventory") == "" {
		return false, exit.Fail(exit.Usage, "check needs an inventory (-i FILE) or --against OTHER_FILE")
	}
	return asJSON, nil
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
		return rep, exit.Fail(exit.CodeError, "%v", err)
	}
	return rep, nil
}

// printCheckReport renders the report as asked (textfile metrics, Nagios,
// JSON or text) and ends with check's exit code.
func (t *tool) printCheckReport(c *cli.Context, asJSON bool, found output.Checked) error {
	if path := c.String("prometheus-textfile"); path != "" {
		if err := atomicfile.Write(path, output.Prometheus(found), atomicfile.Options{Perm: 0o644, UID: -1, GID: -1}); err != nil {
			return exit.Fail(exit.IOError, "cannot write %s: %v", path, err)
		}
	}
	if c.Bool("nagios") {
		line, code := output.Nagios(found)
		fmt.Fprintln(t.stdout, line)
		return exit.Silent(code)
	}
	if err := output.Check(t.stdout, asJSON, found); err != nil {
		return err
	}
	if code := found.ExitCode(); code != 0 {
		return exit.Silent(code)
	}
	return nil
}

// nagiosUnknown turns an error into the plugin's UNKNOWN line.
func (t *tool) nagiosUnknown(err error) error {
	var s exit.Silent
	if err == nil || errors.As(err, &s) {
		return err
	}
	fmt.Fprintf(t.stdout, "ES-SERVICE-TOKENS UNKNOWN - %s\n", output.OneLine(output.Phrase(err)))
	return exit.Silent(output.NagiosUnknown)
}
