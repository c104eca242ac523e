package prove_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/estest"
	"github.com/es-service-tokens/es-service-tokens/internal/testkit/nodetest"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
)

// Prove a new token's secret on every node that has its own address: one
// node loaded the file with the token, the other an empty file, and the
// third has no address.
func ExampleRun() {
	tok, data := nodetest.NewToken("elastic/kibana", "kibana-1")
	dir, _ := os.MkdirTemp("", "prove-")
	defer os.RemoveAll(dir)
	withToken, empty := filepath.Join(dir, "es-1"), filepath.Join(dir, "es-2")
	os.WriteFile(withToken, data, 0o600)
	os.WriteFile(empty, nil, 0o600)

	cluster, err := estest.Start(estest.Options{Nodes: []estest.NodeSpec{
		{Name: "es-1", File: withToken, Host: "127.0.0.2"},
		{Name: "es-2", File: empty, Host: "127.0.0.3"},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Close()

	rep, err := prove.Run(context.Background(), prove.Options{
		Config: elastic.Config{CACert: cluster.CAPEM, ConfirmTimeout: 1},
		Nodes: []*inventory.Node{
			{Name: "es-1", HTTPURL: cluster.NodeURL("es-1")},
			{Name: "es-2", HTTPURL: cluster.NodeURL("es-2")},
			{Name: "es-3"},
		},
		Bearer: tok.Bearer(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep.Token, "accepted everywhere:", rep.Accepted)
	for _, n := range rep.Nodes {
		fmt.Println(n.Node, n.Verdict)
	}
	fmt.Println("no address:", rep.Without)
	// Output:
	// elastic/kibana/kibana-1 accepted everywhere: false
	// es-1 accepted
	// es-2 rejected
	// no address: [es-3]
}
