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

// A file this tool creates on a real node is 0600 from the moment it
// exists, before any mode is set on it, whoever logs in: OPEN carries
// mode 0600 (privateCreate), and through sudo the sftp-server found runs
// with -u 077 too (an inventory's own sftp_server does not: there the mode
// on OPEN alone does it). No one who opens it before its 0600 is set could read what is
// written after. The nodes' sshd runs sftp-server at umask 022, so a
// create without the mode makes the file 0644.
func TestCreatedFilesArePrivate(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: nodes with their own /etc/elasticsearch and the deploy user")
	}
	if testing.Short() {
		t.Skip("starts a real sshd")
	}
	c := sshdtest.Start(t, sshdtest.Options{Nodes: 1, NamePrefix: "umask-"})
	n := c.Nodes[0]
	for _, tc := range []struct {
		name, user string
		sudo       bool
		sftpServer string // the inventory's own: run without -u 077
	}{
		{"root login", "root", false, ""},
		{"through sudo", sshdtest.DeployUser, true, ""},
		{"through sudo, the inventory's sftp_server", sshdtest.DeployUser, true, SFTPServers[0]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			node := &inventory.Node{
				Name: n.Name,
				Endpoint: inventory.Endpoint{
					Alias: n.Name, Host: n.Host, Port: n.Port, User: tc.user,
					IdentityFiles: []string{c.ClientKeyFile}, KnownHostsFiles: []string{c.KnownHostsFile},
					HostKeyCheck: inventory.HostKeyStrict, ConnectTimeout: 10 * time.Second,
				},
				Path: n.Path(), Mode: 0o640, Sudo: tc.sudo, SFTPServer: tc.sftpServer,
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
			if fi.Mode().Perm() != createdMode {
				t.Errorf("%s was created %v (%s), want 0600 from the start", path.Base(p), fi.Mode().Perm(), tc.name)
			}
		})
	}
}
