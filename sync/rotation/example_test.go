package rotation_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/estest"
	"github.com/es-service-tokens/es-service-tokens/internal/testkit/nodetest"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/sync/rotate"
	"github.com/es-service-tokens/es-service-tokens/sync/rotation"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// Rotate a token that no consumer in the inventory uses: the successor is
// created, pushed to both nodes, proven in Elasticsearch and handed over;
// once what used the old token has switched, the rotation is finished and
// the old token leaves every node.
func ExampleRun() {
	nodes := nodetest.Start("es-1", "es-2") // in-process SSH/SFTP nodes
	defer nodes.Close()
	var specs []estest.NodeSpec
	for _, n := range nodes.Nodes {
		n.ESNodeName = n.Name
		specs = append(specs, estest.NodeSpec{Name: n.Name, File: n.Path, Reload: 50 * time.Millisecond})
	}
	cluster, err := estest.Start(estest.Options{Nodes: specs, Username: "admin", Password: "secret"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Close()
	es, _ := elastic.New(elastic.Config{URLs: []string{cluster.URL}, CACert: cluster.CAPEM, Username: "admin", Password: "secret"})

	dir, _ := os.MkdirTemp("", "rotation-")
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "service_tokens")
	acct, _ := tokens.LookupAccount("elastic/fleet-server")
	tok, hash, _ := tokens.New(acct, "fleet-1", tokens.DefaultAlgorithm, rand.Reader)
	store.Update(file, func(f *tokens.File) error { f.Set(tok.QualifiedName(), hash); return nil })

	opts := rotation.Options{
		File:           file,
		Token:          tok.QualifiedName(),
		Push:           push.Options{Inventory: &inventory.Inventory{Nodes: nodes.Nodes}, Nodes: nodes.Nodes, Dialer: nodes.Dialer},
		ES:             es,
		ConfirmTimeout: 10 * time.Second,
		Request:        rotate.Request{Algorithm: tokens.DefaultAlgorithm, Random: rand.Reader, Creator: "admin@example"},
		Keep:           rotate.StateDir{Dir: filepath.Join(dir, "state"), File: file},
		HandOver:       func(token, bearer string) error { fmt.Println("handed over a bearer of", len(token) > 0); return nil },
		Step:           func(rep rotate.Report, _ rotation.Detail) { fmt.Println(" ", rep.Steps[len(rep.Steps)-1].Step) },
		Done:           func(rep rotate.Report, err error) { fmt.Println(rep.Outcome, err) },
	}
	for _, mode := range []rotate.Mode{rotate.Rotate, rotate.Finish} {
		opts.Mode = mode
		rots, _, err := rotation.Pick(opts)
		if err != nil {
			fmt.Println(err)
			return
		}
		if _, err := rotation.Run(context.Background(), opts, rots); err != nil {
			fmt.Println(err)
			return
		}
	}
	now, _ := store.Load(file)
	fmt.Println(len(now.File.Keys()), "token, not", tok.QualifiedName(), "any more:", now.File.Keys()[0] != tok.QualifiedName())
	// Output:
	//   create
	//   publish
	//   prove
	// handed over a bearer of true
	//   hand-over
	// pending <nil>
	//   retire
	//   publish
	//   confirm
	// rotated <nil>
	// 1 token, not elastic/fleet-server/fleet-1 any more: true
}
