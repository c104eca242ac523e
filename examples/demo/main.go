// Command demo shows es-service-tokens on a real, local cluster: it starts
// three OpenSSH sshd "nodes" on loopback, each with its own
// /etc/elasticsearch, a simulated Elasticsearch cluster over them, and a
// fourth sshd machine playing a Kibana host. It creates a token, pushes
// it, waits for the cluster to load it and for every node to accept its
// secret, shows every node's file and owner, verifies the token, finds and
// repairs drift, recovers a lost local copy, delivers a token to Kibana
// and rotates it, lists the tokens' metadata, judges their age, and cleans
// up. The CLI steps run the binary; the last one uses the library
// (check.Run).
//
// Run it as root through examples/demo.sh, which installs what it needs.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/estest"
	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sshdtest"
)

// demoTB adapts the test harness to a program: failures end the demo.
type demoTB struct {
	cleanups []func()
	dir      string
}

func (d *demoTB) Helper()                         {}
func (d *demoTB) Logf(format string, args ...any) { fmt.Printf(format+"\n", args...) }
func (d *demoTB) Cleanup(f func())                { d.cleanups = append(d.cleanups, f) }
func (d *demoTB) Fatalf(format string, args ...any) {
	d.finish()
	fmt.Fprintf(os.Stderr, "demo: "+format+"\n", args...)
	os.Exit(1)
}
func (d *demoTB) TempDir() string {
	dir, err := os.MkdirTemp(d.dir, "node-")
	if err != nil {
		d.Fatalf("%v", err)
	}
	return dir
}

func (d *demoTB) finish() {
	for i := len(d.cleanups) - 1; i >= 0; i-- {
		d.cleanups[i]()
	}
	d.cleanups = nil
}

func main() {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "demo: run as root (sudo ./examples/demo.sh): each node gets its own /etc/elasticsearch in a mount namespace")
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "es-service-tokens-demo-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	t := &demoTB{dir: dir}
	t.Cleanup(func() { os.RemoveAll(dir) })
	defer t.finish()

	bin := filepath.Join(dir, "es-service-tokens")
	step("building es-service-tokens")
	run(t, "", 0, "go", "build", "-o", bin, "./cmd/es-service-tokens")

	c, work := startCluster(t, dir, bin)
	cli := func(code int, args ...string) {
		fmt.Printf("\n$ es-service-tokens %s\n", shellJoin(args))
		run(t, work, code, bin, args...)
	}
	step("creating a token: written locally, pushed to every node, confirmed by Elasticsearch, its secret accepted by each node")
	cli(0, "-i", "cluster.yml", "create", "elastic/fleet-server", "demo-token", "--token-file", "demo.token", "--comment", "the demo's Fleet Server")
	cli(0, "-i", "cluster.yml", "nodes", "--limit", "es-1")

	step("each node's file, as the node sees it")
	showFiles(t, c)

	step("the token authenticates against the file, as Elasticsearch checks it, against the cluster, and on every node's own address")
	verifyToken(t, bin, work)

	step("someone changes es-2 by hand; check finds it (exit 1), push repairs it")
	if err := os.Chmod(c.Nodes[1].HostPath(), 0o644); err != nil {
		t.Fatalf("%v", err)
	}
	cli(1, "-i", "cluster.yml", "check")
	cli(0, "-i", "cluster.yml", "push")
	cli(0, "-i", "cluster.yml", "check")

	step("the local copy is lost: pull a node's file (verified), and it is everyone's again")
	if err := os.Rename(filepath.Join(work, "service_tokens"), filepath.Join(work, "service_tokens.lost")); err != nil {
		t.Fatalf("%v", err)
	}
	cli(0, "-i", "cluster.yml", "pull", "es-1", "--out", "service_tokens")
	cli(0, "-i", "cluster.yml", "check")

	step("a token for Kibana, handed to its consumer (the Kibana keystore on kb-1) instead of printed")
	cli(0, "-i", "cluster.yml", "create", "elastic/kibana", "kibana-1", "--deliver", "--comment", "Kibana on kb-1")
	step("rotating it without an outage: a successor proven on every node, delivered, and only then the old token removed")
	cli(0, "-i", "cluster.yml", "rotate", "elastic/kibana", "kibana-1")
	cli(0, "-i", "cluster.yml", "list", "--long")
	step("a maximum age (max_token_age in the inventory, or --max-age): with one of a second, every token is too old (exit 1)")
	cli(1, "-i", "cluster.yml", "check", "--max-age", "1")
	checkFromGo(t, work)

	step("stopping the nodes and removing everything the demo created")
}

// verifyToken runs verify with the inventory: the local file's verdict,
// then the cluster's (_authenticate), then each node's own address.
func verifyToken(t *demoTB, bin, work string) {
	for _, extra := range [][]string{nil, {"--all-nodes"}} {
		args := append([]string{"-i", "cluster.yml", "verify"}, extra...)
		fmt.Printf("\n$ es-service-tokens %s < demo.token\n", strings.Join(args, " "))
		verify := exec.Command(bin, args...)
		verify.Dir, verify.Stdout, verify.Stderr = work, os.Stdout, os.Stderr
		tok, err := os.Open(filepath.Join(work, "demo.token"))
		if err != nil {
			t.Fatalf("%v", err)
		}
		verify.Stdin = tok
		err = verify.Run()
		tok.Close()
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
	}
}

// startCluster starts three sshd nodes and, over them, the simulated
// Elasticsearch cluster of internal/testkit/estest (no Elasticsearch can run here):
// node es-node-N loads what is really pushed to es-N, once a second
// (Elasticsearch's default is every 5 s), and answers on es-N's own
// address too. A fourth sshd machine, kb-1, plays a Kibana host. It
// writes cluster.yml into the returned work directory.
func startCluster(t *demoTB, dir, bin string) (*sshdtest.Cluster, string) {
	step("starting three sshd nodes on loopback, each with its own /etc/elasticsearch, a simulated Elasticsearch cluster over them, and a Kibana host")
	c := sshdtest.Start(t, sshdtest.Options{Nodes: 3})
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatalf("%v", err)
	}
	key := estest.EncodeAPIKey("demo", "demo-secret")
	opts := estest.Options{APIKey: key}
	var inv strings.Builder
	fmt.Fprintf(&inv, "local_file: service_tokens\ndefaults:\n  user: root\n  identity_file: %s\n  known_hosts: %s\n  owner: root\n  group: elasticsearch\n  mode: \"0660\"\nnodes:\n",
		c.ClientKeyFile, c.KnownHostsFile)
	for i, n := range c.Nodes {
		esName := fmt.Sprintf("es-node-%d", i+1)
		// The tool reads node.name from here to match es-N with es-node-N.
		writeFile(t, filepath.Join(n.ConfDir, "elasticsearch.yml"), "node.name: "+esName+"\n", 0o644)
		opts.Nodes = append(opts.Nodes, estest.NodeSpec{Name: esName, File: n.HostPath(), Reload: time.Second, Host: n.Host})
		fmt.Printf("  %s  %s  (its /etc/elasticsearch is %s on this host)\n", n.Name, n.Addr(), n.ConfDir)
		fmt.Fprintf(&inv, "  - name: %s\n    host: %s\n    port: %d\n", n.Name, n.Host, n.Port)
	}
	es, err := estest.Start(opts)
	if err != nil {
		t.Fatalf("simulated cluster: %v", err)
	}
	t.Cleanup(es.Close)
	writeFile(t, filepath.Join(work, "http_ca.crt"), string(es.CAPEM), 0o644)
	writeFile(t, filepath.Join(work, "api_key"), key+"\n", 0o600)
	fmt.Printf("  Elasticsearch (simulated)  %s, and each node at https://its-address:%d\n", es.URL, es.NodePort())
	fmt.Fprintf(&inv, "elasticsearch:\n  url: %s\n  ca: http_ca.crt\n  api_key_file: api_key\n  node_url: https://{host}:%d\n", es.URL, es.NodePort())
	inv.WriteString(kibanaHost(t, dir, bin, filepath.Join(work, "cluster.yml")))
	writeFile(t, filepath.Join(work, "cluster.yml"), inv.String(), 0o644)
	fmt.Printf("\ncluster.yml:\n%s", indent(inv.String()))
	return c, work
}

// kibanaHost starts kb-1, an sshd machine with a stand-in kibana-keystore
// (it keeps what it reads on stdin), and returns the inventory's
// consumers: section for it. Its health check is the tool itself: the
// Kibana is healthy when every node accepts the secret its keystore holds.
func kibanaHost(t *demoTB, dir, bin, inventory string) string {
	kb := sshdtest.Start(t, sshdtest.Options{Nodes: 1, NamePrefix: "kb-"})
	n, home := kb.Nodes[0], filepath.Join(dir, "kb-1")
	keystore := filepath.Join(home, "kibana.keystore")
	if err := os.MkdirAll(filepath.Join(home, "bin"), 0o755); err != nil {
		t.Fatalf("%v", err)
	}
	writeFile(t, filepath.Join(home, "bin", "kibana-keystore"), sshdtest.KibanaKeystore, 0o755)
	writeFile(t, keystore, "", 0o600)
	writeFile(t, filepath.Join(home, "bin", "health"), fmt.Sprintf("#!/bin/sh\nsed -n 's/^elasticsearch.serviceAccountToken=//p' %s | %s -s -i %s verify --all-nodes\n",
		keystore, bin, inventory), 0o755)
	fmt.Printf("  %s  %s  (a Kibana host: kibana-keystore is %s/bin/kibana-keystore)\n", n.Name, n.Addr(), home)
	return fmt.Sprintf("consumers:\n  - name: kibana\n    host: %s\n    port: %d\n    identity_file: %s\n    known_hosts: %s\n"+
		"    token: elastic/kibana/kibana-1\n    kibana_keystore: %s/bin/kibana-keystore\n    health: %s/bin/health\n",
		n.Host, n.Port, kb.ClientKeyFile, kb.KnownHostsFile, home, home)
}

// showFiles prints every node's file with its mode and owner, hashes cut.
func showFiles(t *demoTB, c *sshdtest.Cluster) {
	for _, n := range c.Nodes {
		fi, err := os.Stat(n.HostPath())
		if err != nil {
			t.Fatalf("%s: %v", n.Name, err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		data, _ := os.ReadFile(n.HostPath())
		owner, group := fmt.Sprint(st.Uid), fmt.Sprint(st.Gid)
		if u, err := user.LookupId(owner); err == nil {
			owner = u.Username
		}
		if g, err := user.LookupGroupId(group); err == nil {
			group = g.Name
		}
		fmt.Printf("%s:%s  %s %s:%s\n%s", n.Name, n.Path(), fi.Mode().Perm(), owner, group, indent(redact(string(data))))
	}
}

func writeFile(t *demoTB, path, content string, mode os.FileMode) {
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatalf("%v", err)
	}
}

// shellJoin shows args as a shell line: a word with a space is quoted.
func shellJoin(args []string) string {
	var out []string
	for _, a := range args {
		if strings.ContainsAny(a, " '") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

func step(s string) { fmt.Printf("\n==> %s\n", s) }

// run runs name, which must exit with code.
func run(t *demoTB, dir string, code int, name string, args ...string) {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, os.Stdout, os.Stderr
	err := cmd.Run()
	if got := cmd.ProcessState.ExitCode(); err != nil && got != code || err == nil && code != 0 {
		t.Fatalf("%s %s: exit %d (want %d): %v", name, strings.Join(args, " "), got, code, err)
	}
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString("    " + l)
		}
	}
	return b.String()
}

// redact shortens hashes: a demo has no reason to print them in full.
func redact(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && len(v) > 24 {
			l = k + ":" + v[:24] + "..."
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
