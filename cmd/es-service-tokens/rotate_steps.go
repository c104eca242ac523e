package main

// The steps of a rotation outside the local file (rotate.Steps): push,
// proof, delivery, hand-over and confirmation, each keeping what it found
// for the report.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/internal/atomicfile"
	"github.com/es-service-tokens/es-service-tokens/internal/fserr"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/deliver"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/esnode"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/sync/rotate"
)

// rotationSteps are rotate.Steps for one rotation of this run.
type rotationSteps struct {
	t         *tool
	c         *cli.Context
	s         *rotateSetup
	token     string // the token being rotated
	consumers []*inventory.Consumer
	out       *rotateOutput
	// since is when this run's last push put a file in place: the nodes
	// reload from then on.
	since time.Time
	// detail is what the step under way found; progress hands it to the
	// report when the step ends.
	detail stepDetail
}

// stepDetail is what one step found, for its report.
type stepDetail struct {
	push      *push.Report
	req       push.Request // what was pushed
	proof     *prove.Report
	listed    *elastic.Outcome // the credentials API's view
	delivery  *deliver.Report
	tokenFile string
}

// afterRotateStep, when set, runs after each step is reported: the tests
// kill the process there to prove that the next run continues.
var afterRotateStep func(rotate.Report)

// progress is rotate.Request.Progress: each step is reported as it ends.
func (rs *rotationSteps) progress(rep rotate.Report) {
	rs.out.step(rep, rs.detail)
	rs.detail = stepDetail{}
	if afterRotateStep != nil {
		afterRotateStep(rep)
	}
}

// Publish pushes the local file to every node of the inventory.
func (rs *rotationSteps) Publish(ctx context.Context, p rotate.Publication) error {
	r := rs.s.r
	req := push.Request{Data: p.Data, Local: p.Local, Before: p.Before, Force: rs.c.Bool("force")}
	rep, err := push.Run(ctx, push.Options{Request: req, Inventory: r.inv, Nodes: r.nodes, Dialer: r.dialer, Fleet: r.fleet,
		Me: rs.t.lockHolder(), BreakLock: rs.c.Bool("break-lock"), NameNodes: rs.s.es != nil})
	if err != nil {
		return err
	}
	rs.s.named(rep)
	rs.detail.push, rs.detail.req = &rep, req
	rs.t.audit.pushed(rs.s.loc.File, p.Data, rep)
	for _, res := range rep.Results {
		for _, w := range res.Warnings {
			rs.t.warn(rs.c, "%s: %s", safetext.Escape(res.Node), w)
		}
		if res.Replaced.After(rs.since) {
			rs.since = res.Replaced
		}
	}
	if !rep.OK() {
		return fmt.Errorf("push: %s", rep.Outcome())
	}
	return nil
}

// Prove checks that every Elasticsearch node accepts the secret (on each
// node's own address, where the inventory has one) and lists the token.
func (rs *rotationSteps) Prove(ctx context.Context, token, bearer string) error {
	out := rs.s.es.Confirm(ctx, elastic.Want{Present: []string{token}, Absent: []string{}}, rs.target(), rs.s.cfg.ConfirmTimeout)
	rs.detail.listed = &out
	var sp *prove.Report
	if p := rs.s.proof; p != nil {
		opts := *p
		opts.Bearer, opts.Since, opts.Listed = bearer, rs.since, &out
		proof, _ := prove.Run(ctx, opts) // planProof made sure a node has an address
		sp = &proof
		rs.detail.proof = sp
	}
	switch {
	case sp != nil && !sp.Accepted:
		return errors.New("not every node accepts the new token's secret")
	case !out.Confirmed:
		return errors.New("not every Elasticsearch node lists the new token")
	}
	return nil
}

// Deliver hands the secret to the consumers, restarts them and waits for
// their health.
func (rs *rotationSteps) Deliver(_ context.Context, token, bearer string) error {
	rep := rs.t.runDelivery(rs.s.r, rs.consumers, bearer)
	rs.detail.delivery = &rep
	if !rep.OK() {
		return fmt.Errorf("delivery: %s", rep.Summary())
	}
	return nil
}

// HandOver gives the bearer to the user: --token-file, else stdout.
func (rs *rotationSteps) HandOver(_ context.Context, token, bearer string) error {
	tf := rs.c.String("token-file")
	if tf == "" {
		return rs.out.handOver(token, bearer)
	}
	if err := atomicfile.WriteNew(tf, []byte(bearer+"\n"), 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("token file [%s] already exists; give a new path (a token file is never overwritten)", tf)
		}
		return fmt.Errorf("cannot create token file [%s]: %v", tf, fserr.WithoutPath(err))
	}
	rs.detail.tokenFile = tf
	return nil
}

// ConfirmGone waits until no Elasticsearch node lists token.
func (rs *rotationSteps) ConfirmGone(ctx context.Context, token string) error {
	out := rs.s.es.Confirm(ctx, elastic.Want{Present: []string{}, Absent: []string{token}}, rs.target(), rs.s.cfg.ConfirmTimeout)
	rs.detail.listed = &out
	if !out.Confirmed {
		return fmt.Errorf("some Elasticsearch node still lists %s", token)
	}
	return nil
}

// target names every Elasticsearch node of the cluster and the inventory.
func (rs *rotationSteps) target() elastic.Target {
	m := rs.s.names()
	return elastic.Target{Inventory: m.ByES, Unnamed: m.Unnamed, Since: rs.since}
}

// named keeps the Elasticsearch names a push read on the nodes, each on
// its own connection: the rotation's confirmations use them, and no node
// is connected to again for its name.
func (s *rotateSetup) named(rep push.Report) {
	var reached []esnode.Name
	for _, r := range rep.Results {
		if r.ESName.ESName != "" {
			reached = append(reached, r.ESName)
		}
	}
	m := esnode.Map(s.r.inv.Nodes, reached)
	s.esNames = &m
}

// names maps inventory nodes to Elasticsearch names: as the last push
// read them, else (a resumed rotation that has not pushed yet) as read on
// the nodes now.
func (s *rotateSetup) names() esnode.Mapping {
	if s.esNames == nil {
		m := esnode.Map(s.r.inv.Nodes, esnode.Resolve(s.r.ctx, s.r.dialer, s.r.fleet, s.r.nodes))
		s.esNames = &m
	}
	return *s.esNames
}
