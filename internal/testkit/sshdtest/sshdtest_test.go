package sshdtest

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func dial(t *testing.T, c *Cluster, n *Node, user string) (*ssh.Client, error) {
	t.Helper()
	cb, err := knownhosts.New(c.KnownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	return ssh.Dial("tcp", n.Addr(), &ssh.ClientConfig{
		User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(c.ClientKey)}, HostKeyCallback: cb,
	})
}

func run(t *testing.T, cl *ssh.Client, cmd string) string {
	t.Helper()
	s, err := cl.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Output(cmd)
	if err != nil {
		t.Fatalf("%s: %v: %s", cmd, err, out)
	}
	return string(out)
}

// Each node sees its own /etc/elasticsearch, and the host sees it in ConfDir.
func TestNodesHavePrivateConfigDirs(t *testing.T) {
	c := Start(t, Options{Nodes: 3})
	for i, n := range c.Nodes {
		os.WriteFile(filepath.Join(n.ConfDir, "marker"), []byte(n.Name), 0o644)
		_ = i
	}
	for _, n := range c.Nodes {
		cl, err := dial(t, c, n, "root")
		if err != nil {
			t.Fatalf("%s: %v\n%s", n.Name, err, n.Log())
		}
		if got := run(t, cl, "cat "+filepath.Join(filepath.Dir(n.Path()), "marker")); got != n.Name {
			t.Errorf("%s sees marker %q", n.Name, got)
		}
		cl.Close()
	}
}

func TestDeployUserHasSudoForSFTPServer(t *testing.T) {
	c := Start(t, Options{Nodes: 1})
	if !c.Root {
		t.Skip("the deploy user exists only in root mode")
	}
	cl, err := dial(t, c, c.Nodes[0], DeployUser)
	if err != nil {
		t.Fatalf("%v\n%s", err, c.Nodes[0].Log())
	}
	defer cl.Close()
	if got := run(t, cl, "id -un; sudo -n -l "+SFTPServer); !strings.HasPrefix(got, DeployUser+"\n"+SFTPServer) {
		t.Errorf("deploy user: %q", got)
	}
}

func TestStopRestartAndRotate(t *testing.T) {
	c := Start(t, Options{Nodes: 1})
	n := c.Nodes[0]
	n.Stop()
	if _, err := dial(t, c, n, "root"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("stopped node: %v", err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	cl, err := dial(t, c, n, "root")
	if err != nil {
		t.Fatalf("restarted node: %v", err)
	}
	cl.Close()
	if err := n.RotateHostKey(); err != nil {
		t.Fatal(err)
	}
	var ke *knownhosts.KeyError
	if _, err := dial(t, c, n, "root"); err == nil || !strings.Contains(err.Error(), "key mismatch") {
		t.Fatalf("rotated key accepted: %v (%T)", err, ke)
	}
}

// A cluster of thousands of nodes gets one loopback address per node,
// none a network or broadcast address, from any base.
func TestLoopbackAddrsForThousandsOfNodes(t *testing.T) {
	for _, base := range [][2]byte{{2, 1}, {251, 250}, {100, 255}} {
		seen := map[string]bool{}
		for i := 0; i < 10000; i++ {
			a := loopbackAddr(base, i)
			ip := net.ParseIP(a).To4()
			if ip == nil || ip[0] != 127 || ip[3] == 0 || ip[3] == 255 {
				t.Fatalf("base %v, node %d: %s", base, i, a)
			}
			if seen[a] {
				t.Fatalf("base %v, node %d: %s given twice", base, i, a)
			}
			seen[a] = true
		}
	}
}

// With StockRootHome, root's sessions on the node start from Debian's
// stock files, whatever this machine's root has.
func TestStockRootHome(t *testing.T) {
	c := Start(t, Options{Nodes: 2, Node: func(i int, o *NodeOptions) { o.StockRootHome = i == 0 }})
	if !c.Root {
		t.Skip("a node's own root home needs root")
	}
	for i, n := range c.Nodes {
		cl, err := dial(t, c, n, "root")
		if err != nil {
			t.Fatalf("%s: %v\n%s", n.Name, err, n.Log())
		}
		got := run(t, cl, "cmp -s /root/.bashrc /usr/share/base-files/dot.bashrc && echo stock || echo own")
		cl.Close()
		if want := map[bool]string{true: "stock\n", false: "own\n"}[i == 0]; got != want && (i == 0 || !sameFile("/root/.bashrc", "/usr/share/base-files/dot.bashrc")) {
			t.Errorf("%s (StockRootHome %v): root's .bashrc is %q", n.Name, i == 0, got)
		}
	}
}

func sameFile(a, b string) bool {
	x, errA := os.ReadFile(a)
	y, errB := os.ReadFile(b)
	return errA == nil && errB == nil && string(x) == string(y)
}
