package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
)

// proofPlan is how a run that holds a secret proves it on every node:
// each node's own REST address (es_http_url, or the elasticsearch
// section's node_url), with the cluster's trust. Nodes without an address
// are named so that the report says the credentials API alone judged them.
type proofPlan struct {
	cfg     elastic.Config
	nodes   []elastic.NodeEndpoint
	without []string
}

// planProof resolves the proof before anything changes; nil when no node
// has an address, or with --no-confirm.
func (t *tool) planProof(c *cli.Context, inv *inventory.Inventory) (*proofPlan, error) {
	if c.Bool("no-confirm") || c.Bool("dry-run") {
		return nil, nil
	}
	p := &proofPlan{}
	for _, n := range inv.Nodes {
		if n.HTTPURL == "" {
			p.without = append(p.without, n.Name)
			continue
		}
		p.nodes = append(p.nodes, elastic.NodeEndpoint{Node: n.Name, URL: n.HTTPURL})
	}
	if len(p.nodes) == 0 {
		return nil, nil
	}
	// The token is its own credential: the cluster's address and trust are
	// enough, admin credentials are not needed.
	cfg, ok, err := t.resolveES(c, inv, true)
	if err != nil {
		return nil, err
	}
	if !ok {
		cfg = elastic.Config{ConfirmTimeout: elastic.DefaultConfirmTimeout}
	}
	p.cfg = cfg
	return p, nil
}

// secretProof is a proof by secret and what the credentials API said of
// the same nodes, to tell a stale hash from a node that did not reload.
type secretProof struct {
	elastic.Proof
	// listed: inventory node -> whether the credentials API listed the
	// token there (absent when it was not asked).
	listed  map[string]bool
	without []string
	// after is what Seconds count from, in words ("after the last write").
	after string
}

// prove sends bearer to every node of p after a push: since is the last
// rename; rep tells which nodes list the token by name.
func (p *proofPlan) prove(c *cli.Context, r *remote, bearer string, rep push.Report) *secretProof {
	var since time.Time
	for _, res := range rep.Results {
		if res.Replaced.After(since) {
			since = res.Replaced
		}
	}
	proof := elastic.ProveSecret(r.ctx, p.cfg, bearer, p.nodes, since, p.cfg.ConfirmTimeout)
	sp := &secretProof{Proof: proof, listed: map[string]bool{}, without: p.without, after: "after the last write"}
	if rep.ES != nil && rep.ES.Outcome != nil {
		for _, n := range rep.ES.Outcome.Nodes {
			if n.InventoryNode != "" {
				sp.listed[n.InventoryNode] = len(n.Lacks) == 0
			}
		}
	}
	return sp
}

// cause explains a node that did not accept the secret.
func (sp *secretProof) cause(n elastic.NodeProof) string {
	if n.Verdict != elastic.Rejected {
		return n.Reason
	}
	listed, asked := sp.listed[n.Node]
	switch {
	case asked && listed:
		return n.Reason + "; it lists the token by name, so it holds another hash under this name (a re-created token, or a file restored from an old backup): compare its service_tokens file (check) and look at its log"
	case asked:
		return n.Reason + "; it does not list the token either: its file did not reload or does not parse (look for service_tokens in its log)"
	}
	return n.Reason + ": it has not loaded the token's current hash (a file that did not reload, does not parse, or holds an older hash under this name)"
}

// printProof renders a proof by secret for people.
func printProof(w io.Writer, sp *secretProof) {
	if sp == nil {
		return
	}
	total := len(sp.Nodes)
	token := sp.Token
	if token == "" {
		token = "the token" // not a service token: every node refused it
	}
	if sp.Accepted {
		fmt.Fprintf(w, "secret of %s: accepted by every node with an address (%d), %.2fs %s (%d requests)\n", token, total, sp.Seconds, sp.after, sp.Requests)
	} else {
		accepted := 0
		for _, n := range sp.Nodes {
			if n.Verdict == elastic.Accepted {
				accepted++
			}
		}
		fmt.Fprintf(w, "secret of %s: NOT accepted by every node: %d of %d, %.2fs %s (%d requests)\n", token, accepted, total, sp.Seconds, sp.after, sp.Requests)
		width := nameWidth(total, func(i int) string { return sp.Nodes[i].Node })
		for _, n := range sp.Nodes {
			if n.Verdict != elastic.Accepted {
				fmt.Fprintf(w, "  %-*s  %s: %s\n", width, n.Node, n.Verdict, oneLine(sp.cause(n)))
			}
		}
	}
	if len(sp.without) > 0 {
		fmt.Fprintf(w, "  no es_http_url for %s: only the credentials API (by name) judged them\n", strings.Join(sp.without, ", "))
	}
}

// proofJSON is a proof by secret: push's "secret_proof" object.
type proofJSON struct {
	Token    string          `json:"token"`
	Accepted bool            `json:"accepted"`
	Seconds  float64         `json:"seconds"`
	Requests int             `json:"requests"`
	Nodes    []nodeProofJSON `json:"nodes"`
	// NoAddress are inventory nodes without es_http_url: the credentials
	// API alone judged them.
	NoAddress []string `json:"no_address,omitempty"`
}

// nodeProofJSON is an elastic.NodeProof.
type nodeProofJSON struct {
	Node     string  `json:"node"`
	URL      string  `json:"url"`
	Verdict  string  `json:"verdict"`
	Reason   string  `json:"reason,omitempty"`
	Seconds  float64 `json:"seconds"`
	Requests int     `json:"requests"`
}

func proofOf(sp *secretProof) *proofJSON {
	if sp == nil {
		return nil
	}
	out := &proofJSON{Token: sp.Token, Accepted: sp.Accepted, Seconds: sp.Seconds, Requests: sp.Requests, NoAddress: sp.without, Nodes: []nodeProofJSON{}}
	for _, n := range sp.Nodes {
		j := nodeProofJSON{Node: n.Node, URL: n.URL, Verdict: string(n.Verdict), Seconds: n.Seconds, Requests: n.Requests}
		if n.Verdict != elastic.Accepted {
			j.Reason = oneLine(sp.cause(n))
		}
		out.Nodes = append(out.Nodes, j)
	}
	return out
}
