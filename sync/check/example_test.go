package check_test

import (
	"context"
	"fmt"
	"os"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/nodetest"
	"github.com/es-service-tokens/es-service-tokens/sync/check"
)

// Compare two nodes with the local file: one holds it, the other holds an
// older file without the newest token. Nothing is written.
func ExampleRun() {
	nodes := nodetest.Start("es-1", "es-2") // in-process SSH/SFTP nodes
	defer nodes.Close()
	local := nodetest.TokenFile("elastic/fleet-server/fleet-1", "elastic/fleet-server/fleet-2")
	os.WriteFile(nodes.Nodes[0].Path, local, 0o640)
	os.WriteFile(nodes.Nodes[1].Path, nodetest.TokenFile("elastic/fleet-server/fleet-1"), 0o640)

	rep, err := check.Run(context.Background(), check.Options{Data: local, Nodes: nodes.Nodes, Dialer: nodes.Dialer})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rep.Results {
		fmt.Println(r.Node, r.State)
		for _, d := range r.Differences {
			fmt.Println("  ", d.What, "missing on node:", d.MissingOnNode)
		}
	}
	fmt.Printf("%d in sync, %d drifted, exit code %d\n", rep.Summary.InSync, rep.Summary.Drifted, rep.Summary.ExitCode())
	// Output:
	// es-1 in-sync
	// es-2 drift
	//    content missing on node: [elastic/fleet-server/fleet-2]
	// 1 in sync, 1 drifted, exit code 1
}
