package push_test

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/nodetest"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// A service_tokens file with one new token, as create writes it.
func newTokenFile() []byte {
	acct, _ := tokens.LookupAccount("elastic/fleet-server")
	tok, hash, err := tokens.New(acct, "fleet-1", tokens.DefaultAlgorithm, rand.Reader)
	if err != nil {
		panic(err)
	}
	f := tokens.NewFile()
	f.Set(tok.QualifiedName(), hash)
	data, err := f.Marshal()
	if err != nil {
		panic(err)
	}
	return data
}

// Push a local file to two nodes, then again: the second run finds every
// node right and writes nothing.
func ExampleRun() {
	nodes := nodetest.Start("es-1", "es-2") // in-process SSH/SFTP nodes
	defer nodes.Close()

	opts := push.Options{
		Request: push.Request{Data: newTokenFile()},
		Nodes:   nodes.Nodes,
		Dialer:  nodes.Dialer,
	}
	for range 2 {
		rep, err := push.Run(context.Background(), opts)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, r := range rep.Results {
			if r.Changes != nil {
				fmt.Println(r.Node, r.Status, "adds", r.Changes.Added)
			} else {
				fmt.Println(r.Node, r.Status)
			}
		}
		fmt.Println(rep.Outcome(), rep.OK())
	}
	// Output:
	// es-1 updated adds [elastic/fleet-server/fleet-1]
	// es-2 updated adds [elastic/fleet-server/fleet-1]
	// 2 updated true
	// es-1 unchanged
	// es-2 unchanged
	// 2 unchanged true
}
