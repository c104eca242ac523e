package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/estest"
)

// esClusterCmd is the script command
//
//	escluster [-reload DURATION] [-node es-N=DURATION|never]... [-extra NAME] [-nodelocal] [-forbidden] [-no-config]
//
// It starts the HTTPS fake Elasticsearch cluster of internal/testkit/estest over
// the sshd nodes of the cluster command: simulated node es-node-N reads
// what was really pushed to node es-N (its file on the host), reloading
// every -reload (default 200ms) unless -node overrides it. Each node's
// elasticsearch.yml gets node.name: es-node-N, so the tool must read it to
// map inventory names to Elasticsearch names. -extra adds a node that is
// in the cluster but not in the inventory. Unless -no-config, cluster.yml
// gets an elasticsearch: section (url, ca, api_key_file). It sets ES_URL,
// ES_CA, ES_FINGERPRINT, ES_KEY_FILE and ES_API_KEY_VALUE. Every simulated
// node also listens on its sshd node's address at one port, ES_NODE_PORT,
// so that https://{host}:$ES_NODE_PORT reaches each node's own listener.
func esClusterCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! escluster")
	}
	fs := flag.NewFlagSet("escluster", flag.ContinueOnError)
	reload := fs.Duration("reload", 200*time.Millisecond, "reload interval of every node")
	var perNode, extra []string
	fs.Func("node", "es-N=DURATION|never", func(s string) error { perNode = append(perNode, s); return nil })
	fs.Func("extra", "a node outside the inventory", func(s string) error { extra = append(extra, s); return nil })
	nodeLocal := fs.Bool("nodelocal", false, "7.13-7.14 answers")
	forbidden := fs.Bool("forbidden", false, "403 to valid credentials")
	noConfig := fs.Bool("no-config", false, "leave cluster.yml alone")
	nodeURL := fs.Bool("node-url", false, "add node_url: https://{host}:ES_NODE_PORT to the elasticsearch section")
	ts.Check(fs.Parse(args))
	c := clusterOf(ts)
	key := estest.EncodeAPIKey("h9", "s3cret")
	opts := estest.Options{NodeLocal: *nodeLocal, Forbidden: *forbidden, APIKey: key, Username: "admin", Password: "adminpw"}
	for _, n := range c.Nodes {
		if !strings.HasPrefix(n.Name, "es-") || n.Name == "es-hung" {
			continue
		}
		esName := "es-node-" + strings.TrimPrefix(n.Name, "es-")
		ts.Check(os.WriteFile(filepath.Join(n.ConfDir, "elasticsearch.yml"), []byte("cluster.name: estest\nnode.name: "+esName+"\n"), 0o644))
		r := *reload
		for _, p := range perNode {
			name, v, _ := strings.Cut(p, "=")
			if name == n.Name {
				if v == "never" {
					r = 0
				} else {
					d, err := time.ParseDuration(v)
					ts.Check(err)
					r = d
				}
			}
		}
		opts.Nodes = append(opts.Nodes, estest.NodeSpec{Name: esName, File: n.HostPath(), Reload: r, Host: n.Host})
	}
	for _, e := range extra {
		opts.Nodes = append(opts.Nodes, estest.NodeSpec{Name: e})
	}
	es, err := estest.Start(opts)
	ts.Check(err)
	ts.Defer(es.Close)
	work := ts.Getenv("WORK")
	ca := filepath.Join(work, "es-ca.pem")
	ts.Check(os.WriteFile(ca, es.CAPEM, 0o644))
	keyFile := filepath.Join(work, "es-api-key")
	ts.Check(os.WriteFile(keyFile, []byte(key+"\n"), 0o600))
	ts.Setenv("ES_URL", es.URL)
	ts.Setenv("ES_CA", ca)
	ts.Setenv("ES_FINGERPRINT", es.Fingerprint)
	ts.Setenv("ES_KEY_FILE", keyFile)
	ts.Setenv("ES_API_KEY_VALUE", key)
	ts.Setenv("ES_NODE_PORT", fmt.Sprint(es.NodePort()))
	if !*noConfig {
		inv := filepath.Join(work, "cluster.yml")
		b, err := os.ReadFile(inv)
		ts.Check(err)
		b = append(b, fmt.Sprintf("elasticsearch:\n  url: %s\n  ca: %s\n  api_key_file: %s\n  confirm_timeout: 30s\n", es.URL, ca, keyFile)...)
		if *nodeURL {
			b = append(b, fmt.Sprintf("  node_url: https://{host}:%d\n", es.NodePort())...)
		}
		ts.Check(os.WriteFile(inv, b, 0o644))
	}
	writeHealth(ts, es, ca)
	ts.Value("state").(*scriptState).es = es
}

// writeHealth writes $WORK/es-health FILE [KEY], a consumer's health check:
// it authenticates the secret in FILE (or KEY's value there) on every
// node's own address and exits 0 only when each accepts it, so a consumer
// holding the wrong token fails it. The secret goes in a header file,
// never on curl's command line.
func writeHealth(ts *testscript.TestScript, es *estest.Cluster, ca string) {
	var urls []string
	for _, n := range clusterOf(ts).Nodes {
		if u := es.NodeURL("es-node-" + strings.TrimPrefix(n.Name, "es-")); u != "" {
			urls = append(urls, u)
		}
	}
	script := fmt.Sprintf(`#!/bin/sh
if [ -n "$2" ]; then tok=$(sed -n "s/^$2=//p" "$1" | tail -n 1); else tok=$(cat "$1"); fi
[ -n "$tok" ] || { echo "no secret in $1" >&2; exit 1; }
hdr=$(mktemp) && trap 'rm -f "$hdr"' EXIT
printf 'Authorization: Bearer %%s
' "$tok" > "$hdr"
for url in %s; do
  curl -fsS -o /dev/null --cacert %s -H @"$hdr" "$url/_security/_authenticate" || exit 1
done
`, strings.Join(urls, " "), ca)
	ts.Check(os.WriteFile(filepath.Join(ts.Getenv("WORK"), "es-health"), []byte(script), 0o755))
}

// esCmd is "es status CODE | es delay DURATION | es requests | es loaded
// NAME | es stale NAME TOKEN | es stop NAME | es freeze|thaw NAME | es
// node-requests NAME": fault injection into the fake cluster, and what it
// served. stale makes node NAME keep its hash of TOKEN (a node restored
// from an old backup); stop closes node NAME's own HTTPS listener; freeze
// stops node NAME from reloading its file until thaw.
func esCmd(ts *testscript.TestScript, neg bool, args []string) {
	es := ts.Value("state").(*scriptState).es
	if es == nil || len(args) == 0 {
		ts.Fatalf("usage: es status CODE|delay D|requests|loaded NAME (after escluster)")
	}
	switch args[0] {
	case "status":
		code, err := strconv.Atoi(args[1])
		ts.Check(err)
		es.SetStatus(code)
	case "delay":
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		es.SetDelay(d)
	case "requests":
		fmt.Fprintf(ts.Stdout(), "%d\n", es.Requests())
	case "loaded":
		fmt.Fprintf(ts.Stdout(), "%s\n", strings.Join(es.Loaded(args[1]), "\n"))
	case "stale":
		ts.Check(es.Stale(args[1], args[2]))
	case "stop":
		es.StopNode(args[1])
	case "freeze", "thaw":
		ts.Check(es.Freeze(args[1], args[0] == "freeze"))
	case "node-requests":
		fmt.Fprintf(ts.Stdout(), "%d\n", es.NodeRequests(args[1]))
	default:
		ts.Fatalf("unknown es action %q", args[0])
	}
}
