package pull_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/nodetest"
	"github.com/es-service-tokens/es-service-tokens/sync/pull"
)

// Recover a lost local file from a node: its file is copied to a new
// local file, which is read back, and which is never an existing one.
func ExampleRun() {
	nodes := nodetest.Start("es-1") // an in-process SSH/SFTP node
	defer nodes.Close()
	os.WriteFile(nodes.Nodes[0].Path, nodetest.TokenFile("elastic/kibana/kibana-1"), 0o640)

	out := filepath.Join(os.TempDir(), fmt.Sprintf("recovered-%d", os.Getpid()))
	defer os.Remove(out)
	res, err := pull.Run(context.Background(), pull.Options{Node: nodes.Nodes[0], Out: out, Dialer: nodes.Dialer})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Tokens, "token, from", filepath.Base(res.Path))

	_, err = pull.Run(context.Background(), pull.Options{Node: nodes.Nodes[0], Out: out, Dialer: nodes.Dialer})
	fmt.Println(err != nil)
	// Output:
	// 1 token, from service_tokens
	// true
}
