package sshconn

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sshdtest"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/hostkeys"
)

// BenchmarkDial measures one connection and login to a real sshd node,
// from a fresh Dialer each time (so a bastion is logged in to every time
// too): direct, through a bastion (ProxyJump), and through ProxyCommands
// (nc, and ssh -W through the same bastion); and through a bastion already
// connected, as every node after the first of a run is.
//
//	go test -run '^$' -bench Dial -benchtime 50x ./sync/sshconn
func BenchmarkDial(b *testing.B) {
	c := sshdtest.Start(b, sshdtest.Options{Names: []string{"es-1", "bastion"}})
	node, bastion := c.Nodes[0], c.Nodes[1]
	sshConfig := filepath.Join(b.TempDir(), "bastion_config")
	cfg := fmt.Sprintf("Host bastion\n  HostName %s\n  Port %d\n  User %s\n  IdentityFile %s\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n  BatchMode yes\n",
		bastion.Host, bastion.Port, loginUser(c), c.ClientKeyFile, c.KnownHostsFile)
	if err := os.WriteFile(sshConfig, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	ep := func(n *sshdtest.Node) inventory.Endpoint {
		return inventory.Endpoint{Host: n.Host, Port: n.Port, User: loginUser(c), IdentityFiles: []string{c.ClientKeyFile},
			IdentitiesOnly: true, KnownHostsFiles: []string{c.KnownHostsFile}, HostKeyCheck: inventory.HostKeyStrict, ConnectTimeout: 10 * time.Second}
	}
	direct := &inventory.Node{Name: "es-1", Endpoint: ep(node)}
	jump := &inventory.Node{Name: "es-1", Endpoint: ep(node), Jump: []inventory.Endpoint{ep(bastion)}}
	withProxy := func(cmd string) *inventory.Node {
		n := &inventory.Node{Name: "es-1", Endpoint: ep(node)}
		n.ProxyCommand = cmd
		return n
	}
	cases := []struct {
		name string
		node *inventory.Node
		need string
	}{
		{"direct", direct, ""},
		{"ProxyJump", jump, ""},
		{"ProxyCommand=nc", withProxy(fmt.Sprintf("nc %s %d", node.Host, node.Port)), "nc"},
		{"ProxyCommand=ssh-W", withProxy(fmt.Sprintf("ssh -F %s -W %s:%d bastion", sshConfig, node.Host, node.Port)), "ssh"},
	}
	// A run connects to a bastion once for all the nodes behind it: the
	// cost per node after the first.
	b.Run("ProxyJump,bastion-shared", func(b *testing.B) {
		d := &Dialer{HostKeys: &hostkeys.Checker{}, Auth: &Auth{Home: b.TempDir()}}
		defer d.Close()
		for b.Loop() {
			client, err := d.Dial(context.Background(), jump)
			if err != nil {
				b.Fatal(err)
			}
			client.Close()
		}
	})
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			if _, err := exec.LookPath(bc.need); bc.need != "" && err != nil {
				b.Skipf("%s is not installed", bc.need)
			}
			for b.Loop() {
				d := &Dialer{HostKeys: &hostkeys.Checker{}, Auth: &Auth{Home: b.TempDir()}}
				client, err := d.Dial(context.Background(), bc.node)
				if err != nil {
					b.Fatal(err)
				}
				client.Close()
				d.Close()
			}
		})
	}
}

// loginUser is the user the cluster lets in.
func loginUser(c *sshdtest.Cluster) string {
	if c.Root {
		return "root"
	}
	return os.Getenv("USER")
}
