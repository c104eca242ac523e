package remotefile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sftptest"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/hostkeys"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
)

func open(t *testing.T, owner, group string) (*Conn, string) {
	t.Helper()
	c, target, _ := openServed(t, owner, group, nil)
	return c, target
}

// openServed is open, with the server, and setup run on the node's
// directory before the connection opens.
func openServed(t *testing.T, owner, group string, setup func(dir string)) (*Conn, string, *sftptest.Server) {
	t.Helper()
	return openWith(t, sftptest.Options{}, owner, group, setup)
}

// openWith is openServed on a server with opts.
func openWith(t *testing.T, opts sftptest.Options, owner, group string, setup func(dir string)) (*Conn, string, *sftptest.Server) {
	t.Helper()
	s := sftptest.Start(t, opts)
	dir := t.TempDir()
	n := &inventory.Node{
		Name: "n",
		Endpoint: inventory.Endpoint{Host: s.Host, Port: s.Port, User: s.User,
			IdentityFiles: []string{s.ClientKeyFile}, KnownHostsFiles: []string{s.KnownHostsFile},
			HostKeyCheck: inventory.HostKeyStrict, ConnectTimeout: 2 * time.Second},
		Path: filepath.Join(dir, "service_tokens"), Owner: owner, Group: group, Mode: 0o640,
	}
	if setup != nil {
		setup(dir)
	}
	d := &sshconn.Dialer{HostKeys: &hostkeys.Checker{}, Auth: &sshconn.Auth{Home: dir}}
	c, err := Dial(context.Background(), d, n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, n.Path, s
}

// The looks Open takes ahead spare the first steps their own requests:
// the walk to the file's directory and the first look at the file cost
// none. A read after anything was changed on the node looks again, and
// sees the change.
func TestLooksTakenAheadServeOnceAndNotPastAChange(t *testing.T) {
	c, target, s := openServed(t, "", "", func(dir string) {
		os.WriteFile(filepath.Join(dir, "service_tokens"), []byte("a:b\n"), 0o640)
	})
	before := s.Stats()
	if err := c.TrustDir(filepath.Dir(target)); err != nil {
		t.Fatal(err)
	}
	if st, err := c.Read(target); err != nil || string(st.Data) != "a:b\n" {
		t.Fatalf("first read: %q, %v", st.Data, err)
	}
	if got := s.Stats().Lstats - before.Lstats; got != 0 {
		t.Errorf("the walk and the first read looked %d times after Open, want 0", got)
	}
	os.Remove(target)
	if st, err := c.Read(target); err != nil || st.Exists {
		t.Errorf("a second read used the look again: %+v, %v", st, err)
	}
	isTemp := func(name string) bool { return IsTempName(target, name) }
	if l := c.listing; l != nil {
		<-l.done // the listing Open started has been answered
	}
	left := TempName(target)
	os.WriteFile(left, nil, 0o600)
	if got, err := c.Siblings(target, isTemp); err != nil || len(got) != 0 || s.Stats().Opendirs != before.Opendirs {
		t.Errorf("first listing: %v, %v, %d listings sent after Open (want the one taken ahead, from before the file)", got, err, s.Stats().Opendirs-before.Opendirs)
	}
	if got, err := c.Siblings(target, isTemp); err != nil || len(got) != 1 {
		t.Errorf("a second listing used the one taken ahead again: %v, %v", got, err)
	}

	// A file created after Open, by this connection, is seen at once.
	c2, target2, _ := openServed(t, "", "", nil)
	tmp := TempName(target2)
	if _, err := c2.Replace(target2, tmp, []byte("new\n"), Attrs{UID: -1, GID: -1, Mode: 0o640}, nil); err != nil {
		t.Fatal(err)
	}
	c2.Flushed()
	if st, err := c2.Read(target2); err != nil || string(st.Data) != "new\n" {
		t.Errorf("a read after a write: %+v, %v (the look from before the write)", st, err)
	}
	c3, target3, _ := openServed(t, "", "", nil)
	tmp3 := TempName(target3)
	if _, err := c3.WriteNew(tmp3, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got, err := c3.Siblings(target3, func(name string) bool { return IsTempName(target3, name) }); err != nil || len(got) != 1 {
		t.Errorf("a listing after a write: %v, %v (the listing from before the write)", got, err)
	}
}

// A replacement called off at the last step (another writer got there
// first) leaves the target as it was and no temporary file.
func TestReplaceCalledOffBeforeRename(t *testing.T) {
	c, target := open(t, "", "")
	os.WriteFile(target, []byte("theirs\n"), 0o640)
	stop := errors.New("changed meanwhile")
	tmp := TempName(target)
	left, err := c.Replace(target, tmp, []byte("ours\n"), Attrs{UID: -1, GID: -1, Mode: 0o640}, func() error { return stop })
	if !errors.Is(err, stop) || left {
		t.Fatalf("Replace = %v, left temp %v", err, left)
	}
	if b, _ := os.ReadFile(target); string(b) != "theirs\n" {
		t.Errorf("target is %q", b)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left: %v", err)
	}
	if !strings.HasPrefix(filepath.Base(tmp), ".service_tokens.es-service-tokens-") {
		t.Errorf("temporary name %s", tmp)
	}
}

// Names resolve from the node's own files; an unknown one is refused
// before anything is written.
func TestOwnerAndGroupResolution(t *testing.T) {
	c, _ := open(t, "root", "0")
	if c.ownerUID != 0 || c.groupGID != 0 || !c.identityKnown || c.uid != os.Getuid() {
		t.Errorf("root: owner %d group %d identity %v uid %d", c.ownerUID, c.groupGID, c.identityKnown, c.uid)
	}
	if c.UserName(0) != "root" {
		t.Errorf("UserName(0) = %q", c.UserName(0))
	}
	s := sftptest.Start(t, sftptest.Options{}) // no exec: getent cannot run
	dir := t.TempDir()
	n := &inventory.Node{Name: "n", Endpoint: inventory.Endpoint{Host: s.Host, Port: s.Port, User: "root",
		IdentityFiles: []string{s.ClientKeyFile}, KnownHostsFiles: []string{s.KnownHostsFile},
		HostKeyCheck: inventory.HostKeyStrict, ConnectTimeout: 2 * time.Second},
		Path: filepath.Join(dir, "f"), Owner: "no-such-user-here", Mode: 0o640}
	d := &sshconn.Dialer{HostKeys: &hostkeys.Checker{}, Auth: &sshconn.Auth{Home: dir}}
	_, err := Dial(context.Background(), d, n)
	if err == nil || !strings.Contains(err.Error(), `no user "no-such-user-here"`) {
		t.Errorf("unknown owner: %v", err)
	}
}

// A non-root writer is told how to get the right before writing.
func TestCanSetExplainsTheFix(t *testing.T) {
	c := &Conn{node: &inventory.Node{Endpoint: inventory.Endpoint{User: "deploy"}}, identityKnown: true, uid: 1001, gids: []int{1001},
		userNames: map[int]string{0: "root"}, groupNames: map[int]string{}}
	err := c.CanSet(Attrs{UID: 0, GID: -1})
	if err == nil || !strings.Contains(err.Error(), "setting owner root (uid 0) needs root on the node, and deploy is uid 1001: log in as root, or set sudo: true") {
		t.Errorf("CanSet = %v", err)
	}
	if err := c.CanSet(Attrs{UID: 1001, GID: 1001}); err != nil {
		t.Errorf("own uid and group refused: %v", err)
	}
}

// A lookup that fails because the connection died is a lost connection,
// not "no such user": the words a dead sshd used to produce.
func TestDeadConnectionIsNotAMissingUserOrSudo(t *testing.T) {
	c, _ := open(t, "", "")
	empty := accounts{byName: map[string]account{}, byID: map[int]string{}}
	_, err := c.resolve("elasticsearch", "group", empty)
	if failure.Of(err) != failure.Refused {
		t.Errorf("live connection: %v (%s), want refused", err, failure.Of(err))
	}
	c.client.Close() // sshd went away
	_, err = c.resolve("elasticsearch", "group", empty)
	if failure.Of(err) != failure.ConnectionLost || strings.Contains(err.Error(), "no group") {
		t.Errorf("dead connection: %v (%s), want connection lost", err, failure.Of(err))
	}
	err = c.openSudo(c.client)
	if failure.Of(err) != failure.ConnectionLost || strings.Contains(err.Error(), "sudoers") {
		t.Errorf("sudo on a dead connection: %v (%s), want connection lost", err, failure.Of(err))
	}
}

// One comparison serves push's read-back and dry run, check and
// --against: content, then owner and group unless not enforced, then mode.
func TestMismatches(t *testing.T) {
	names := &Conn{userNames: map[int]string{0: "root", 1000: "es"}, groupNames: map[int]string{0: "root", 1000: "es"}}
	st := State{Exists: true, SHA256: "aa", UID: 1000, GID: 0, Mode: 0o644}
	got := Mismatches(st, Attrs{UID: 0, GID: 1000, Mode: 0o640}, "bb", names)
	want := []Mismatch{{"content", "aa", "bb"}, {"owner", "es", "root"}, {"group", "root", "es"}, {"mode", "0644", "0640"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Mismatches = %v, want %v", got, want)
	}
	if got := Mismatches(st, Attrs{UID: -1, GID: -1, Mode: 0o644}, "", names); got != nil {
		t.Errorf("owner and group not enforced, content not asked: %v", got)
	}
	if got := Mismatches(State{}, Attrs{UID: 0, GID: 0, Mode: 0o640}, "bb", names); got != nil {
		t.Errorf("a missing file: %v, want nothing (callers say missing)", got)
	}
}

// ReadFile names anything but a regular file without opening it: a FIFO
// would block the open until a writer came.
func TestReadFileRefusesWhatIsNotARegularFile(t *testing.T) {
	c, target := open(t, "", "")
	dir := filepath.Dir(target)
	fifo, sub, link := filepath.Join(dir, "fifo"), filepath.Join(dir, "dir"), filepath.Join(dir, "link")
	os.WriteFile(target, []byte("x\n"), 0o600)
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Mkdir(sub, 0o700)
	os.Symlink(target, link)
	for p, what := range map[string]string{fifo: "a named pipe (FIFO)", sub: "a directory", link: "a symbolic link"} {
		_, _, err := c.ReadFile(p)
		var nr *NotRegularError
		if !errors.As(err, &nr) || nr.What() != what || err.Error() != p+" is "+what {
			t.Errorf("ReadFile(%s) = %v", p, err)
		}
	}
	if b, _, err := c.ReadFile(target); err != nil || string(b) != "x\n" {
		t.Errorf("ReadFile(regular) = %q, %v", b, err)
	}
}

// Through sudo, OpenSSH's sftp-server found on the node creates files
// 0600 from the start (umask 077); an sftp_server of the inventory's own
// is run as given, as it may take no -u.
func TestSudoScriptUmask(t *testing.T) {
	if got := sudoScript("", SFTPServers); !strings.Contains(got, `exec sudo -n -- "$p" -u 077;`) {
		t.Errorf("the known servers: %s", got)
	}
	if got := sudoScript("/opt/sftp", []string{"/opt/sftp"}); strings.Contains(got, "-u 077") || !strings.Contains(got, "exec sudo -n -- '/opt/sftp';") {
		t.Errorf("the inventory's own: %s", got)
	}
}
