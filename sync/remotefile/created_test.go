package remotefile

import (
	"context"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sftptest"
	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sshdtest"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
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

// On a server that ignores the mode a new file is asked to be created
// with, the file is proved open to others before a byte goes in: Replace
// and WriteNew refuse, write nothing, and leave nothing behind. One that
// creates it narrower than 0600 is private enough: the write goes on.
func TestNewFileModeIsProvedBeforeTheBytes(t *testing.T) {
	if sftptest.Umask()&0o044 != 0 {
		t.Skip("the test's umask would hide the server's 0644")
	}
	attrs := Attrs{UID: -1, GID: -1, Mode: 0o640}
	t.Run("wider: refused", func(t *testing.T) {
		c, target, _ := openWith(t, sftptest.Options{CreateMode: 0o644}, "", "", nil)
		os.WriteFile(target, []byte("theirs\n"), 0o640)
		tmp := TempName(target)
		left, err := c.Replace(target, tmp, []byte("ours\n"), attrs, nil)
		if failure.Of(err) != failure.Refused || !strings.Contains(err.Error(), "with mode 0644, not the 0600 asked for") || left {
			t.Fatalf("Replace = %v, left temp %v", err, left)
		}
		if b, _ := os.ReadFile(target); string(b) != "theirs\n" {
			t.Errorf("target is %q", b)
		}
		lock := filepath.Join(filepath.Dir(target), ".own")
		if _, err := c.WriteNew(lock, []byte("lock\n")); failure.Of(err) != failure.Refused {
			t.Errorf("WriteNew = %v", err)
		}
		for _, p := range []string{tmp, lock} {
			if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s left behind: %v", filepath.Base(p), err)
			}
		}
	})
	t.Run("narrower: written", func(t *testing.T) {
		c, target, _ := openWith(t, sftptest.Options{CreateMode: 0o400}, "", "", nil)
		if _, err := c.Replace(target, TempName(target), []byte("ours\n"), attrs, nil); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(target)
		if b, _ := os.ReadFile(target); err != nil || string(b) != "ours\n" || fi.Mode().Perm() != 0o640 {
			t.Errorf("target: %q, %v, %v", b, fi, err)
		}
	})
}
