package push_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/nodetest"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
)

// Run reads each node's Elasticsearch name on the push's own connection:
// one connection per node, whatever else the run needs. Run many times
// under -race: the names come from the fleet's goroutines.
func TestRunNamesNodesOnItsOwnConnection(t *testing.T) {
	for range 5 {
		nodes := nodetest.Start("es-1", "es-2", "es-3")
		t.Cleanup(nodes.Close)
		for i, name := range []string{"node-a", "node-b"} {
			yml := filepath.Join(filepath.Dir(nodes.Nodes[i].Path), "elasticsearch.yml")
			if err := os.WriteFile(yml, []byte("node.name: "+name+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		nodes.Nodes[2].ESNodeName = "from-inventory"
		rep, err := push.Run(context.Background(), push.Options{
			Request: push.Request{Data: nodetest.TokenFile("elastic/fleet-server/t1")},
			Nodes:   nodes.Nodes, Dialer: nodes.Dialer, NameNodes: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []string{"node-a", "node-b", "from-inventory"} {
			r := rep.Results[i]
			if r.Status != push.Updated || r.ESName.ESName != want || r.ESName.Node != r.Node {
				t.Errorf("%s: %s, named %+v; want updated, %s", r.Node, r.Status, r.ESName, want)
			}
			if n := nodes.Servers[i].Stats().Connections; n != 1 {
				t.Errorf("%s: %d connections, want 1", r.Node, n)
			}
		}
	}
}
