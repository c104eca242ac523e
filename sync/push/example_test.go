package push_test

import (
	"context"
	"fmt"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/nodetest"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
)

// Push a local file to two nodes, then again: the second run finds every
// node right and writes nothing.
func ExampleRun() {
	nodes := nodetest.Start("es-1", "es-2") // in-process SSH/SFTP nodes
	defer nodes.Close()

	opts := push.Options{
		Request: push.Request{Data: nodetest.TokenFile("elastic/fleet-server/fleet-1")},
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
