package rotation

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/atomicfile"
	"github.com/es-service-tokens/es-service-tokens/internal/fserr"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/deliver"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/esnode"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/sync/rotate"
)

// steps are rotate.Steps on the cluster, for one rotation: each keeps
// what it found for the step's report.
type steps struct {
	opts      Options
	consumers []*inventory.Consumer
	// since is when this rotation's last push put a file in place: the
	// nodes reload from then on.
	since time.Time
	// names maps inventory nodes to Elasticsearch names, as the run's last
	// push read them on its own connections; shared by the run's rotations.
	names **esnode.Mapping
	// detail is what the step under way found; progress hands it on when
	// the step ends.
	detail Detail
}

// progress is rotate.Request.Progress: the step that just ended, with
// what it found.
func (s *steps) progress(rep rotate.Report) {
	d := s.detail
	s.detail = Detail{}
	if s.opts.Step != nil {
		s.opts.Step(rep, d)
	}
}

// Publish pushes the local file to every node of the inventory.
func (s *steps) Publish(ctx context.Context, p rotate.Publication) error {
	o := s.opts.Push
	o.Request = push.Request{Data: p.Data, Local: p.Local, Before: p.Before, Force: o.Force}
	o.NameNodes = s.opts.ES != nil
	rep, err := push.Run(ctx, o)
	if err != nil {
		return err
	}
	s.named(rep)
	s.detail.Push, s.detail.Request = &rep, o.Request
	for _, res := range rep.Results {
		if res.Replaced.After(s.since) {
			s.since = res.Replaced
		}
	}
	if !rep.OK() {
		return fmt.Errorf("push: %s", rep.Outcome())
	}
	return nil
}

// Prove checks that every Elasticsearch node lists the token and accepts
// its secret (on each node's own address, where the inventory has one).
func (s *steps) Prove(ctx context.Context, token, bearer string) error {
	out := s.opts.ES.Confirm(ctx, elastic.Want{Present: []string{token}, Absent: []string{}}, s.target(ctx), s.opts.ConfirmTimeout)
	s.detail.Listed = &out
	if p := s.opts.Proof; p != nil {
		opts := *p
		opts.Bearer, opts.Since, opts.Listed = bearer, s.since, &out
		proof, _ := prove.Run(ctx, opts) // ErrNoAddress: the caller plans a proof for nodes with addresses
		s.detail.Proof = &proof
		if !proof.Accepted {
			return errors.New("not every node accepts the new token's secret")
		}
	}
	if !out.Confirmed {
		return errors.New("not every Elasticsearch node lists the new token")
	}
	return nil
}

// Deliver hands the secret to the consumers, restarts them and waits for
// their health.
func (s *steps) Deliver(ctx context.Context, _, bearer string) error {
	d := &deliver.Deliverer{Dialer: s.opts.Push.Dialer, Fleet: s.opts.Push.Fleet}
	rep := d.Deliver(ctx, s.consumers, bearer)
	s.detail.Delivery = &rep
	if !rep.OK() {
		return fmt.Errorf("delivery: %s", rep.Summary())
	}
	return nil
}

// HandOver gives the bearer to the user: a new token file, else
// Options.HandOver.
func (s *steps) HandOver(_ context.Context, token, bearer string) error {
	tf := s.opts.TokenFile
	if tf == "" {
		if s.opts.HandOver == nil {
			return errors.New("no way to hand the new token over")
		}
		return s.opts.HandOver(token, bearer)
	}
	if err := atomicfile.WriteNew(tf, []byte(bearer+"\n"), 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("token file [%s] already exists; give a new path (a token file is never overwritten)", tf)
		}
		return fmt.Errorf("cannot create token file [%s]: %v", tf, fserr.WithoutPath(err))
	}
	s.detail.TokenFile = tf
	return nil
}

// ConfirmGone waits until no Elasticsearch node lists token.
func (s *steps) ConfirmGone(ctx context.Context, token string) error {
	out := s.opts.ES.Confirm(ctx, elastic.Want{Present: []string{}, Absent: []string{token}}, s.target(ctx), s.opts.ConfirmTimeout)
	s.detail.Listed = &out
	if !out.Confirmed {
		return fmt.Errorf("some Elasticsearch node still lists %s", token)
	}
	return nil
}

// target names every Elasticsearch node of the cluster and the inventory.
func (s *steps) target(ctx context.Context) elastic.Target {
	if *s.names == nil {
		// A resumed rotation that has not pushed yet: the names are read
		// on the nodes now (esnode.Resolve, a connection each).
		o := s.opts.Push
		m := esnode.Map(o.Inventory.Nodes, esnode.Resolve(ctx, o.Dialer, o.Fleet, o.Nodes))
		*s.names = &m
	}
	m := *s.names
	return elastic.Target{Inventory: m.ByES, Unnamed: m.Unnamed, Since: s.since}
}

// named keeps the Elasticsearch names a push read on the nodes, each on
// its own connection: the rotation's confirmations use them, and no node
// is connected to again for its name.
func (s *steps) named(rep push.Report) {
	var reached []esnode.Name
	for _, r := range rep.Results {
		if r.ESName.ESName != "" {
			reached = append(reached, r.ESName)
		}
	}
	m := esnode.Map(s.opts.Push.Inventory.Nodes, reached)
	*s.names = &m
}
