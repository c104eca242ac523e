package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/fleet"
	"github.com/es-service-tokens/es-service-tokens/sync/hostkeys"
	"github.com/es-service-tokens/es-service-tokens/sync/rollout"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
	"github.com/es-service-tokens/es-service-tokens/sync/steps"
)

// fanoutFlags are the options of every command that reaches nodes.
func fanoutFlags(changes bool) []cli.Flag {
	f := []cli.Flag{
		&cli.StringFlag{Name: "limit", Aliases: []string{"l"}, Usage: "only these `NODES`, in Ansible's pattern syntax: names, groups, patterns (es-*, ~regex), a,b or a:b unions, a:!b exclusions, a:&b intersections, @FILE"},
		&cli.IntFlag{Name: "concurrency", Value: 32, Usage: "handle at most `N` nodes at once"},
		&cli.DurationFlag{Name: "timeout", Value: 60 * time.Second, Usage: "give up on a node after `DURATION` (seconds, or as 1m30s), all attempts included"},
		connectTimeoutFlag(),
		&cli.IntFlag{Name: "retries", Value: 2, Usage: "retry `N` times when a node fails before anything was written"},
	}
	if changes {
		f = append(f,
			&cli.BoolFlag{Name: "force", Usage: "overwrite nodes whose file was changed by someone else, is not a service_tokens file, or would lose every token"},
			&cli.BoolFlag{Name: "break-lock", Usage: "take over another run's lock on a node at once, instead of waiting for it to end or expire"})
	}
	return f
}

// nodeFlags are the options of a command that reaches nodes and may ask
// Elasticsearch: fanoutFlags, the command's own, then esFlags, in the order
// help lists them. changes adds those of commands that write.
func nodeFlags(changes bool, own ...cli.Flag) []cli.Flag {
	return append(append(fanoutFlags(changes), own...), esFlags(changes)...)
}

// connectTimeoutFlag is shared by every command that connects, so that its
// help reads the same everywhere.
func connectTimeoutFlag() cli.Flag {
	return &cli.DurationFlag{Name: "connect-timeout", Usage: "give up a connection attempt (TCP and SSH handshake) after `DURATION` (seconds, or as 1m30s)",
		DefaultText: "the inventory's, else ssh_config's, else 10s"}
}

// remote is what a command that reaches nodes works with.
type remote struct {
	inv    *inventory.Inventory // the run's inventory, loaded once
	nodes  []*inventory.Node    // the ones --limit chose
	dialer *sshconn.Dialer
	fleet  fleet.Options
	// ctx ends on Ctrl-C or SIGTERM, so that connections close and
	// temporary files are cleaned up instead of the process dying mid-write.
	ctx    context.Context
	cancel context.CancelFunc
	// timings collects each node's step durations with -v; close prints them.
	timings *stepTimings
	// rollout is set for commands that write: batches and confirmation.
	rollout *rollout.Plan
}

// pushPlan prepares the remote part of create and delete: with -i, the
// inventory and --limit are checked and keys loaded before the local file
// changes, so a typo cannot leave a changed file that was not pushed.
func (t *tool) pushPlan(c *cli.Context) (*remote, error) {
	if c.String("inventory") == "" {
		for _, f := range []string{"limit", "force", "break-lock", "concurrency", "timeout", "connect-timeout", "retries", "canary", "batch", "confirm-timeout", "no-confirm", "es-url", "es-ca", "es-insecure-http", "deliver"} {
			if c.IsSet(f) {
				return nil, fail(exitUsage, "--%s needs an inventory (-i FILE)", f)
			}
		}
		return nil, nil
	}
	return t.writingRemote(c)
}

// writingRemote is remote plus the rollout plan, checked before anything
// is written.
func (t *tool) writingRemote(c *cli.Context) (*remote, error) {
	r, err := t.remote(c)
	if err != nil {
		return nil, err
	}
	if r.rollout, err = t.planRollout(c, r); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

func (t *tool) remote(c *cli.Context) (*remote, error) {
	inv, err := t.loadInventory(c)
	if err != nil {
		return nil, err
	}
	nodes, err := limitNodes(c, inv)
	if err != nil {
		return nil, err
	}
	r, err := t.connect(c, nodes)
	if err != nil {
		return nil, err
	}
	r.inv = inv
	return r, nil
}

// connect prepares to reach nodes with the command's options: keys loaded,
// host keys checked, Ctrl-C and SIGTERM caught.
func (t *tool) connect(c *cli.Context, nodes []*inventory.Node) (*remote, error) {
	if c.Int("concurrency") < 1 {
		return nil, fail(exitUsage, "--concurrency %d: give at least 1", c.Int("concurrency"))
	}
	auth, err := t.loadKeys(nodes)
	if err != nil {
		return nil, err
	}
	var timings *stepTimings
	if c.Bool("verbose") {
		timings = &stepTimings{t: t}
	}
	keys := &hostkeys.Checker{Notify: func(msg string) { t.warn(c, "%s", msg) }}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	return &remote{
		ctx:    ctx,
		cancel: cancel,
		nodes:  nodes,
		dialer: &sshconn.Dialer{HostKeys: keys, Auth: auth},
		fleet: fleet.Options{
			Concurrency: c.Int("concurrency"),
			Timeout:     c.Duration("timeout"),
			Retries:     c.Int("retries"),
			Progress:    t.progress(c),
			Steps:       timings.hook(),
		},
		timings: timings,
	}, nil
}

// loadKeys loads the keys of nodes and their bastions node by node, so
// that a bad one is reported with the node that uses it and the inventory
// line that set it.
func (t *tool) loadKeys(nodes []*inventory.Node) (*sshconn.Auth, error) {
	auth := &sshconn.Auth{AgentSocket: t.getenv("SSH_AUTH_SOCK"), Home: t.home(), Ask: t.askPassphrase}
	for _, n := range nodes {
		for _, j := range n.Jump {
			if err := auth.Prepare([]inventory.Endpoint{j}); err != nil {
				auth.Close() // Prepare may have reached the agent
				return nil, fail(exitConfig, "node %s, bastion %s: %v", n.Name, j.Address(), err)
			}
		}
		if err := auth.Prepare([]inventory.Endpoint{n.Endpoint}); err != nil {
			auth.Close()
			where := ""
			var ce *sshconn.CertificateError
			switch o := n.Origin["certificate_file"]; {
			case errors.As(err, &ce) && len(n.CertificateFiles) > 0:
				where = " (certificate_file set at " + o + ")"
			case n.Origin["identity_file"] != "" && len(n.IdentityFiles) > 0:
				where = " (identity_file set at " + n.Origin["identity_file"] + ")"
			}
			return nil, fail(exitConfig, "node %s%s: %v", n.Name, where, err)
		}
	}
	return auth, nil
}

// close releases what remote opened: the signal handler, shared bastion
// connections and the agent. Whoever called remote or pushPlan closes it,
// on every path; a nil remote (no -i) closes as nothing.
func (r *remote) close() {
	if r == nil {
		return
	}
	r.cancel()
	r.dialer.Close()
	r.dialer.Auth.Close()
	if r.timings != nil {
		r.timings.print(r.nodes)
	}
}

// stepTimings prints, with -v, the steps sync reports (connect, auth,
// read, write, read-back) per node.
type stepTimings struct {
	t   *tool
	rec steps.Recorder
}

// hook is fleet's Steps hook, nil without -v.
func (s *stepTimings) hook() func(node, step string, d time.Duration) {
	if s == nil {
		return nil
	}
	return s.rec.Record
}

// print writes each node's step timings on stderr, in inventory order.
func (s *stepTimings) print(nodes []*inventory.Node) {
	output.Steps(s.t.stderr, s.t.jsonOut, nodes, &s.rec)
}
