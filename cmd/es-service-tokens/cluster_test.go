package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/estest"
	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sshdtest"
)

// scriptTB lets the sshd harness report through a running script.
type scriptTB struct{ ts *testscript.TestScript }

func (s scriptTB) Helper()                           {}
func (s scriptTB) Fatalf(format string, args ...any) { s.ts.Fatalf(format, args...) }
func (s scriptTB) Logf(format string, args ...any)   { s.ts.Logf(format, args...) }
func (s scriptTB) Cleanup(f func())                  { s.ts.Defer(f) }
func (s scriptTB) Skip(args ...any)                  { s.ts.Value("state").(*scriptState).t.Skip(args...) }
func (s scriptTB) TempDir() string {
	d, err := os.MkdirTemp(s.ts.Getenv("WORK"), "cluster-")
	s.ts.Check(err)
	return d
}

// clusterCmd is the script command
//
//	cluster [-user U] [-sudo] [-sftp-server P] [-readonly N] [-tmpfs N:BYTES] [-hung] [-owner O] [-group G] [-bastion] [-user-ca FILE] N
//
// It starts N real sshd nodes (es-1 ... es-N), writes cluster.yml in $WORK
// and sets NODEi_CONF (the host's view of node i's config directory),
// NODE_PATH (the file's path on the nodes), CLIENT_KEY and KNOWN_HOSTS.
func clusterCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! cluster")
	}
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	user := fs.String("user", "root", "login user")
	sudo := fs.Bool("sudo", false, "write through sudo sftp-server")
	readonly := fs.Int("readonly", 0, "node number with a read-only config dir")
	tmpfs := fs.String("tmpfs", "", "N:BYTES: node N gets a small tmpfs")
	hung := fs.Bool("hung", false, "add a node es-hung that accepts TCP and never answers")
	owner := fs.String("owner", "root", "owner to enforce")
	group := fs.String("group", "elasticsearch", "group to enforce")
	sftpServer := fs.String("sftp-server", "", "sftp_server for sudo")
	bastion := fs.Bool("bastion", false, "add a node named bastion that every node is reached through")
	userCA := fs.String("user-ca", "", "FILE: the nodes accept user certificates signed by the CA keys in FILE")
	ts.Check(fs.Parse(args))
	if fs.NArg() != 1 {
		ts.Fatalf("usage: cluster [options] N")
	}
	var n int
	fmt.Sscan(fs.Arg(0), &n)
	tmpfsNode, tmpfsBytes := 0, 0
	if *tmpfs != "" {
		fmt.Sscanf(*tmpfs, "%d:%d", &tmpfsNode, &tmpfsBytes)
	}
	var names []string
	for i := 1; i <= n; i++ {
		names = append(names, fmt.Sprintf("es-%d", i))
	}
	if *bastion {
		names = append(names, "bastion")
	}
	c := sshdtest.Start(scriptTB{ts}, sshdtest.Options{Names: names, Node: func(i int, o *sshdtest.NodeOptions) {
		o.ReadOnly = i+1 == *readonly
		if i+1 == tmpfsNode {
			o.TmpfsBytes = tmpfsBytes
		}
		if i == n {
			o.LogLevel = "DEBUG1" // logs each direct-tcpip channel it forwards
		}
		if *userCA != "" {
			o.TrustedUserCAKeys = ts.MkAbs(*userCA)
		}
	}})
	nodes := c.Nodes[:n]
	var b strings.Builder
	fmt.Fprintf(&b, "defaults:\n  user: %s\n  identity_file: %s\n  known_hosts: %s\n  path: %s\n  owner: %s\n  group: %s\n  mode: \"0660\"\n  connect_timeout: 5s\n",
		*user, c.ClientKeyFile, c.KnownHostsFile, c.Nodes[0].Path(), *owner, *group)
	if *sudo {
		b.WriteString("  sudo: true\n")
	}
	if *sftpServer != "" {
		fmt.Fprintf(&b, "  sftp_server: %s\n", *sftpServer)
	}
	if *bastion {
		bn := c.Nodes[n]
		fmt.Fprintf(&b, "  jump: root@%s\n", bn.Addr())
		ts.Setenv("BASTION_HOST", bn.Host)
		ts.Setenv("BASTION_PORT", fmt.Sprint(bn.Port))
	}
	b.WriteString("nodes:\n")
	for i, node := range nodes {
		fmt.Fprintf(&b, "  - name: %s\n    host: %s\n    port: %d\n", node.Name, node.Host, node.Port)
		if !c.Root {
			fmt.Fprintf(&b, "    path: %s\n", node.Path())
		}
		ts.Setenv(fmt.Sprintf("NODE%d_CONF", i+1), node.ConfDir)
		ts.Setenv(fmt.Sprintf("NODE%d_HOST", i+1), node.Host)
		ts.Setenv(fmt.Sprintf("NODE%d_PORT", i+1), fmt.Sprint(node.Port))
		ts.Setenv(fmt.Sprintf("NODE%d_HOSTKEY", i+1), node.HostKeyFile())
	}
	if *hung {
		addr := startHung(ts)
		fmt.Fprintf(&b, "  - name: es-hung\n    host: %s\n    port: %d\n", addr.IP, addr.Port)
	}
	fmt.Fprintf(&b, "groups:\n  first: [%s]\n", c.Nodes[0].Name)
	ts.Check(os.WriteFile(filepath.Join(ts.Getenv("WORK"), "cluster.yml"), []byte(b.String()), 0o644))
	ts.Setenv("NODE_PATH", c.Nodes[0].Path())
	ts.Setenv("CLIENT_KEY", c.ClientKeyFile)
	ts.Setenv("KNOWN_HOSTS", c.KnownHostsFile)
	ts.Value("state").(*scriptState).cluster = c
}

// scriptState is what one script's commands share.
type scriptState struct {
	t       testscript.T // the script's test, for Skip
	cluster *sshdtest.Cluster
	es      *estest.Cluster   // escluster
	stalls  map[string]func() // stall: node name -> detach strace
	// consumers are the consumer machines (consumers), secrets the
	// delivered secrets nosecret looks for (secret).
	consumers *sshdtest.Cluster
	secrets   []string
}

func clusterOf(ts *testscript.TestScript) *sshdtest.Cluster {
	c := ts.Value("state").(*scriptState).cluster
	if c == nil {
		ts.Fatalf("no cluster: run the cluster command first")
	}
	return c
}

// startHung listens on loopback, accepts, and never sends a byte: a node
// whose sshd is wedged.
func startHung(ts *testscript.TestScript) *net.TCPAddr {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	ts.Defer(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr)
}

// expandCmd is "expand IN OUT": OUT is IN with $VARIABLES replaced, for
// inventories and ssh_configs written in the script itself.
func expandCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: expand IN OUT")
	}
	in, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(os.Expand(string(in), ts.Getenv)), 0o644))
}

// nodeCmd is "node NAME stop|start|rotate-hostkey", or "node NAME
// host-cert CA_KEY [ssh-keygen options]": the node's host key certified by
// the CA (for its address unless -n says otherwise), the node restarted.
func nodeCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || (len(args) > 2) != (args[1] == "host-cert") {
		ts.Fatalf("usage: node NAME stop|start|rotate-hostkey|host-cert CA_KEY [ssh-keygen options]")
	}
	n := nodeNamed(ts, args[0])
	switch args[1] {
	case "stop":
		n.Stop()
	case "start":
		ts.Check(n.Start())
	case "rotate-hostkey":
		ts.Check(n.RotateHostKey())
	case "host-cert":
		ts.Check(n.CertifyHostKey(ts.MkAbs(args[2]), args[3:]...))
	default:
		ts.Fatalf("unknown node action %q", args[1])
	}
}

// nodeNamed is the cluster's node called name.
func nodeNamed(ts *testscript.TestScript, name string) *sshdtest.Node {
	for _, n := range clusterOf(ts).Nodes {
		if n.Name == name {
			return n
		}
	}
	ts.Fatalf("no node %s", name)
	return nil
}

// connectionsCmd is "connections N NODE...": each node's sshd accepted
// exactly N SSH connections (authenticated sessions, from its log) since
// the previous connections command about it, or since it started.
func connectionsCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: connections N NODE...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	for _, name := range args[1:] {
		total := strings.Count(nodeNamed(ts, name).Log(), "Accepted publickey for ")
		key := "CONNECTIONS_SEEN_" + strings.ReplaceAll(name, "-", "_")
		seen, _ := strconv.Atoi(ts.Getenv(key))
		ts.Setenv(key, strconv.Itoa(total))
		if got := total - seen; got != want {
			ts.Fatalf("%s accepted %d SSH connections, want %d", name, got, want)
		}
	}
}

// nodeLogCmd is "nodelog NAME": the node's sshd log becomes stdout, so
// that scripts can assert on what the server saw.
func nodeLogCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: nodelog NAME")
	}
	ts.Stdout().Write([]byte(nodeNamed(ts, args[0]).Log()))
}
