package sshconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/proctest"
	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sftptest"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/hostkeys"
)

// TestMain lets this test binary play a proxy command (and a tool that
// dials through one), so that these tests need no nc and run on darwin.
func TestMain(m *testing.M) {
	if len(os.Args) > 3 && os.Args[1] == "proxy-helper" {
		os.Exit(proxyHelper(os.Args[2], os.Args[3], os.Args[4:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "dial-helper" {
		os.Exit(dialHelper(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// proxyHelper is a proxy command: it writes its pid to pidFile, then, by
// mode: relays to args[0] (relay), also starts a child that outlives it
// unless its group is killed (fork), says why it fails and exits 3 (fail),
// floods stderr and exits 4 (flood), or stays silent (silent).
func proxyHelper(mode, pidFile string, args []string) int {
	os.WriteFile(pidFile+".tmp", []byte(strconv.Itoa(os.Getpid())), 0o600)
	os.Rename(pidFile+".tmp", pidFile)
	switch mode {
	case "fail":
		fmt.Fprintln(os.Stderr, "helper: connect to node port 22: Connection refused")
		return 3
	case "flood":
		for i := 0; i < 20000; i++ {
			fmt.Fprintf(os.Stderr, "line %d of noise\n", i)
		}
		fmt.Fprintln(os.Stderr, "the last line says why")
		return 4
	case "silent":
		select {}
	case "fork":
		child := exec.Command("sleep", "3600")
		if err := child.Start(); err != nil {
			return 5
		}
		os.WriteFile(pidFile+".child", []byte(strconv.Itoa(child.Process.Pid)), 0o600)
	}
	c, err := net.Dial("tcp", args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() { io.Copy(c, os.Stdin); c.(*net.TCPConn).CloseWrite() }()
	io.Copy(os.Stdout, c)
	return 0
}

// dialHelper dials args as a node through a proxy command and waits
// forever: the tool, killed while it is connected.
func dialHelper(args []string) int {
	n := &inventory.Node{Name: "n", Endpoint: inventory.Endpoint{Host: "127.0.0.1", Port: 22, User: "u",
		KnownHostsFiles: []string{args[0]}, HostKeyCheck: inventory.HostKeyStrict, ConnectTimeout: time.Hour,
		IdentityFiles: []string{args[1]}, ProxyCommand: args[2]}}
	d := &Dialer{HostKeys: &hostkeys.Checker{}, Auth: &Auth{Home: os.TempDir()}}
	_, err := d.Dial(context.Background(), n)
	fmt.Fprintln(os.Stderr, err)
	return 1
}

// helperCommand is a ProxyCommand that runs proxyHelper.
func helperCommand(t *testing.T, mode, pidFile string, args ...string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(append([]string{self, "proxy-helper", mode, pidFile}, args...), " ")
}

// proxied is a node that sftptest server s plays, reached through command.
func proxied(s *sftptest.Server, command string, timeout time.Duration) *inventory.Node {
	return &inventory.Node{Name: "n", Endpoint: inventory.Endpoint{Host: s.Host, Port: s.Port, User: "root",
		IdentityFiles: []string{s.ClientKeyFile}, IdentitiesOnly: true, KnownHostsFiles: []string{s.KnownHostsFile},
		HostKeyCheck: inventory.HostKeyStrict, ConnectTimeout: timeout, ProxyCommand: command}}
}

func newDialer() *Dialer {
	return &Dialer{HostKeys: &hostkeys.Checker{}, Auth: &Auth{Home: os.TempDir()}}
}

// readPid waits for a helper to write its pid (the file appears whole:
// written then renamed), with a deadline.
func readPid(t *testing.T, file string) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(file); err == nil {
			pid, err := strconv.Atoi(string(b))
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared", file)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitGone fails the test unless pid ends before a deadline.
func waitGone(t *testing.T, pid int, what string) {
	t.Helper()
	if !proctest.WaitGone(pid, 20*time.Second) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("%s (pid %d) still runs", what, pid)
	}
}

// The proxy command's stdin and stdout carry the SSH connection; closing
// the connection ends the command and what it started.
func TestProxyCommandCarriesTheConnection(t *testing.T) {
	s := sftptest.Start(t, sftptest.Options{})
	pidFile := filepath.Join(t.TempDir(), "pid")
	d := newDialer()
	defer d.Close()
	c, err := d.Dial(context.Background(), proxied(s, helperCommand(t, "fork", pidFile, s.Addr()), 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.NewSession(); err != nil {
		t.Fatalf("session through the proxy: %v", err)
	}
	pid, child := readPid(t, pidFile), readPid(t, pidFile+".child")
	if proctest.Gone(pid) || proctest.Gone(child) {
		t.Fatal("the proxy ended while its connection was open")
	}
	c.Close()
	waitGone(t, pid, "the proxy command")
	waitGone(t, child, "a process the proxy command started")
	if len(d.proxies) != 0 {
		t.Errorf("the dialer still tracks %d proxies", len(d.proxies))
	}
}

// Host keys are checked against the node's own name, whatever the proxy
// connects to: a proxy that leads elsewhere is a changed key.
func TestProxyCommandHostKeyIsTheTargets(t *testing.T) {
	node, elsewhere := sftptest.Start(t, sftptest.Options{}), sftptest.Start(t, sftptest.Options{})
	d := newDialer()
	defer d.Close()
	n := proxied(node, helperCommand(t, "relay", filepath.Join(t.TempDir(), "pid"), elsewhere.Addr()), 10*time.Second)
	_, err := d.Dial(context.Background(), n)
	var ce *hostkeys.ChangedKeyError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "HOST KEY CHANGED for [127.0.0.1]:"+strconv.Itoa(node.Port)) {
		t.Fatalf("err = %v, want a changed key for the node's own address", err)
	}
	if !strings.Contains(err.Error(), "via ProxyCommand (") {
		t.Errorf("%v does not say the connection went through the proxy command", err)
	}
}

// A proxy command that fails says how it ended and what it wrote on
// stderr (the end of it, bounded), never its command line.
func TestProxyCommandFailureShowsStderr(t *testing.T) {
	s := sftptest.Start(t, sftptest.Options{})
	for _, c := range []struct{ mode, want, end string }{
		{"fail", "connect 127.0.0.1:" + strconv.Itoa(s.Port) + " via ProxyCommand (" + os.Args[0] + "): the command exited with status 3 before the SSH handshake; its stderr: helper: connect to node port 22: Connection refused", ""},
		{"flood", "the command exited with status 4 before the SSH handshake; its stderr: ...", "line 19999 of noise / the last line says why"},
	} {
		d := newDialer()
		pidFile := filepath.Join(t.TempDir(), "pid")
		_, err := d.Dial(context.Background(), proxied(s, helperCommand(t, c.mode, pidFile, "s3cret"), 10*time.Second))
		d.Close()
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasSuffix(err.Error(), c.end) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: %v\nwant it to contain %q, and not the command's arguments", c.mode, err, c.want)
		}
		if !Retryable(err) {
			t.Errorf("%s: a failed proxy is not retryable", c.mode)
		}
		if c.mode == "flood" && (len(err.Error()) > 1000 || strings.Contains(err.Error(), "\n")) {
			t.Errorf("flood: the message is %d bytes or several lines: %q", len(err.Error()), err)
		}
		waitGone(t, readPid(t, pidFile), c.mode+" proxy")
	}
}

// A proxy that never answers is bounded by the connect timeout, and ended.
// The timeout leaves the proxy (this test binary, started again, under
// -race on a loaded machine) time to write its pid first: at 300ms it was
// sometimes ended before, and the test could not tell.
func TestProxyCommandTimeout(t *testing.T) {
	t.Parallel() // it waits out the timeout
	s := sftptest.Start(t, sftptest.Options{})
	pidFile := filepath.Join(t.TempDir(), "pid")
	d := newDialer()
	defer d.Close()
	_, err := d.Dial(context.Background(), proxied(s, helperCommand(t, "silent", pidFile), 3*time.Second))
	if err == nil || !strings.Contains(err.Error(), "no SSH handshake within 3s through the command; it wrote nothing on stderr") {
		t.Fatalf("err = %v", err)
	}
	waitGone(t, readPid(t, pidFile), "a silent proxy")
}

// Dialer.Close ends the proxies of connections nobody closed (a run
// interrupted by Ctrl-C).
func TestDialerCloseEndsProxies(t *testing.T) {
	s := sftptest.Start(t, sftptest.Options{})
	pidFile := filepath.Join(t.TempDir(), "pid")
	d := newDialer()
	if _, err := d.Dial(context.Background(), proxied(s, helperCommand(t, "relay", pidFile, s.Addr()), 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	pid := readPid(t, pidFile)
	d.Close()
	waitGone(t, pid, "the proxy of an unclosed connection")
}

// kill -9 of the tool leaves no proxy command behind (Linux: the kernel
// kills it with its parent).
func TestProxyCommandDiesWithTheTool(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux kills a child with its parent")
	}
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	self, _ := os.Executable()
	key, _ := keyFile(t, dir, "id", "")
	tool := exec.Command(self, "dial-helper", filepath.Join(dir, "known_hosts"), key, helperCommand(t, "silent", pidFile))
	if err := tool.Start(); err != nil {
		t.Fatal(err)
	}
	pid := readPid(t, pidFile)
	tool.Process.Kill() // SIGKILL: no chance to clean up
	tool.Wait()
	waitGone(t, pid, "the proxy command of a killed tool")
}
