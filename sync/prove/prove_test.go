package prove

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
)

// A refusal is explained by what the credentials API said of the node: it
// lists the token (another hash under the name), it does not (no reload),
// or it was not asked.
func TestCauseUsesTheListing(t *testing.T) {
	listed := &elastic.Outcome{Nodes: []elastic.NodeState{
		{Node: "n1", InventoryNode: "es-1"},
		{Node: "n2", InventoryNode: "es-2", Lacks: []string{"elastic/kibana/k"}},
		{Node: "n9"}, // not an inventory node: says nothing of one
	}}
	rep := Report{Listed: map[string]bool{}}
	for _, n := range listed.Nodes {
		if n.InventoryNode != "" {
			rep.Listed[n.InventoryNode] = len(n.Lacks) == 0
		}
	}
	for node, want := range map[string]string{
		"es-1": "it lists the token by name, so it holds another hash",
		"es-2": "it does not list the token either",
		"es-3": "it has not loaded the token's current hash",
	} {
		got := rep.Cause(elastic.NodeProof{Node: node, Verdict: elastic.Rejected, Reason: "refused", Requests: 1})
		if !strings.HasPrefix(got, "refused") || !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", node, got, want)
		}
	}
	if got := rep.Cause(elastic.NodeProof{Node: "es-1", Verdict: elastic.Unreachable, Reason: "connection refused"}); got != "connection refused" {
		t.Errorf("an unreachable node is its reason alone, got %q", got)
	}
	// A bearer that is no service token is sent nowhere: no answer to explain.
	if got := rep.Cause(elastic.NodeProof{Node: "es-3", Verdict: elastic.Rejected, Reason: "not a service account token"}); got != "not a service account token" {
		t.Errorf("a node never asked is its reason alone, got %q", got)
	}
}

// Without a node to ask, Run says so instead of a vacuous verdict.
func TestRunWithoutAddresses(t *testing.T) {
	rep, err := Run(context.Background(), Options{Nodes: []*inventory.Node{{Name: "es-1"}}, Bearer: "x"})
	if !errors.Is(err, ErrNoAddress) || strings.Join(rep.Without, ",") != "es-1" {
		t.Errorf("Run = %v, %v; want ErrNoAddress and es-1 without an address", rep, err)
	}
	if Addressed([]*inventory.Node{{Name: "es-1"}}) || !Addressed([]*inventory.Node{{Name: "es-1"}, {Name: "es-2", HTTPURL: "https://x:9200"}}) {
		t.Error("Addressed is wrong")
	}
}
