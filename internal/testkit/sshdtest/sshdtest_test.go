package sshdtest

import (
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
