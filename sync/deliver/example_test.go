package deliver_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/estest"
	"github.com/es-service-tokens/es-service-tokens/internal/testkit/nodetest"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/deliver"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/prove"
)

// Deliver a token's secret to a consumer that reads it from a file, once
// the Elasticsearch node accepts it.
func ExampleRun() {
	tok, data := nodetest.NewToken("elastic/kibana", "kibana-1")
	dir, _ := os.MkdirTemp("", "deliver-")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "service_tokens"), data, 0o600)
	cluster, err := estest.Start(estest.Options{Nodes: []estest.NodeSpec{{Name: "es-1", File: filepath.Join(dir, "service_tokens")}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Close()

	machines := nodetest.Start("kb-1") // an in-process SSH/SFTP machine
	defer machines.Close()
	host := machines.Nodes[0]
	host.Path, host.Mode = filepath.Join(filepath.Dir(host.Path), "kibana.token"), 0o600
	kibana := &inventory.Consumer{Name: "kb-1", Token: tok.QualifiedName(), Method: inventory.MethodFile, Host: host}

	out, err := deliver.Run(context.Background(), deliver.Options{
		Consumers: []*inventory.Consumer{kibana},
		Bearer:    tok.Bearer(),
		Proof: &prove.Options{Config: elastic.Config{CACert: cluster.CAPEM},
			Nodes: []*inventory.Node{{Name: "es-1", HTTPURL: cluster.NodeURL("es-1")}}},
		Dialer: machines.Dialer,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("proven:", out.Proof.Accepted)
	for _, r := range out.Results {
		fmt.Println(r.Consumer, r.Status(), r.Store)
	}
	stored, _ := os.ReadFile(host.Path)
	fmt.Println("the file holds the bearer:", string(stored) == tok.Bearer()+"\n")
	// Output:
	// proven: true
	// kb-1 delivered new secret
	// the file holds the bearer: true
}
