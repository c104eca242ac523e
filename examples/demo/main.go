// Command demo shows es-service-tokens on a real, local cluster: it starts
// three OpenSSH sshd "nodes" on loopback, each with its own
// /etc/elasticsearch, and a simulated Elasticsearch cluster over them;
// creates a token, pushes it, waits for the cluster to load it, shows every
// node's file and owner, verifies the token, checks for drift, and cleans up.
// The CLI steps run the binary; the last one uses the library (check.Run).
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
	run(t, "", "go", "build", "-o", bin, "./cmd/es-service-tokens")

	c, work := startCluster(t, dir)
	cli := func(args ...string) {
		fmt.Printf("\n$ es-service-tokens %s\n", strings.Join(args, " "))
		run(t, work, bin, args...)
	}
	step("creating a token: written locally, printed, pushed to every node, and confirmed by Elasticsearch")
	cli("-i", "cluster.yml", "create", "elastic/fleet-server", "demo-token", "--token-file", "demo.token")
	cli("-i", "cluster.yml", "nodes", "--limit", "es-1")

	step("each node's file, as the node sees it")
	showFiles(t, c)

	step("the token authenticates against the file, as Elasticsearch checks it, and against the cluster")
	verifyToken(t, bin, work)

	step("someone changes es-2 by hand; check finds it, push repairs it")
	if err := os.Chmod(c.Nodes[1].HostPath(), 0o644); err != nil {
		t.Fatalf("%v", err)
	}
	fmt.Printf("\n$ es-service-tokens -i cluster.yml check   # exits 1: drift\n")
	check := exec.Command(bin, "-i", "cluster.yml", "check")
	check.Dir, check.Stdout, check.Stderr = work, os.Stdout, os.Stderr
	check.Run()
	cli("-i", "cluster.yml", "push")
	cli("-i", "cluster.yml", "check")
	checkFromGo(t, work)

	step("stopping the nodes and removing everything the demo created")
}

// verifyToken runs verify with the inventory: the local file's verdict,
// then the cluster's (_authenticate).
func verifyToken(t *demoTB, bin, work string) {
	fmt.Printf("\n$ es-service-tokens -i cluster.yml verify < demo.token\n")
	verify := exec.Command(bin, "-i", "cluster.yml", "verify")
	verify.Dir, verify.Stdout, verify.Stderr = work, os.Stdout, os.Stderr
	tok, err := os.Open(filepath.Join(work, "demo.token"))
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer tok.Close()
	verify.Stdin = tok
	if err := verify.Run(); err != nil {
		t.Fatalf("verify: %v", err)
	}
}

// startCluster starts three sshd nodes and, over them, the simulated
// Elasticsearch cluster of internal/testkit/estest (no Elasticsearch can run here):
// node es-node-N loads what is really pushed to es-N, once a second
// (Elasticsearch's default is every 5 s). It writes cluster.yml into the
// returned work directory.
func startCluster(t *demoTB, dir string) (*sshdtest.Cluster, string) {
	step("starting three sshd nodes on loopback, each with its own /etc/elasticsearch, and a simulated Elasticsearch cluster over them")
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
		opts.Nodes = append(opts.Nodes, estest.NodeSpec{Name: esName, File: n.HostPath(), Reload: time.Second})
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
	fmt.Printf("  Elasticsearch (simulated)  %s\n", es.URL)
	fmt.Fprintf(&inv, "elasticsearch:\n  url: %s\n  ca: http_ca.crt\n  api_key_file: api_key\n", es.URL)
	writeFile(t, filepath.Join(work, "cluster.yml"), inv.String(), 0o644)
	fmt.Printf("\ncluster.yml:\n%s", indent(inv.String()))
	return c, work
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

func step(s string) { fmt.Printf("\n==> %s\n", s) }

func run(t *demoTB, dir, name string, args ...string) {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
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
