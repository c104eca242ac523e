// Package prove proves a token's secret where clients use it: on every
// node of the inventory that has its own REST address (es_http_url, or
// the elasticsearch section's node_url), since Elasticsearch authenticates
// a request on the node that receives it. A node that does not accept the
// secret is explained with what the credentials API said of the same node
// (it lists the token by name, or not), which tells a stale hash from a
// file that did not reload.
//
// create proves a new token after its push, deliver before it hands a
// secret to consumers, verify on every node, and a rotation its
// successor: each calls Run.
package prove

import (
	"context"
	"errors"
	"time"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
)

// Options are one proof.
type Options struct {
	// Config is the cluster's trust (CA or fingerprint); no credentials
	// are needed, the token is its own. Its ConfirmTimeout is how long
	// nodes that refuse are asked again (0: elastic.DefaultConfirmTimeout).
	Config elastic.Config
	// Nodes are the inventory's nodes: those with an HTTPURL are asked,
	// the others are named in Report.Without.
	Nodes  []*inventory.Node
	Bearer string
	// Since is when the file was last put in place: the nodes reload from
	// then on, and the report's seconds count from it. Zero: from the
	// first request.
	Since time.Time
	// Listed, when set, is the credentials API's view of the same nodes
	// (a confirmation): it explains each node that refuses the secret.
	Listed *elastic.Outcome
}

// Report is a proof's verdict on every node with an address.
type Report struct {
	elastic.Proof
	// Without are the inventory nodes without an address: the credentials
	// API alone (by name) judged them.
	Without []string
	// Listed says, by inventory node, whether the credentials API listed
	// the token there; a node it did not judge is absent.
	Listed map[string]bool
	// AfterWrite: the seconds count from the last write (Options.Since),
	// not from the first request.
	AfterWrite bool
}

// ErrNoAddress means that no node of the inventory has its own address.
var ErrNoAddress = errors.New("no node has its own address")

// Addressed reports whether some node has its own address, so that a
// caller knows before anything changes whether it will prove a secret.
func Addressed(nodes []*inventory.Node) bool {
	for _, n := range nodes {
		if n.HTTPURL != "" {
			return true
		}
	}
	return false
}

// Run sends the bearer to every node with an address and asks those that
// refuse it again until Since plus the timeout (a node may not have
// reloaded yet). The secret appears in no field of the report. Its error
// is ErrNoAddress, when there is no node to ask.
func Run(ctx context.Context, opts Options) (Report, error) {
	rep := Report{Listed: map[string]bool{}, AfterWrite: !opts.Since.IsZero()}
	var endpoints []elastic.NodeEndpoint
	for _, n := range opts.Nodes {
		if n.HTTPURL == "" {
			rep.Without = append(rep.Without, n.Name)
			continue
		}
		endpoints = append(endpoints, elastic.NodeEndpoint{Node: n.Name, URL: n.HTTPURL})
	}
	if len(endpoints) == 0 {
		return rep, ErrNoAddress
	}
	timeout := opts.Config.ConfirmTimeout
	if timeout <= 0 {
		timeout = elastic.DefaultConfirmTimeout
	}
	rep.Proof = elastic.ProveSecret(ctx, opts.Config, opts.Bearer, endpoints, opts.Since, timeout)
	if opts.Listed != nil {
		for _, n := range opts.Listed.Nodes {
			if n.InventoryNode != "" {
				rep.Listed[n.InventoryNode] = len(n.Lacks) == 0
			}
		}
	}
	return rep, nil
}

// AcceptedBy is how many nodes accept the secret.
func (r *Report) AcceptedBy() int {
	n := 0
	for _, p := range r.Nodes {
		if p.Verdict == elastic.Accepted {
			n++
		}
	}
	return n
}

// Cause explains a node that did not accept the secret: its answer, and
// for a refusal what the credentials API's view of the node makes of it.
func (r *Report) Cause(n elastic.NodeProof) string {
	if n.Verdict != elastic.Rejected || n.Requests == 0 {
		return n.Reason // never asked (not a service account token): no answer to explain
	}
	listed, asked := r.Listed[n.Node]
	switch {
	case asked && listed:
		return n.Reason + "; it lists the token by name, so it holds another hash under this name (a re-created token, or a file restored from an old backup): compare its service_tokens file (check) and look at its log"
	case asked:
		return n.Reason + "; it does not list the token either: its file did not reload or does not parse (look for service_tokens in its log)"
	}
	return n.Reason + ": it has not loaded the token's current hash (a file that did not reload, does not parse, or holds an older hash under this name)"
}
