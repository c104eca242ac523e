package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/check"
	"github.com/es-service-tokens/es-service-tokens/sync/elastic"
	"github.com/es-service-tokens/es-service-tokens/sync/hostkeys"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
)

// checkFromGo is the library where the demo shows the library: what
// `es-service-tokens -i cluster.yml check` does, from a Go program. Load
// the inventory, prepare the keys, check.Run; the report is values, not
// text.
func checkFromGo(t *demoTB, work string) {
	step("the same check from a Go program: inventory.Load, then check.Run")
	home, _ := os.UserHomeDir()
	inv, err := inventory.Load(filepath.Join(work, "cluster.yml"), inventory.Options{Home: home, User: "root"})
	if err != nil {
		t.Fatalf("%v", err)
	}
	auth := &sshconn.Auth{Home: home}
	defer auth.Close()
	for _, n := range inv.Nodes {
		if err := auth.Prepare([]inventory.Endpoint{n.Endpoint}); err != nil {
			t.Fatalf("%s: %v", n.Name, err)
		}
	}
	dialer := &sshconn.Dialer{HostKeys: &hostkeys.Checker{}, Auth: auth}
	defer dialer.Close()
	cfg, err := elastic.Resolve(elastic.Sources{Inventory: inv.Elasticsearch, Getenv: os.Getenv})
	if err != nil {
		t.Fatalf("%v", err)
	}
	es, err := elastic.New(cfg)
	if err != nil {
		t.Fatalf("%v", err)
	}
	data, err := os.ReadFile(inv.LocalFile)
	if err != nil {
		t.Fatalf("%v", err)
	}
	rep, err := check.Run(context.Background(), check.Options{Data: data, Inventory: inv, Dialer: dialer, ES: es, ConfirmTimeout: cfg.ConfirmTimeout})
	if err != nil {
		t.Fatalf("%v", err)
	}
	for _, r := range rep.Results {
		fmt.Printf("  %s  %s, %d differences\n", r.Node, r.State, len(r.Differences))
	}
	if rep.Coverage != nil {
		fmt.Printf("  elasticsearch: %d nodes asked what they loaded, drift: %v\n", len(rep.Coverage.Nodes), rep.Coverage.Drift)
	}
	fmt.Printf("  exit code as the CLI's: %d\n", rep.Summary.ExitCode())
}
