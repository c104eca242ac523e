package remotefile

import (
	"context"
	"time"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/fleet"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
)

// Work is what a command does on one node over its connection. retry
// says that it failed before anything was written.
type Work[R any] func(ctx context.Context, c *Conn, n *inventory.Node) (result R, retry bool)

// Each is how push and check run over the nodes: fleet's bounds,
// deadlines and retries, one connection per node and attempt, closed when
// the work returns. A node that cannot be reached becomes unreached(ctx,
// err), retried when sshconn says the dial may be. finish records in each
// result its node, its attempts and the seconds since its first attempt
// began, and returns the word for the progress line.
func Each[R any](ctx context.Context, d *sshconn.Dialer, nodes []*inventory.Node, opts fleet.Options, work Work[R],
	unreached func(ctx context.Context, err error) R, finish func(r *R, n *inventory.Node, attempts int, seconds float64) string) []R {
	name := func(n *inventory.Node) string { return n.Name }
	return fleet.Run(ctx, nodes, name, opts, func(ctx context.Context, n *inventory.Node, attempt int, started time.Time) (R, string, bool) {
		r, retry := attemptOn(ctx, d, n, work, unreached)
		return r, finish(&r, n, attempt, time.Since(started).Seconds()), retry
	})
}

func attemptOn[R any](ctx context.Context, d *sshconn.Dialer, n *inventory.Node, work Work[R], unreached func(context.Context, error) R) (R, bool) {
	c, err := Dial(ctx, d, n)
	if err != nil {
		return unreached(ctx, err), sshconn.Retryable(err)
	}
	defer c.Close()
	return work(ctx, c, n)
}
