// Package sshdtest starts real OpenSSH sshd processes on loopback addresses
// for integration tests and the demo cluster.
//
// As root, each node's sshd runs in its own mount namespace with a private
// directory bind-mounted over /etc/elasticsearch, so the same path holds a
// different file on every node, as on a real cluster, and the host can
// inspect each node's file through Node.ConfDir. Without root, nodes share
// the file system and each node's path is Node.ConfDir/service_tokens.
package sshdtest

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// ConfPath is where Elasticsearch's Debian and RPM packages keep their
// configuration; every root-mode node sees its own directory there.
const ConfPath = "/etc/elasticsearch"

// DeployUser is the non-root login that may run sftp-server through sudo.
const DeployUser = "est-deploy"

// SFTPServer is Debian's sftp-server binary.
const SFTPServer = "/usr/lib/openssh/sftp-server"

// TB is the part of testing.TB the harness needs; the demo passes its own.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}

// Options describe a cluster.
type Options struct {
	Nodes      int
	NamePrefix string // default "es-"
	// Names, if set, names the nodes instead (and sets their number).
	Names []string
	// Node customises node i (0-based) before it starts.
	Node func(i int, o *NodeOptions)
}

// NodeOptions are per-node faults and settings.
type NodeOptions struct {
	// ReadOnly mounts the node's /etc/elasticsearch read-only.
	ReadOnly bool
	// TmpfsBytes, when > 0, mounts a tmpfs of that size as the node's
	// configuration directory: a disk that fills up.
	TmpfsBytes int
	// InternalSFTP serves SFTP inside sshd (Subsystem sftp internal-sftp)
	// instead of Debian's default, which runs sftp-server through the
	// login shell and so pays for the shell's start-up files.
	InternalSFTP bool
	// LogLevel is sshd's LogLevel (default VERBOSE). DEBUG1 logs the
	// direct-tcpip channels a bastion opens, but also leaks debug lines
	// into sessions' stderr.
	LogLevel string
	// StockRootHome (root only) gives root, on this node, a home holding
	// only Debian's stock start-up files (/usr/share/base-files), as on a
	// freshly installed node: this machine's own root .bashrc may run
	// costly tools (a version manager's init) in every session, a cost a
	// benchmark should not charge to every tool on every node.
	StockRootHome bool
	// TrustedUserCAKeys, when set, is a file of SSH CA public keys whose
	// user certificates the node accepts (sshd's TrustedUserCAKeys).
	TrustedUserCAKeys string
}

// Cluster is a set of running sshd nodes that accept ClientKeyFile.
type Cluster struct {
	Dir            string
	ClientKeyFile  string
	ClientKey      ssh.Signer
	KnownHostsFile string
	Nodes          []*Node
	Root           bool // nodes have private /etc/elasticsearch views
	// StartSeconds is how long starting every node's sshd took, until the
	// last one listened.
	StartSeconds float64
}

// Node is one sshd.
type Node struct {
	Name    string
	Host    string
	Port    int
	ConfDir string // the host's view of the node's configuration directory
	LogFile string
	Opts    NodeOptions

	dir      string
	hostKey  ssh.Signer
	hostCert string // the host key's certificate file, when it has one
	cluster  *Cluster
	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{}
}

// Addr is host:port.
func (n *Node) Addr() string { return net.JoinHostPort(n.Host, fmt.Sprint(n.Port)) }

// Path is the service_tokens path as the node sees it.
func (n *Node) Path() string {
	if n.cluster.Root {
		return ConfPath + "/service_tokens"
	}
	return filepath.Join(n.ConfDir, "service_tokens")
}

// HostPath is the node's service_tokens as the host sees it.
func (n *Node) HostPath() string { return filepath.Join(n.ConfDir, "service_tokens") }

// HostKey is the node's current public host key.
func (n *Node) HostKey() ssh.PublicKey { return n.hostKey.PublicKey() }

// HostKeyFile is the node's current public host key, in a file as
// ssh-keygen writes it ("ssh-ed25519 AAAA...").
func (n *Node) HostKeyFile() string { return filepath.Join(n.dir, "host_ed25519.pub") }

// CertifyHostKey has caKey (an SSH CA's private key file) sign the node's
// host key with ssh-keygen -s CA -h, for the node's address unless args
// (more ssh-keygen options: -n NAMES, -V VALIDITY) say otherwise, and
// restarts the node presenting the certificate as well as the key.
func (n *Node) CertifyHostKey(caKey string, args ...string) error {
	n.Stop()
	argv := slices.Concat([]string{"-q", "-s", caKey, "-I", n.Name + "-host", "-h", "-n", n.Host}, args, []string{n.HostKeyFile()})
	if out, err := exec.Command("ssh-keygen", argv...).CombinedOutput(); err != nil {
		return fmt.Errorf("ssh-keygen %s: %v: %s", strings.Join(argv, " "), err, out)
	}
	n.hostCert = filepath.Join(n.dir, "host_ed25519-cert.pub")
	return n.start()
}

// Start starts a cluster; t.Cleanup stops it.
func Start(t TB, opts Options) *Cluster {
	t.Helper()
	// Real sshd nodes are the slow part of the suite: `go test -short`
	// skips every test that starts them, here in one place. A TB without
	// Skip (the demo, the benchmark) always gets its cluster.
	if s, ok := t.(interface{ Skip(...any) }); ok && testing.Testing() && testing.Short() {
		s.Skip("starts real sshd nodes; runs without -short")
	}
	if _, err := exec.LookPath("sshd"); err != nil {
		if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
			t.Fatalf("sshd not found: install Debian's openssh-server (.ci/run does)")
		}
	}
	// Not t.TempDir(): its parents are mode 0700, and sshd reads the
	// non-root user's authorized_keys as that user.
	dir, err := os.MkdirTemp("", "sshdtest-")
	if err != nil {
		t.Fatalf("%v", err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	c := &Cluster{Dir: dir, Root: os.Geteuid() == 0}
	if c.Root {
		if err := EnsureHostSetup(); err != nil {
			t.Fatalf("host setup: %v", err)
		}
	}
	if err := c.makeClientKey(); err != nil {
		t.Fatalf("%v", err)
	}
	for _, n := range c.newNodes(opts) {
		if err := os.MkdirAll(n.ConfDir, 0o755); err != nil {
			t.Fatalf("%v", err)
		}
		if err := n.setup(t); err != nil {
			t.Fatalf("node %s: %v", n.Name, err)
		}
		c.Nodes = append(c.Nodes, n)
	}
	errs := c.startAll()
	t.Cleanup(c.Stop)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("start %s: %v\n%s", c.Nodes[i].Name, err, c.Nodes[i].Log())
		}
	}
	if err := c.writeKnownHosts(); err != nil {
		t.Fatalf("known_hosts: %v", err)
	}
	return c
}

// makeClientKey makes the key every node lets in, as a signer and a key
// file, and each user's authorized_keys.
func (c *Cluster) makeClientKey() error {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return fmt.Errorf("client key: %w", err)
	}
	c.ClientKey = signer
	c.ClientKeyFile = filepath.Join(c.Dir, "id_ed25519")
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return fmt.Errorf("client key: %w", err)
	}
	if err := os.WriteFile(c.ClientKeyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		return err
	}
	authorized := ssh.MarshalAuthorizedKey(signer.PublicKey())
	for _, u := range c.users() {
		if err := os.WriteFile(filepath.Join(c.Dir, "authorized_keys_"+u), authorized, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// newNodes names the nodes opts asks for and gives each its own loopback
// address (LoopbackAddrs: every 127.0.0.0/8 address is the loopback
// interface's, with nothing to configure) and directories.
func (c *Cluster) newNodes(opts Options) []*Node {
	prefix := opts.NamePrefix
	if prefix == "" {
		prefix = "es-"
	}
	if opts.Names != nil {
		opts.Nodes = len(opts.Names)
	}
	addrs := LoopbackAddrs(opts.Nodes)
	var nodes []*Node
	for i := 0; i < opts.Nodes; i++ {
		n := &Node{Name: fmt.Sprintf("%s%d", prefix, i+1), cluster: c, Opts: NodeOptions{LogLevel: "VERBOSE"}}
		if opts.Names != nil {
			n.Name = opts.Names[i]
		}
		if opts.Node != nil {
			opts.Node(i, &n.Opts)
		}
		n.Host = addrs[i]
		n.dir = filepath.Join(c.Dir, n.Name)
		n.ConfDir = filepath.Join(n.dir, "conf")
		n.LogFile = filepath.Join(n.dir, "sshd.log")
		nodes = append(nodes, n)
	}
	return nodes
}

// startAtOnce bounds how many sshd start at the same time: a thousand
// started at once would share the cores, each start-up against its own
// deadline, while a few dozen keep the cores busy (1,000 nodes start in
// 13-17 s this way on 2 cores).
const startAtOnce = 32

// startAll starts the nodes in parallel (sshd start-up is the slow part
// of a test) and returns each one's error.
func (c *Cluster) startAll() []error {
	began := time.Now()
	defer func() { c.StartSeconds = time.Since(began).Seconds() }()
	var wg sync.WaitGroup
	sem := make(chan struct{}, startAtOnce)
	errs := make([]error, len(c.Nodes))
	for i, n := range c.Nodes {
		wg.Add(1)
		sem <- struct{}{}
		go func() { defer wg.Done(); defer func() { <-sem }(); errs[i] = n.start() }()
	}
	wg.Wait()
	return errs
}

func (c *Cluster) users() []string {
	if c.Root {
		return []string{"root", DeployUser}
	}
	return []string{currentUser()}
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	out, err := exec.Command("id", "-un").Output()
	if err != nil {
		return "root"
	}
	return strings.TrimSpace(string(out))
}

// Stop stops every node.
func (c *Cluster) Stop() {
	for _, n := range c.Nodes {
		n.Stop()
		n.unmount()
	}
}

// writeKnownHosts records every node's current host key.
func (c *Cluster) writeKnownHosts() error {
	c.KnownHostsFile = filepath.Join(c.Dir, "known_hosts")
	var b strings.Builder
	for _, n := range c.Nodes {
		b.WriteString(knownhosts.Line([]string{knownhosts.Normalize(n.Addr())}, n.HostKey()) + "\n")
	}
	return os.WriteFile(c.KnownHostsFile, []byte(b.String()), 0o600)
}

func (n *Node) setup(t TB) error {
	if err := n.newHostKey(); err != nil {
		return err
	}
	if n.Opts.TmpfsBytes > 0 {
		if !n.cluster.Root {
			return errors.New("a tmpfs node needs root")
		}
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0755", n.Opts.TmpfsBytes), "tmpfs", n.ConfDir).CombinedOutput(); err != nil {
			return fmt.Errorf("mount tmpfs: %v: %s", err, out)
		}
	}
	port, err := freePort(n.Host)
	if err != nil {
		return err
	}
	n.Port = port
	return nil
}

func (n *Node) unmount() {
	if n.Opts.TmpfsBytes > 0 {
		exec.Command("umount", "-l", n.ConfDir).Run()
	}
}

func (n *Node) newHostKey() error {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return err
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(n.dir, "host_ed25519"), pem.EncodeToMemory(block), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(n.HostKeyFile(), ssh.MarshalAuthorizedKey(s.PublicKey()), 0o644); err != nil {
		return err
	}
	n.hostKey, n.hostCert = s, "" // a new key has no certificate yet
	return nil
}

func (n *Node) config() string {
	c := n.cluster
	subsystem := SFTPServer
	if n.Opts.InternalSFTP {
		subsystem = "internal-sftp"
	}
	return fmt.Sprintf(`ListenAddress %s
HostKey %s
PidFile %s
AuthorizedKeysFile %s/authorized_keys_%%u
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
MaxStartups 200:30:400
Subsystem sftp %s
LogLevel %s
`, n.Addr(), filepath.Join(n.dir, "host_ed25519"), filepath.Join(n.dir, "sshd.pid"), c.Dir, subsystem, n.Opts.LogLevel) + n.optional()
}

// optional are the lines of the node's options that are off by default.
func (n *Node) optional() string {
	var b strings.Builder
	if n.Opts.TrustedUserCAKeys != "" {
		fmt.Fprintf(&b, "TrustedUserCAKeys %s\n", n.Opts.TrustedUserCAKeys)
	}
	if n.hostCert != "" {
		fmt.Fprintf(&b, "HostCertificate %s\n", n.hostCert)
	}
	return b.String()
}

// start runs sshd and returns once it listens.
func (n *Node) start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		return nil
	}
	conf := filepath.Join(n.dir, "sshd_config")
	if err := os.WriteFile(conf, []byte(n.config()), 0o600); err != nil {
		return err
	}
	cmd, err := n.command(conf)
	if err != nil {
		return err
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	log, err := os.OpenFile(n.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		log.Close()
		return err
	}
	ready := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer log.Close()
		copyLog(stderr, log, ready)
		cmd.Wait()
	}()
	select {
	case <-ready:
	case <-done:
		return fmt.Errorf("sshd exited during start-up")
	case <-time.After(20 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return fmt.Errorf("sshd did not listen within 20s")
	}
	n.cmd, n.done = cmd, done
	return nil
}

// command is how the node's sshd runs. As root it runs in its own mount
// namespace with the node's conf directory bound over ConfPath, so every
// node has the path Elasticsearch has; otherwise it reads conf as is.
func (n *Node) command(conf string) (*exec.Cmd, error) {
	if !n.cluster.Root {
		return exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", conf), nil
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(ConfPath, 0o755); err != nil {
		return nil, err
	}
	mount := fmt.Sprintf("mount --bind %q %s", n.ConfDir, ConfPath)
	if n.Opts.ReadOnly {
		mount += fmt.Sprintf(" && mount -o remount,bind,ro %s", ConfPath)
	}
	if n.Opts.StockRootHome {
		home, err := n.stockHome()
		if err != nil {
			return nil, err
		}
		mount += fmt.Sprintf(" && mount --bind %q /root", home)
	}
	return exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
		mount+fmt.Sprintf(" && exec /usr/sbin/sshd -D -e -f %q", conf)), nil
}

// stockHome makes the node's root home of StockRootHome.
func (n *Node) stockHome() (string, error) {
	home := filepath.Join(n.dir, "root")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return "", err
	}
	for _, f := range []string{"bashrc", "profile"} {
		b, err := os.ReadFile("/usr/share/base-files/dot." + f)
		if err != nil {
			return "", fmt.Errorf("stock root home: %w", err)
		}
		if err := os.WriteFile(filepath.Join(home, "."+f), b, 0o644); err != nil {
			return "", err
		}
	}
	return home, nil
}

// copyLog copies sshd's stderr to log until sshd closes it, and closes
// ready once sshd listens.
func copyLog(stderr io.Reader, log io.Writer, ready chan struct{}) {
	sc := bufio.NewScanner(stderr)
	listening := false
	for sc.Scan() {
		fmt.Fprintln(log, sc.Text())
		if !listening && strings.Contains(sc.Text(), "Server listening on") {
			close(ready)
			listening = true
		}
	}
}

// Stop kills the node's sshd and its sessions; the node refuses
// connections until Start.
func (n *Node) Stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return
	}
	syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
	<-n.done
	n.cmd = nil
}

// PID is the node's sshd process (0 when stopped): its sessions are its
// children, for tools that trace them (strace -f -p).
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// Start restarts a stopped node on the same address with the same host key.
func (n *Node) Start() error { return n.start() }

// RotateHostKey gives the node a new host key (as a reinstalled or
// impersonated machine would have) and restarts it. The cluster's
// known_hosts file keeps the old key.
func (n *Node) RotateHostKey() error {
	n.Stop()
	if err := n.newHostKey(); err != nil {
		return err
	}
	return n.start()
}

// NamespacePID is the host pid of a process in the node's mount
// namespace (as root; 0 otherwise or when stopped): `nsenter -t PID -m`
// runs a command that sees the node's /etc/elasticsearch, as a local
// user of that node would.
func (n *Node) NamespacePID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil || !n.cluster.Root {
		return 0
	}
	return n.cmd.Process.Pid
}

// EnsureUser creates, once per machine, a local user whose primary group
// is group (created too), for the attacker tests of a node (the
// elasticsearch user, a member of its group, a plain login). A user it
// creates can log in with a key (a '*' password, a shell), once the test
// writes its authorized_keys_NAME in the cluster's Dir. It returns the
// user's uid and gid.
func EnsureUser(name, group string) (uid, gid int, err error) {
	steps := [][]string{
		{"sh", "-c", "getent group " + group + " >/dev/null || groupadd --system " + group},
		{"sh", "-c", "id " + name + " >/dev/null 2>&1 || { useradd --system --no-create-home --gid " + group + " --shell /bin/sh " + name + " && usermod -p '*' " + name + "; }"},
	}
	for _, s := range steps {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			return 0, 0, fmt.Errorf("%s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	for _, id := range []struct {
		flag string
		out  *int
	}{{"-u", &uid}, {"-g", &gid}} {
		b, err := exec.Command("id", id.flag, name).Output()
		if err != nil {
			return 0, 0, fmt.Errorf("id %s %s: %v", id.flag, name, err)
		}
		if *id.out, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
			return 0, 0, fmt.Errorf("id %s %s: %q", id.flag, name, b)
		}
	}
	return uid, gid, nil
}

// Log returns what the node's sshd logged.
func (n *Node) Log() string {
	b, _ := os.ReadFile(n.LogFile)
	return string(b)
}

// EnsureHostSetup creates, once per machine, what the nodes need: the
// elasticsearch group, the non-root DeployUser allowed to run sftp-server
// through passwordless sudo, and sshd's privilege separation directory.
func EnsureHostSetup() error {
	steps := [][]string{
		{"sh", "-c", "getent group elasticsearch >/dev/null || groupadd --system elasticsearch"},
		{"sh", "-c", "id " + DeployUser + " >/dev/null 2>&1 || useradd --create-home --shell /bin/sh " + DeployUser},
		// A locked password ('!') makes sshd without PAM refuse the account.
		{"usermod", "-p", "*", DeployUser},
		{"sh", "-c", "mkdir -p /etc/sudoers.d && printf '%s ALL=(root) NOPASSWD: " + SFTPServer + "\\n' " + DeployUser +
			" > /etc/sudoers.d/es-service-tokens-test && chmod 0440 /etc/sudoers.d/es-service-tokens-test"},
		{"mkdir", "-p", "/run/sshd", ConfPath},
	}
	for _, s := range steps {
		if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	return nil
}

// LoopbackAddrs gives n nodes an address each: from a random 127.A.B.1
// on through the next /24s, so that concurrent test processes do not
// collide and a fleet of thousands still has one address a node.
func LoopbackAddrs(n int) []string {
	base := randomLoopbackBase()
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = loopbackAddr(base, i)
	}
	return addrs
}

// nodesPerNet is how many node addresses a /24 holds (.1 to .250).
const nodesPerNet = 250

// loopbackAddr is node i's address: the i-th after 127.A.B.1, wrapping
// into the next /24 (and past 127.A.255 into 127.A+1.0) every
// nodesPerNet nodes.
func loopbackAddr(base [2]byte, i int) string {
	net := int(base[0])<<8 | int(base[1]) + i/nodesPerNet
	return fmt.Sprintf("127.%d.%d.%d", (net>>8)%256, net%256, i%nodesPerNet+1)
}

// randomLoopbackBase picks 127.A.B.x so that concurrent test processes
// do not collide on addresses.
func randomLoopbackBase() [2]byte {
	var b [4]byte
	rand.Read(b[:])
	v := binary.BigEndian.Uint32(b[:])
	return [2]byte{byte(2 + v%250), byte(1 + (v>>8)%250)}
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
