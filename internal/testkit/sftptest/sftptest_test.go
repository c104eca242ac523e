package sftptest_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sftptest"
)

// connect logs in to s as root with its client key, trusting only its host
// key, and opens an SFTP client. Both are closed by t.Cleanup.
func connect(t *testing.T, s *sftptest.Server, opts ...sftp.ClientOption) (*ssh.Client, *sftp.Client) {
	t.Helper()
	sc, err := ssh.Dial("tcp", s.Addr(), s.ClientConfig("root"))
	if err != nil {
		t.Fatalf("ssh dial: %v", err)
	}
	t.Cleanup(func() { sc.Close() })
	c, err := sftp.NewClient(sc, opts...)
	if err != nil {
		t.Fatalf("sftp client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return sc, c
}

func payload(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func statusCode(err error) (uint32, bool) {
	var se *sftp.StatusError
	if !errors.As(err, &se) {
		return 0, false
	}
	return uint32(se.FxCode()), true
}

// TestHealthyAtomicWrite walks the whole atomic-write sequence against the
// zero-value server, logging in with the files a subprocess ssh would use
// (ClientKeyFile, KnownHostsFile), and checks every step really happened on
// disk.
func TestHealthyAtomicWrite(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t, sftptest.Options{})

	pem, err := os.ReadFile(s.ClientKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatalf("ClientKeyFile does not parse: %v", err)
	}
	hostKeys, err := knownhosts.New(s.KnownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ssh.Dial("tcp", s.Addr(), &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(key)},
		HostKeyCallback: hostKeys,
	})
	if err != nil {
		t.Fatalf("dial with key file and known_hosts: %v", err)
	}
	defer sc.Close()
	c, err := sftp.NewClient(sc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	if v, ok := c.HasExtension("posix-rename@openssh.com"); !ok || v != "1" {
		t.Errorf(`HasExtension(posix-rename) = %q, %v; want "1", true`, v, ok)
	}
	if _, ok := c.HasExtension("fsync@openssh.com"); ok {
		t.Error("healthy server advertises fsync@openssh.com without Options.Fsync")
	}

	dir := t.TempDir()
	target := filepath.Join(dir, "tokens.yaml")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".tokens.yaml.tmp")
	want := payload(t, 3000)

	f, err := c.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		t.Fatalf("create temp: %v", err)
	}
	if _, err := c.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL); err == nil {
		t.Error("second O_EXCL create of the same path succeeded")
	}
	if _, err := f.Write(want); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := f.Sync(); err == nil {
		t.Error("Sync succeeded although fsync@openssh.com is not advertised")
	}
	// Ownership to an arbitrary id needs root (as in CI); otherwise chown to
	// ourselves still exercises the request.
	uid, gid := os.Getuid(), os.Getgid()
	if uid == 0 {
		uid, gid = 4321, 8765
	}
	if err := f.Chown(uid, gid); err != nil {
		t.Fatalf("fchown: %v", err)
	}
	if err := f.Chmod(0o640); err != nil {
		t.Fatalf("fchmod: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := c.PosixRename(tmp, target); err != nil {
		t.Fatalf("posix-rename: %v", err)
	}

	rf, err := c.Open(target)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rf)
	rf.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("read back %d bytes, want the %d written", len(got), len(want))
	}

	fi, err := os.Stat(target)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode on disk = %v, want 0640", fi.Mode().Perm())
	}
	st := fi.Sys().(*syscall.Stat_t)
	if int(st.Uid) != uid || int(st.Gid) != gid {
		t.Errorf("owner on disk = %d:%d, want %d:%d", st.Uid, st.Gid, uid, gid)
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temp file still there after rename: %v", err)
	}

	got2 := s.Stats()
	want2 := sftptest.Stats{Connections: 1, Requests: 17, Writes: 1, Fsyncs: 0, PosixRenames: 1} // 17: every request above, INIT included
	if got2 != want2 {
		t.Errorf("Stats() = %+v, want %+v", got2, want2)
	}
}

// TestKeyAndKnownHostsFiles checks the files handed to subprocess clients.
func TestKeyAndKnownHostsFiles(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t, sftptest.Options{})

	fi, err := os.Stat(s.ClientKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("ClientKeyFile mode = %v, want 0600", fi.Mode().Perm())
	}
	pem, err := os.ReadFile(s.ClientKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pem, []byte("-----BEGIN OPENSSH PRIVATE KEY-----")) {
		t.Errorf("ClientKeyFile is not OpenSSH PEM:\n%s", pem)
	}
	key, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(key.PublicKey().Marshal(), s.ClientKey.PublicKey().Marshal()) {
		t.Error("ClientKeyFile does not hold ClientKey")
	}
	if typ := s.ClientKey.PublicKey().Type(); typ != ssh.KeyAlgoED25519 {
		t.Errorf("client key type %s, want ed25519", typ)
	}
	if typ := s.HostKey.PublicKey().Type(); typ != ssh.KeyAlgoED25519 {
		t.Errorf("host key type %s, want ed25519", typ)
	}

	kh, err := os.ReadFile(s.KnownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	prefix := "[127.0.0.1]:" + strconv.Itoa(s.Port) + " ssh-ed25519 AAAA"
	if !strings.HasPrefix(string(kh), prefix) {
		t.Errorf("known_hosts = %q, want prefix %q", kh, prefix)
	}
}

// TestNoPosixRename: the extension is neither advertised nor honoured, so a
// client that insists gets OP_UNSUPPORTED and nothing is renamed.
func TestNoPosixRename(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t, sftptest.Options{NoPosixRename: true})
	_, c := connect(t, s)

	if _, ok := c.HasExtension("posix-rename@openssh.com"); ok {
		t.Error("HasExtension(posix-rename) = true with NoPosixRename")
	}
	// The other extensions pkg/sftp advertises are untouched.
	if _, ok := c.HasExtension("statvfs@openssh.com"); !ok {
		t.Error("rewriting VERSION lost statvfs@openssh.com")
	}

	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	if err := os.WriteFile(src, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := c.PosixRename(src, dst)
	if code, ok := statusCode(err); !ok || code != uint32(sftp.ErrSSHFxOpUnsupported) {
		t.Errorf("PosixRename error = %v, want SSH_FX_OP_UNSUPPORTED", err)
	}
	if _, err := os.Stat(src); err != nil {
		t.Errorf("source gone after refused rename: %v", err)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Errorf("destination exists after refused rename: %v", err)
	}
	if got := s.Stats().PosixRenames; got != 1 {
		t.Errorf("Stats().PosixRenames = %d, want 1 (refused requests count)", got)
	}
}

// TestFsync: advertised, answered OK, counted.
func TestFsync(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t, sftptest.Options{Fsync: true})
	_, c := connect(t, s)

	if v, ok := c.HasExtension("fsync@openssh.com"); !ok || v != "1" {
		t.Errorf(`HasExtension(fsync) = %q, %v; want "1", true`, v, ok)
	}
	if _, ok := c.HasExtension("posix-rename@openssh.com"); !ok {
		t.Error("Fsync lost posix-rename@openssh.com")
	}

	p := filepath.Join(t.TempDir(), "f")
	f, err := c.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("durable")); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats().Fsyncs; got != 1 {
		t.Errorf("Stats().Fsyncs = %d, want 1", got)
	}
	if b, _ := os.ReadFile(p); string(b) != "durable" {
		t.Errorf("file holds %q", b)
	}

	// A handle the server never issued is refused rather than "synced".
	d, err := c.Open(filepath.Dir(p)) // a file handle on a directory: not tracked
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Sync(); err == nil {
		t.Error("Sync of a non-regular file's handle succeeded")
	}
}

// writeDropped opens a new connection, creates name and writes 5000 bytes in
// 1024-byte packets; it returns the write error. If the write fails it also
// checks that the failure is the transport dying, not a server reply.
func writeDropped(t *testing.T, s *sftptest.Server, name string) error {
	t.Helper()
	sc, c := connect(t, s, sftp.MaxPacket(1024))
	f, err := c.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Write(payload(t, 5000))
	if err == nil {
		return nil
	}
	if _, ok := statusCode(err); ok {
		t.Errorf("write failed with a server status (%v), want a lost connection", err)
	}
	// The whole SSH connection must be gone, not just the sftp channel.
	dead := make(chan struct{})
	go func() {
		sc.Wait()
		close(dead)
	}()
	select {
	case <-dead:
	case <-time.After(5 * time.Second):
		t.Error("SSH connection still alive after the drop")
	}
	return err
}

// TestDropAtWrite: the second WRITE kills the transport; the temp file is
// left behind with only the first chunk, and the count is per connection.
func TestDropAtWrite(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t, sftptest.Options{DropAtWrite: 2})
	dir := t.TempDir()

	tmp := filepath.Join(dir, "a.tmp")
	if err := writeDropped(t, s, tmp); err == nil {
		t.Fatal("write succeeded through a dropped connection")
	}
	fi, err := os.Stat(tmp)
	if err != nil {
		t.Fatalf("temp file should survive the drop: %v", err)
	}
	if fi.Size() >= 5000 {
		t.Errorf("partial file has %d bytes, want fewer than the 5000 written", fi.Size())
	}
	if fi.Size() != 1024 {
		t.Errorf("partial file has %d bytes, want exactly the first 1024-byte write", fi.Size())
	}
	if got := s.Stats().Writes; got != 2 {
		t.Errorf("Stats().Writes = %d, want 2", got)
	}

	// Without DropOnce the next connection is dropped too, at its own
	// second write.
	if err := writeDropped(t, s, filepath.Join(dir, "b.tmp")); err == nil {
		t.Error("second connection was not dropped without DropOnce")
	}
	if got := s.Stats(); got.Writes != 4 || got.Connections != 2 {
		t.Errorf("Stats() = %+v, want 4 writes over 2 connections", got)
	}
}

// TestDropOnce: after the drop, a reconnect can clean up and complete.
func TestDropOnce(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t, sftptest.Options{DropAtWrite: 2, DropOnce: true})
	dir := t.TempDir()
	tmp, target := filepath.Join(dir, "t.tmp"), filepath.Join(dir, "t")

	if err := writeDropped(t, s, tmp); err == nil {
		t.Fatal("first connection was not dropped")
	}

	_, c := connect(t, s, sftp.MaxPacket(1024))
	if err := c.Remove(tmp); err != nil {
		t.Fatalf("cleanup of the temp file on reconnect: %v", err)
	}
	want := payload(t, 5000)
	f, err := c.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(want); err != nil {
		t.Fatalf("write on reconnect: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.PosixRename(tmp, target); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); !bytes.Equal(got, want) {
		t.Errorf("target holds %d bytes, want the %d written", len(got), len(want))
	}
	if got := s.Stats().Connections; got != 2 {
		t.Errorf("Stats().Connections = %d, want 2", got)
	}
}

// TestFailWrites: a full disk refuses the data but not the create.
func TestFailWrites(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t, sftptest.Options{FailWrites: true})
	_, c := connect(t, s)

	p := filepath.Join(t.TempDir(), "full")
	f, err := c.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Write([]byte("will not fit"))
	if err == nil || !strings.Contains(err.Error(), "No space left on device") {
		t.Errorf("write error = %v, want one mentioning No space left on device", err)
	}
	if code, ok := statusCode(err); !ok || code != uint32(sftp.ErrSSHFxFailure) {
		t.Errorf("write error = %v, want SSH_FX_FAILURE", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 0 {
		t.Errorf("file has %d bytes, want 0", fi.Size())
	}
	if got := s.Stats().Writes; got != 1 {
		t.Errorf("Stats().Writes = %d, want 1", got)
	}
}

// TestExec: stdout, stderr and exit status reach the client.
func TestExec(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		cmds []string
	)
	s := sftptest.Start(t, sftptest.Options{Exec: func(cmd string) (string, string, int) {
		mu.Lock()
		cmds = append(cmds, cmd)
		mu.Unlock()
		if cmd == "true" {
			return "", "", 0
		}
		return "out: " + cmd + "\n", "warn\n", 3
	}})
	sc, _ := connect(t, s)

	sess, err := sc.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr = &stdout, &stderr
	err = sess.Run("stat -c %s /etc/tokens")
	var exitErr *ssh.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitStatus() != 3 {
		t.Errorf("Run error = %v, want exit status 3", err)
	}
	if got := stdout.String(); got != "out: stat -c %s /etc/tokens\n" {
		t.Errorf("stdout = %q", got)
	}
	if got := stderr.String(); got != "warn\n" {
		t.Errorf("stderr = %q", got)
	}

	sess, err = sc.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Run("true"); err != nil {
		t.Errorf("Run(true) = %v, want success", err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(cmds) != 2 || cmds[0] != "stat -c %s /etc/tokens" || cmds[1] != "true" {
		t.Errorf("Exec saw %q", cmds)
	}
}

// TestNilExecRefused: an sftp-only account refuses exec, but sftp still
// works on the same connection.
func TestNilExecRefused(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t, sftptest.Options{})
	sc, c := connect(t, s)

	sess, err := sc.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.Run("id"); err == nil {
		t.Error("exec succeeded with nil Options.Exec")
	}
	if _, err := c.Stat("/"); err != nil {
		t.Errorf("sftp after refused exec: %v", err)
	}
}

// TestAuthentication: only ClientKey, only listed users.
func TestAuthentication(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t, sftptest.Options{Users: []string{"deploy", "ops"}})

	_, otherPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ssh.NewSignerFromKey(otherPriv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.ClientConfig("deploy")
	cfg.Auth = []ssh.AuthMethod{ssh.PublicKeys(other)}
	if c, err := ssh.Dial("tcp", s.Addr(), cfg); err == nil {
		c.Close()
		t.Error("wrong client key accepted")
	} else if !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("wrong key: %v, want an authentication failure", err)
	}

	if c, err := ssh.Dial("tcp", s.Addr(), s.ClientConfig("root")); err == nil {
		c.Close()
		t.Error("root accepted although Users does not list it")
	}

	for _, user := range []string{"deploy", "ops"} {
		c, err := ssh.Dial("tcp", s.Addr(), s.ClientConfig(user))
		if err != nil {
			t.Errorf("listed user %s refused: %v", user, err)
			continue
		}
		c.Close()
	}
	if got := s.Stats().Connections; got != 2 {
		t.Errorf("Stats().Connections = %d, want 2 (failed logins do not count)", got)
	}
}

// TestStartHung: the SSH handshake never completes; only the caller's
// deadline ends it.
func TestStartHung(t *testing.T) {
	t.Parallel()
	host, port := sftptest.StartHung(t)
	addr := net.JoinHostPort(host, strconv.Itoa(port))

	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("TCP connect to the hung node should succeed: %v", err)
	}
	defer nc.Close()
	if err := nc.SetDeadline(time.Now().Add(300 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostKey, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, _, _, err = ssh.NewClientConn(nc, addr, &ssh.ClientConfig{
		User:            "root",
		HostKeyCallback: ssh.FixedHostKey(hostKey),
	})
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("handshake took %v despite a 300ms deadline", elapsed)
	}
	if err == nil {
		t.Fatal("SSH handshake with a hung node succeeded")
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("handshake error = %v, want a deadline timeout", err)
	}
}

// TestWriteKnownHosts: one file trusts several servers; each server's own
// file trusts only that server.
func TestWriteKnownHosts(t *testing.T) {
	t.Parallel()
	s1 := sftptest.Start(t, sftptest.Options{})
	s2 := sftptest.Start(t, sftptest.Options{})

	both, err := knownhosts.New(sftptest.WriteKnownHosts(t, s1, s2))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*sftptest.Server{s1, s2} {
		cfg := s.ClientConfig("root")
		cfg.HostKeyCallback = both
		c, err := ssh.Dial("tcp", s.Addr(), cfg)
		if err != nil {
			t.Errorf("dial %s with the shared known_hosts: %v", s.Addr(), err)
			continue
		}
		c.Close()
	}

	only1, err := knownhosts.New(s1.KnownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s2.ClientConfig("root")
	cfg.HostKeyCallback = only1
	if c, err := ssh.Dial("tcp", s2.Addr(), cfg); err == nil {
		c.Close()
		t.Error("s1's known_hosts accepted s2")
	}
}

// TestInterceptorAnswersDoNotInterleave has the interceptor answer requests
// (refused posix-renames) while the sftp server streams large read replies
// on the same channel; any interleaving inside a packet would corrupt the
// stream. It also pushes large concurrent writes through the interceptor.
func TestInterceptorAnswersDoNotInterleave(t *testing.T) {
	t.Parallel()
	s := sftptest.Start(t, sftptest.Options{NoPosixRename: true, Fsync: true})
	_, c := connect(t, s, sftp.UseConcurrentWrites(true), sftp.UseConcurrentReads(true))

	dir := t.TempDir()
	p := filepath.Join(dir, "big")
	want := payload(t, 1<<20)
	f, err := c.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(want); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 4 {
			rf, err := c.Open(p)
			if err != nil {
				errs <- err
				return
			}
			got, err := io.ReadAll(rf)
			rf.Close()
			if err != nil {
				errs <- err
				return
			}
			if !bytes.Equal(got, want) {
				errs <- errors.New("read back corrupted data")
				return
			}
		}
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 300 {
			err := c.PosixRename(p, p+".x")
			if code, ok := statusCode(err); !ok || code != uint32(sftp.ErrSSHFxOpUnsupported) {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestCloseAndNoLeaks: Close cuts live connections, is idempotent, and
// after cleanup none of the package's goroutines remain. Not parallel, so
// no other test's servers are running during the goroutine scan.
func TestCloseAndNoLeaks(t *testing.T) {
	var s *sftptest.Server
	t.Run("servers", func(t *testing.T) {
		s = sftptest.Start(t, sftptest.Options{Fsync: true, Exec: func(string) (string, string, int) { return "", "", 0 }})
		_, c := connect(t, s)
		f, err := c.Create(filepath.Join(t.TempDir(), "open"))
		if err != nil {
			t.Fatal(err)
		}
		_ = f // left open on purpose: Close must cope

		host, port := sftptest.StartHung(t)
		hung, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			t.Fatal(err)
		}
		defer hung.Close()

		// The scan below must be able to see this package's goroutines.
		if !strings.Contains(allStacks(), "/internal/testkit/sftptest.") {
			t.Fatal("goroutine scan does not see the running server")
		}

		s.Close()
		s.Close()
		if _, err := c.Stat("/"); err == nil {
			t.Error("sftp request succeeded after Close")
		}
		if _, err := net.Dial("tcp", s.Addr()); err == nil {
			t.Error("server still accepts after Close")
		}
	})

	stacks := allStacks()
	// Frames of this package look like ".../internal/testkit/sftptest.(*Server)...";
	// the test package's own are ".../internal/testkit/sftptest_test.".
	if strings.Contains(stacks, "/internal/testkit/sftptest.") {
		t.Errorf("goroutines of package sftptest remain after cleanup:\n%s", stacks)
	}
}

func allStacks() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// BeforeRename holds a rename (and its session) until it returns: the
// rename happens after, not before; AfterRename sees its result.
func TestRenameHooks(t *testing.T) {
	t.Parallel()
	held, release := make(chan string, 1), make(chan struct{})
	results := make(chan string, 2)
	s := sftptest.Start(t, sftptest.Options{
		BeforeRename: func(oldpath, newpath string) { held <- newpath; <-release },
		AfterRename:  func(oldpath, newpath, result string) { results <- filepath.Base(newpath) + ":" + result },
	})
	_, c := connect(t, s)
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	if err := os.WriteFile(src, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.PosixRename(src, dst) }()
	if got := <-held; got != dst {
		t.Fatalf("BeforeRename saw %q", got)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Errorf("the held rename happened: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := <-results; got != "dst:" {
		t.Errorf("AfterRename = %q, want success", got)
	}
	if _, err := os.Stat(dst); err != nil {
		t.Errorf("released rename did not happen: %v", err)
	}
	// A rename whose source is gone fails, and AfterRename says so.
	go func() { <-held }()
	if err := c.PosixRename(src, dst); err == nil {
		t.Error("rename of a missing file succeeded")
	}
	if got := <-results; got == "dst:" || !strings.HasPrefix(got, "dst:") {
		t.Errorf("AfterRename = %q, want a failure", got)
	}
}
