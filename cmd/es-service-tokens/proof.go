package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
)

// planProof prepares the proof by secret before anything changes: the
// cluster's trust and the inventory's nodes; nil when no node has an
// address, or with --no-confirm or --dry-run.
func (t *tool) planProof(c *cli.Context, inv *inventory.Inventory) (*prove.Options, error) {
	if c.Bool("no-confirm") || c.Bool("dry-run") || !prove.Addressed(inv.Nodes) {
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
	return &prove.Options{Config: cfg, Nodes: inv.Nodes}, nil
}

// proveAfterPush proves bearer on every node after a push: since is the
// last rename, and the push's confirmation tells which nodes list the
// token by name.
func proveAfterPush(ctx context.Context, p prove.Options, bearer string, rep push.Report) *prove.Report {
	for _, res := range rep.Results {
		if res.Replaced.After(p.Since) {
			p.Since = res.Replaced
		}
	}
	if rep.ES != nil {
		p.Listed = rep.ES.Outcome
	}
	p.Bearer = bearer
	proof, _ := prove.Run(ctx, p) // planProof made sure a node has an address
	return &proof
}

// printProof renders a proof by secret for people.
func printProof(w io.Writer, sp *prove.Report) {
	if sp == nil {
		return
	}
	total := len(sp.Nodes)
	token := sp.Token
	if token == "" {
		token = "the token" // not a service token: every node refused it
	}
	if sp.Requests == 0 && sp.Token == "" {
		fmt.Fprintf(w, "secret of the token: sent to no node (%d with an address): it is not a service account token\n", total)
		return
	}
	if sp.Accepted {
		fmt.Fprintf(w, "secret of %s: accepted by every node with an address (%d), %.2fs %s (%d requests)\n", token, total, sp.Seconds, proofAfter(sp), sp.Requests)
	} else {
		fmt.Fprintf(w, "secret of %s: NOT accepted by every node: %d of %d, %.2fs %s (%d requests)\n", token, sp.AcceptedBy(), total, sp.Seconds, proofAfter(sp), sp.Requests)
		width := nameWidth(total, func(i int) string { return sp.Nodes[i].Node })
		for _, n := range sp.Nodes {
			if n.Verdict != elastic.Accepted {
				fmt.Fprintf(w, "  %-*s  %s: %s\n", width, n.Node, n.Verdict, oneLine(sp.Cause(n)))
			}
		}
	}
	if len(sp.Without) > 0 {
		fmt.Fprintf(w, "  no es_http_url for %s: only the credentials API (by name) judged them\n", strings.Join(sp.Without, ", "))
	}
}

// proofAfter says what a proof's seconds count from.
func proofAfter(sp *prove.Report) string {
	if sp.AfterWrite {
		return "after the last write"
	}
	return "after the first request"
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

func proofOf(sp *prove.Report) *proofJSON {
	if sp == nil {
		return nil
	}
	out := &proofJSON{Token: sp.Token, Accepted: sp.Accepted, Seconds: sp.Seconds, Requests: sp.Requests, NoAddress: sp.Without, Nodes: []nodeProofJSON{}}
	for _, n := range sp.Nodes {
		j := nodeProofJSON{Node: n.Node, URL: n.URL, Verdict: string(n.Verdict), Seconds: n.Seconds, Requests: n.Requests}
		if n.Verdict != elastic.Accepted {
			j.Reason = oneLine(sp.Cause(n))
		}
		out.Nodes = append(out.Nodes, j)
	}
	return out
}
