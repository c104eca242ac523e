package change_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/nodetest"
	"github.com/es-service-tokens/es-service-tokens/sync/change"
	"github.com/es-service-tokens/es-service-tokens/sync/push"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// Create a token in the local file and see the change through: both
// nodes take it. Then another create, over nodes whose file someone else
// wrote meanwhile: every node refuses it, so it is taken back out of the
// local file, which is as it was.
func ExampleRun() {
	nodes := nodetest.Start("es-1", "es-2")
	defer nodes.Close()
	dir, _ := os.MkdirTemp("", "change-")
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "service_tokens")
	opts := change.Options{File: file, Push: push.Options{Nodes: nodes.Nodes, Dialer: nodes.Dialer}}

	create := func(name string) {
		acct, _ := tokens.LookupAccount("elastic/fleet-server")
		tok, hash, _ := tokens.New(acct, name, tokens.DefaultAlgorithm, rand.Reader)
		ch, _ := store.Update(file, func(f *tokens.File) error { f.Set(tok.QualifiedName(), hash); return nil })
		opts.Change, opts.Created = ch, &tok
		rep, err := change.Run(context.Background(), opts)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(name+":", rep.Push.Outcome(), "| taken back:", rep.Undone != nil, "| done:", rep.OK())
	}
	create("f1")
	for _, n := range nodes.Nodes {
		os.WriteFile(n.Path, nodetest.TokenFile("elastic/fleet-server/theirs"), 0o640)
	}
	create("f2")
	now, _ := store.Load(file)
	fmt.Println("local file:", now.File.Keys())
	// Output:
	// f1: 2 updated | taken back: false | done: true
	// f2: 2 conflict | taken back: true | done: false
	// local file: [elastic/fleet-server/f1]
}
