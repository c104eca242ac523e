package pull

import (
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sftptest"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/hostkeys"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

func tokenFile(t *testing.T, names ...string) []byte {
	t.Helper()
	f := tokens.NewFile()
	h, _ := tokens.DefaultAlgorithm.Hash("s3cr3t-s3cr3t", rand.Reader)
	for _, n := range names {
		f.Set("elastic/fleet-server/"+n, h)
	}
	b, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// node is an in-process SFTP server whose config directory is dir.
func node(t *testing.T, opts sftptest.Options) (*inventory.Node, string) {
	s := sftptest.Start(t, opts)
	dir := t.TempDir()
	return &inventory.Node{
		Name: "n",
		Endpoint: inventory.Endpoint{
			Alias: "n", Host: s.Host, Port: s.Port, User: "root",
			IdentityFiles: []string{s.ClientKeyFile}, KnownHostsFiles: []string{s.KnownHostsFile},
			HostKeyCheck: inventory.HostKeyStrict, ConnectTimeout: 2 * time.Second,
		},
		Path: filepath.Join(dir, "service_tokens"), Mode: 0o640,
	}, dir
}

func dialer() *sshconn.Dialer {
	return &sshconn.Dialer{HostKeys: &hostkeys.Checker{}, Auth: &sshconn.Auth{Home: "/nonexistent"}}
}

func TestPullCopiesAndReadsBack(t *testing.T) {
	n, dir := node(t, sftptest.Options{})
	data := tokenFile(t, "a", "b")
	os.WriteFile(n.Path, data, 0o640)
	out := filepath.Join(t.TempDir(), "copy")
	res, err := Run(context.Background(), Options{Dialer: dialer(), Node: n, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if string(got) != string(data) || res.Tokens != 2 || res.Path != n.Path {
		t.Errorf("result %+v, copy %q", res, got)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Errorf("copy mode %v", fi.Mode())
	}
	// Never over an existing file, before connecting.
	if _, err := Run(context.Background(), Options{Dialer: dialer(), Node: n, Out: out}); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second pull: %v", err)
	}
	_ = dir
}

func TestPullRefusesAnUnloadableFile(t *testing.T) {
	n, _ := node(t, sftptest.Options{})
	os.WriteFile(n.Path, []byte("no colon here\n"), 0o640)
	out := filepath.Join(t.TempDir(), "copy")
	_, err := Run(context.Background(), Options{Dialer: dialer(), Node: n, Out: out})
	var nl *NotLoadableError
	if !errors.As(err, &nl) {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("an unloadable file was copied")
	}
}

func TestPullBackup(t *testing.T) {
	n, _ := node(t, sftptest.Options{})
	os.WriteFile(n.Path, tokenFile(t, "now"), 0o640)
	older, newer := tokenFile(t, "older"), tokenFile(t, "newer")
	os.WriteFile(n.Path+".20261128T100000.000Z.bak", older, 0o640)
	os.WriteFile(n.Path+".20261129T100000.000Z.bak", newer, 0o640)
	os.WriteFile(n.Path+".garbage.bak", older, 0o640)
	for _, c := range []struct{ which, want string }{{"latest", string(newer)}, {"20261128T100000.000Z", string(older)}} {
		out := filepath.Join(t.TempDir(), "copy")
		if _, err := Run(context.Background(), Options{Dialer: dialer(), Node: n, Out: out, Backup: c.which}); err != nil {
			t.Fatalf("%s: %v", c.which, err)
		}
		if got, _ := os.ReadFile(out); string(got) != c.want {
			t.Errorf("%s: got %q", c.which, got)
		}
	}
	_, err := Run(context.Background(), Options{Dialer: dialer(), Node: n, Out: filepath.Join(t.TempDir(), "x"), Backup: "20200101T000000.000Z"})
	if failure.Of(err) != failure.RemoteIO || !strings.Contains(err.Error(), "no backup 20200101T000000.000Z") || !strings.Contains(err.Error(), "20261129T100000.000Z") {
		t.Errorf("unknown backup: %v", err)
	}
}

func TestPullFromAnUnreachableNodeIsUnreachable(t *testing.T) {
	n, _ := node(t, sftptest.Options{})
	n.Port = 1
	_, err := Run(context.Background(), Options{Dialer: dialer(), Node: n, Out: filepath.Join(t.TempDir(), "x")})
	if failure.Of(err) != failure.Unreachable {
		t.Errorf("err = %v (%s)", err, failure.Of(err))
	}
}
