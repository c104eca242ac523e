// Package sftptest runs an in-process SSH server with an SFTP subsystem for
// unit tests of code that pushes files to nodes over SSH/SFTP.
//
// It exists for two reasons. It is fast: no sshd binary, no fork, no
// configuration files, so every unit test can have its own server. And it can
// inject faults that a real OpenSSH sshd makes hard to reproduce on demand: a
// connection that dies in the middle of a write, a server without the
// posix-rename@openssh.com extension, a full disk, a node that accepts TCP
// connections but never speaks SSH. Behaviour that depends on OpenSSH itself
// (its sftp-server, its permission and ownership handling, its configuration)
// belongs in the integration tests, which run against a real sshd.
//
// The SFTP side is github.com/pkg/sftp's Server operating on the real file
// system with absolute paths, as the user running the tests. Faults are
// injected by a small interceptor that sits between the SSH channel and that
// server and understands just enough of the SFTP packet stream (packet
// boundaries, and a handful of packet types) to count, answer, rewrite or cut
// it. Nothing here uses package-level mutable state, so servers with different
// options can run in parallel tests.
package sftptest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Options choose the faults. The zero value is a healthy server.
type Options struct {
	// NoPosixRename removes posix-rename@openssh.com from the extensions the
	// server advertises in SSH_FXP_VERSION, and answers
	// SSH_FX_OP_UNSUPPORTED if a client sends it anyway, like an sftp-server
	// that predates the extension.
	NoPosixRename bool

	// Fsync makes the server advertise fsync@openssh.com "1" and implement
	// it, which pkg/sftp's server does not. The file really is fsync'ed: the
	// interceptor opens its own descriptor on each file the client opens
	// (pkg/sftp does not expose its *os.File) and calls Sync on that, which
	// on Linux flushes the same inode. Before syncing it waits until every
	// earlier request on the session has been answered, so writes sent ahead
	// of the fsync are on the file first, as with OpenSSH's sequential
	// sftp-server. Every fsync request counts in Stats.Fsyncs.
	Fsync bool

	// DropAtWrite, when > 0, closes the client's TCP connection as soon as
	// the DropAtWrite-th SSH_FXP_WRITE packet (counted per connection)
	// arrives. That packet is never processed; the packets before it are
	// (the server drains them before the connection is cut), so the file
	// exists and holds exactly the earlier writes.
	DropAtWrite int

	// DropOnce makes DropAtWrite fire at most once per server: only the
	// first connection that reaches the DropAtWrite-th write is dropped, so
	// a client's reconnect (to clean up its temp file, or to retry)
	// succeeds.
	DropOnce bool

	// DropAfterRename cuts the client's TCP connection right after the
	// server has carried out the first posix-rename@openssh.com request
	// (once per server), before its reply reaches the client: the rename
	// happened, and the client cannot know it (a lost reply).
	DropAfterRename bool

	// BeforeRename, if set, is called with the paths of every
	// posix-rename@openssh.com request before the server sees it, on the
	// session's reading goroutine: while it blocks, the rename and every
	// later request of that session wait, as behind a stalled link. It
	// may be called concurrently from several sessions.
	BeforeRename func(oldpath, newpath string)

	// AfterRename, if set, is called with the paths and the result of
	// every posix-rename@openssh.com request the server carried out,
	// before the reply goes to the client ("" for success, else the
	// status message).
	AfterRename func(oldpath, newpath, result string)

	// FailWrites answers every SSH_FXP_WRITE with SSH_FX_FAILURE and the
	// message "No space left on device", without writing: a full disk.
	// Opening and creating files still works, as on a real full disk.
	FailWrites bool

	// FailChmod, if not zero, answers every FSETSTAT that sets exactly
	// these permission bits with a failure, as a file system that refuses
	// a mode would: the new file's final mode, for a write that fails at
	// its last step.
	FailChmod os.FileMode
	// CreateMode, when not 0, is the mode every OPEN asks a new file to be
	// created with, whatever the client asked: a server that ignores the
	// mode asked for and creates files at its umask (0644 under 022).
	CreateMode os.FileMode

	// Exec handles "exec" requests on session channels: it gets the command
	// string and returns stdout, stderr and exit status. It may be called
	// concurrently from several sessions. nil refuses exec requests (the
	// request gets a false reply), like an sftp-only account.
	Exec func(cmd string) (stdout, stderr string, status int)

	// Users lists accepted login user names (any of them may authenticate
	// with the client key). Default: "root" and Server.User.
	Users []string

	// Host is the loopback address to listen on (default 127.0.0.1): a
	// simulated fleet gives each node its own, as real nodes have.
	Host string

	// ClientKey, if set, is the key the server accepts instead of a new
	// one (ClientKeyFile then holds it too): many servers that let in one
	// admin key, as a fleet does.
	ClientKey ed25519.PrivateKey

	// Latency delays everything the server sends by that much, as a
	// network whose round trip takes Latency would: bytes sent together
	// stay together, and later bytes never overtake earlier ones, so a
	// client that waits for an answer pays one Latency per round trip and
	// one that pipelines pays it once.
	Latency time.Duration
}

// Server is a running in-process SSH server on loopback with an SFTP
// subsystem over the real file system (absolute paths, as OpenSSH's
// sftp-server when started in /).
type Server struct {
	Host           string     // Options.Host: "127.0.0.1" unless set
	Port           int        // the listening port, chosen by the kernel
	HostKey        ssh.Signer // ed25519 host key
	ClientKey      ssh.Signer // the only key it accepts (ed25519)
	ClientKeyFile  string     // ClientKey, unencrypted, OpenSSH PEM format, mode 0600, in a temp dir
	KnownHostsFile string     // a known_hosts file holding "[127.0.0.1]:PORT ssh-ed25519 AAAA..." for this server
	// User is the name of the user the tests run as, which the SFTP side
	// runs as too: a client logging in under it has a true identity (its
	// uid and the owner of what it creates agree).
	User string

	opts      Options
	clientPub []byte // ClientKey's public key in wire format, for comparison
	config    *ssh.ServerConfig
	ln        net.Listener

	mu     sync.Mutex
	conns  map[net.Conn]struct{} // every accepted TCP connection, so Close can cut them
	closed bool

	wg        sync.WaitGroup // every goroutine the server starts
	closeOnce sync.Once

	connections  atomic.Int64
	requests     atomic.Int64
	lstats       atomic.Int64
	opendirs     atomic.Int64
	writes       atomic.Int64
	fsyncs       atomic.Int64
	posixRenames atomic.Int64
	dropFired    atomic.Bool // for DropOnce
	renameFired  atomic.Bool // for DropAfterRename
}

// Stats are counts since Start.
type Stats struct {
	// Connections counts SSH connections that completed authentication.
	Connections int
	// Requests counts SFTP packets received from clients, of every type
	// (SSH_FXP_INIT included): what a client costs a server.
	Requests int
	// Lstats counts SSH_FXP_LSTAT packets received: the looks by name.
	Lstats int
	// Opendirs counts SSH_FXP_OPENDIR packets received: the listings.
	Opendirs int
	// Writes counts SSH_FXP_WRITE packets received, including ones answered
	// with a failure (FailWrites) and the one that triggered a drop.
	Writes int
	// Fsyncs counts fsync@openssh.com requests received, whether or not
	// Options.Fsync is set.
	Fsyncs int
	// PosixRenames counts posix-rename@openssh.com requests received,
	// including ones refused because of Options.NoPosixRename.
	PosixRenames int
}

// Stats returns the counts since Start. It is safe for concurrent use.
func (s *Server) Stats() Stats {
	return Stats{
		Connections:  int(s.connections.Load()),
		Requests:     int(s.requests.Load()),
		Lstats:       int(s.lstats.Load()),
		Opendirs:     int(s.opendirs.Load()),
		Writes:       int(s.writes.Load()),
		Fsyncs:       int(s.fsyncs.Load()),
		PosixRenames: int(s.posixRenames.Load()),
	}
}

// Addr returns "HOST:PORT", the address to dial.
func (s *Server) Addr() string {
	return net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
}

// ClientConfig returns a client configuration that logs in as user with
// ClientKey and accepts only this server's host key.
func (s *Server) ClientConfig(user string) *ssh.ClientConfig {
	return &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(s.ClientKey)},
		HostKeyCallback: ssh.FixedHostKey(s.HostKey.PublicKey()),
		Timeout:         10 * time.Second,
	}
}

// Start starts a server with the given faults. It is closed by t.Cleanup.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()

	var err error
	me := currentUser(t)
	if len(opts.Users) == 0 {
		opts.Users = []string{"root", me}
	} else {
		opts.Users = slices.Clone(opts.Users) // the caller may reuse its slice
	}

	hostKey := newSigner(t)
	clientKey, clientPriv := newKey(t)
	if opts.ClientKey != nil {
		clientPriv = opts.ClientKey
		if clientKey, err = ssh.NewSignerFromKey(clientPriv); err != nil {
			t.Fatalf("sftptest: client key: %v", err)
		}
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}

	dir := t.TempDir()
	keyFile := filepath.Join(dir, "id_ed25519")
	block, err := ssh.MarshalPrivateKey(clientPriv, "sftptest client key")
	if err != nil {
		t.Fatalf("sftptest: marshal client key: %v", err)
	}
	writeFile(t, keyFile, pem.EncodeToMemory(block), 0o600)

	ln, err := net.Listen("tcp", net.JoinHostPort(opts.Host, "0"))
	if err != nil {
		t.Fatalf("sftptest: listen: %v", err)
	}

	s := &Server{
		Host:          opts.Host,
		Port:          ln.Addr().(*net.TCPAddr).Port,
		HostKey:       hostKey,
		ClientKey:     clientKey,
		ClientKeyFile: keyFile,
		User:          me,
		opts:          opts,
		clientPub:     clientKey.PublicKey().Marshal(),
		ln:            ln,
		conns:         make(map[net.Conn]struct{}),
	}
	s.config = &ssh.ServerConfig{
		PublicKeyCallback: s.checkKey,
		ServerVersion:     "SSH-2.0-sftptest",
	}
	s.config.AddHostKey(hostKey)

	// Register cleanup before anything else can fail, so the listener never
	// outlives the test.
	t.Cleanup(s.Close)

	s.KnownHostsFile = filepath.Join(dir, "known_hosts")
	writeFile(t, s.KnownHostsFile, []byte(s.knownHostsLine()), 0o644)

	s.wg.Add(1)
	go s.acceptLoop()
	return s
}

// Close stops accepting and closes every connection, then waits for all the
// server's goroutines to finish. It is idempotent.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		conns := make([]net.Conn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()

		s.ln.Close()
		// Closing the TCP connections is what unblocks everything else: the
		// SSH transport dies, channel reads fail, the SFTP servers see EOF.
		for _, c := range conns {
			c.Close()
		}
		s.wg.Wait()
	})
}

// WriteKnownHosts writes a known_hosts file containing the given servers'
// host keys (for tests with several servers) and returns its path.
func WriteKnownHosts(t testing.TB, servers ...*Server) string {
	t.Helper()
	var b strings.Builder
	for _, s := range servers {
		b.WriteString(s.knownHostsLine())
	}
	p := filepath.Join(t.TempDir(), "known_hosts")
	writeFile(t, p, []byte(b.String()), 0o644)
	return p
}

func (s *Server) knownHostsLine() string {
	// Normalize gives "[127.0.0.1]:PORT", which is what OpenSSH writes for a
	// non-default port and what knownhosts.New looks up.
	return knownhosts.Line([]string{knownhosts.Normalize(s.Addr())}, s.HostKey.PublicKey()) + "\n"
}

func (s *Server) checkKey(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	if !slices.Contains(s.opts.Users, meta.User()) {
		return nil, fmt.Errorf("sftptest: user %q not accepted", meta.User())
	}
	if !bytes.Equal(key.Marshal(), s.clientPub) {
		return nil, errors.New("sftptest: unknown client key")
	}
	// Counted here, before the client learns it is logged in, so that a
	// test reading Stats right after ssh.Dial returns sees it. x/crypto's
	// server asks once per key and connection.
	s.connections.Add(1)
	return &ssh.Permissions{}, nil
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Transient (e.g. EMFILE): keep serving rather than leave a
			// listener whose backlog accepts connections nobody answers.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if !s.track(nc) {
			nc.Close()
			return
		}
		s.wg.Add(1)
		go s.serveConn(nc)
	}
}

// track records nc so Close can cut it; it reports false once Close has
// started.
func (s *Server) track(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[nc] = struct{}{}
	return true
}

func (s *Server) untrack(nc net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, nc)
}

// conn is the per-connection state: fault counters are per connection.
type conn struct {
	srv    *Server
	nc     net.Conn
	writes atomic.Int64
}

func (s *Server) serveConn(nc net.Conn) {
	defer s.wg.Done()
	defer s.untrack(nc)
	defer nc.Close()

	if s.opts.Latency > 0 {
		nc = delayed(nc, s.opts.Latency)
		defer nc.Close() // first: delivers what is queued, ends the delay line
	}
	sc, chans, reqs, err := ssh.NewServerConn(nc, s.config)
	if err != nil {
		return // failed handshake or authentication
	}
	defer sc.Close()

	c := &conn{srv: s, nc: nc}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ssh.DiscardRequests(reqs) // global requests: keepalives, port forwarding
	}()

	for nch := range chans {
		if nch.ChannelType() != "session" {
			nch.Reject(ssh.UnknownChannelType, "only session channels are supported")
			continue
		}
		ch, chReqs, err := nch.Accept()
		if err != nil {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			c.serveSession(ch, chReqs)
		}()
	}
}

// serveSession answers the requests on one session channel: a single "exec"
// or "subsystem sftp"; everything else (pty, env, shell, ...) is refused.
func (c *conn) serveSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	var wg sync.WaitGroup
	defer wg.Wait()

	started := false
	// start accepts req and runs serve on the channel: one program per
	// session, as with OpenSSH. The reply goes first: the client must see
	// success before the output, exit status and channel close.
	start := func(req *ssh.Request, serve func()) {
		started = true
		req.Reply(true, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			serve()
		}()
	}
	for req := range reqs {
		switch req.Type {
		case "exec":
			var p struct{ Command string }
			if started || c.srv.opts.Exec == nil || ssh.Unmarshal(req.Payload, &p) != nil {
				req.Reply(false, nil)
				continue
			}
			start(req, func() { c.runExec(ch, p.Command) })
		case "subsystem":
			var p struct{ Name string }
			if started || ssh.Unmarshal(req.Payload, &p) != nil || p.Name != "sftp" {
				req.Reply(false, nil)
				continue
			}
			start(req, func() { newSFTPSession(c, ch).run() })
		default:
			req.Reply(false, nil)
		}
	}
}

func (c *conn) runExec(ch ssh.Channel, cmd string) {
	stdout, stderr, status := c.srv.opts.Exec(cmd)
	io.WriteString(ch, stdout)
	io.WriteString(ch.Stderr(), stderr)
	ch.CloseWrite()
	sendExitStatus(ch, uint32(status))
	ch.Close()
}

func sendExitStatus(ch ssh.Channel, status uint32) {
	ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
}

// StartHung starts a TCP listener on 127.0.0.1 that accepts connections and
// never sends a byte (no SSH banner): a hung node. It returns host and port.
// It is closed by t.Cleanup, which also closes every accepted connection and
// waits for the accept goroutine, so nothing outlives the test.
func StartHung(t testing.TB) (host string, port int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sftptest: listen: %v", err)
	}

	var (
		mu    sync.Mutex
		conns []net.Conn
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				time.Sleep(10 * time.Millisecond)
				continue
			}
			// Hold the connection open and silent; never read or write.
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done // no accepts after this, so conns is final
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "127.0.0.1", ln.Addr().(*net.TCPAddr).Port
}

func currentUser(t testing.TB) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatalf("sftptest: current user: %v", err)
	}
	return u.Username
}

func newKey(t testing.TB) (ssh.Signer, ed25519.PrivateKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("sftptest: generate key: %v", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatalf("sftptest: signer: %v", err)
	}
	return signer, priv
}

func newSigner(t testing.TB) ssh.Signer {
	t.Helper()
	s, _ := newKey(t)
	return s
}

func writeFile(t testing.TB, name string, data []byte, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(name, data, perm); err != nil {
		t.Fatalf("sftptest: %v", err)
	}
	// WriteFile's perm is filtered by the umask; make the mode exact, since
	// ssh refuses private keys readable by others.
	if err := os.Chmod(name, perm); err != nil {
		t.Fatalf("sftptest: %v", err)
	}
}

// Umask is this process's umask, from /proc (0 where it cannot tell): the
// pkg/sftp server creates files under it, so a test of CreateMode's wider
// bits skips when the umask would hide them.
func Umask() int {
	b, _ := os.ReadFile("/proc/self/status")
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "Umask:"); ok {
			m, _ := strconv.ParseInt(strings.TrimSpace(v), 8, 32)
			return int(m)
		}
	}
	return 0
}
