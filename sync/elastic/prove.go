package elastic

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// The credentials API lists token names; a node holding an older hash
// under the same name (a re-created token, a node restored from an old
// backup) lists the name yet refuses the secret. Only sending the secret
// proves it, and only on the node that receives the request: Elasticsearch
// authenticates where the request lands. ProveSecret therefore sends the
// bearer to every node's own address.

// Verdict is what one node said of a secret.
type Verdict string

// The verdicts.
const (
	Accepted    Verdict = "accepted"    // _authenticate answered as the token
	Rejected    Verdict = "rejected"    // 401, or authenticated as something else
	Unreachable Verdict = "unreachable" // no answer, or an error that is not a refusal
)

// NodeEndpoint is one node's own REST address.
type NodeEndpoint struct {
	Node string // the inventory node's name
	URL  string
}

// NodeProof is one node's answer to a secret, the last it gave.
type NodeProof struct {
	Node, URL string
	Verdict   Verdict
	// Reason says why the node did not accept: its answer, or why there
	// was none. Empty when accepted.
	Reason string
	// Seconds is when the node accepted, counted from the proof's since;
	// for a node that never did, when the proof gave up.
	Seconds  float64
	Requests int
}

// Proof is a secret's verdict on every node it was sent to.
type Proof struct {
	Token    string // the qualified name the bearer carries
	Accepted bool   // every node accepted
	Nodes    []NodeProof
	Seconds  float64 // from since to the last answer
	Requests int
}

// ProveSecret sends bearer to GET /_security/_authenticate on each node's
// own address, with cfg's trust (CA or fingerprint) and no other
// credentials, and polls each node that does not accept it yet until
// since+timeout: a node may not have reloaded its file. since is when the
// file was last put in place (zero: now). The bearer appears in no field
// and no reason.
func ProveSecret(ctx context.Context, cfg Config, bearer string, nodes []NodeEndpoint, since time.Time, timeout time.Duration) Proof {
	if since.IsZero() {
		since = time.Now()
	}
	p := Proof{Nodes: make([]NodeProof, len(nodes))}
	tok, err := tokens.ParseBearer(bearer)
	if err != nil {
		for i, n := range nodes {
			p.Nodes[i] = NodeProof{Node: n.Node, URL: n.URL, Verdict: Rejected, Reason: "not a service account token"}
		}
		return p
	}
	p.Token = tok.QualifiedName()
	deadline := since.Add(timeout)
	if floor := time.Now().Add(maxPoll); deadline.Before(floor) {
		deadline = floor // at least one round, however long the push took
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Nodes[i] = proveOn(ctx, cfg, bearer, tok, n, since)
		}()
	}
	wg.Wait()
	p.Accepted = len(nodes) > 0
	for _, n := range p.Nodes {
		p.Accepted = p.Accepted && n.Verdict == Accepted
		p.Requests += n.Requests
		p.Seconds = max(p.Seconds, n.Seconds)
	}
	return p
}

// proveOn asks one node until it accepts or ctx ends.
func proveOn(ctx context.Context, cfg Config, bearer string, tok tokens.Token, n NodeEndpoint, since time.Time) NodeProof {
	res := NodeProof{Node: n.Node, URL: n.URL}
	one := cfg
	one.URLs = []string{n.URL}
	c, err := newClient(one, bearer)
	if err != nil {
		res.Verdict, res.Reason = Unreachable, err.Error()
		return res
	}
	defer c.closeIdle()
	interval := firstPoll
	for {
		verdict, reason := c.judgeSecret(ctx, tok)
		if ctx.Err() == nil || res.Verdict == "" {
			// A request the deadline cut says nothing new of the node.
			res.Verdict, res.Reason = verdict, reason
		}
		res.Seconds = time.Since(since).Seconds()
		if verdict == Accepted || !wait(ctx, interval) {
			break
		}
		interval = min(2*interval, maxPoll)
	}
	if res.Verdict != Accepted {
		res.Seconds = time.Since(since).Seconds() // when it gave up
	}
	res.Requests = c.Requests()
	return res
}

// judgeSecret sends the client's bearer once and judges the answer.
func (c *Client) judgeSecret(ctx context.Context, tok tokens.Token) (Verdict, string) {
	a, err := c.authenticate(ctx)
	var ee *Error
	switch {
	case errors.As(err, &ee) && ee.Status == 401:
		return Rejected, "refused the secret (HTTP 401)"
	case err != nil:
		return Unreachable, err.Error()
	case a.Username != tok.Principal() || a.Token == nil || a.Token.Name != tok.Name:
		// Never seen from Elasticsearch; a proxy answering for it would.
		return Rejected, fmt.Sprintf("authenticated it as %q, not as the token %s", safetext.Input(a.Username), tok.QualifiedName())
	}
	return Accepted, ""
}
