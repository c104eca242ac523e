package output

import (
	"fmt"
	"io"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
)

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
				fmt.Fprintf(w, "  %-*s  %s: %s\n", width, n.Node, n.Verdict, OneLine(sp.Cause(n)))
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
			j.Reason = OneLine(sp.Cause(n))
		}
		out.Nodes = append(out.Nodes, j)
	}
	return out
}
