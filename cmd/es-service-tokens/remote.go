package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/fleet"
	"github.com/es-service-tokens/es-service-tokens/sync/hostkeys"
	"github.com/es-service-tokens/es-service-tokens/sync/rollout"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
	"github.com/es-service-tokens/es-service-tokens/sync/steps"
)

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
				return nil, exit.Fail(exit.Usage, "--%s needs an inventory (-i FILE)", f)
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
		return nil, exit.Fail(exit.Usage, "--concurrency %d: give at least 1", c.Int("concurrency"))
	}
	auth := &sshconn.Auth{AgentSocket: t.getenv("SSH_AUTH_SOCK"), Home: t.home(), Ask: t.askPassphrase}
	if err := auth.PrepareNodes(nodes); err != nil {
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

// progress shows a live line on a terminal; it is off for pipes, files
// and JSON (whose stderr stays one object per line).
func (t *tool) progress(c *cli.Context) func(done, total int, node, status string) {
	if !t.stderrTTY || c.Bool("silent") || t.jsonOut {
		return nil
	}
	now := t.now
	if now == nil {
		now = time.Now
	}
	return output.NewProgress(t.stderr, t.stderrWidth, now).Show
}
