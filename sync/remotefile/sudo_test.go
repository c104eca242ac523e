package remotefile

import (
	"context"
	"os"
	"path"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sshdtest"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/hostkeys"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
)

// Through sudo, a file this tool creates on a real node is 0600 from the
// moment it exists, before any mode is set on it (sftp-server -u 077): no
// one who opens it in the round trip before its 0600 could read what is
// written after (docs/push.md, the residual of a new file's first round
// trip).
func TestSudoCreatesFilesPrivate(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: nodes with their own /etc/elasticsearch and the deploy user")
	}
	if testing.Short() {
		t.Skip("starts a real sshd")
	}
	c := sshdtest.Start(t, sshdtest.Options{Nodes: 1, NamePrefix: "umask-"})
	n := c.Nodes[0]
	node := &inventory.Node{
		Name: n.Name,
		Endpoint: inventory.Endpoint{
			Alias: n.Name, Host: n.Host, Port: n.Port, User: sshdtest.DeployUser,
			IdentityFiles: []string{c.ClientKeyFile}, KnownHostsFiles: []string{c.KnownHostsFile},
			HostKeyCheck: inventory.HostKeyStrict, ConnectTimeout: 10 * time.Second,
		},
		Path: n.Path(), Mode: 0o640, Sudo: true,
	}
	d := &sshconn.Dialer{HostKeys: &hostkeys.Checker{}, Auth: &sshconn.Auth{Home: "/nonexistent"}}
	conn, err := Dial(context.Background(), d, node)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	p := TempName(n.Path())
	f, err := conn.createExcl(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Remove(p)
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s was created %v through sudo, want 0600 from the start", path.Base(p), fi.Mode().Perm())
	}
}
