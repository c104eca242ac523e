package sshconn

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// proxyShell runs ProxyCommand. ssh(1) uses $SHELL; a fixed POSIX shell
// makes the same inventory behave the same for every admin.
const proxyShell = "/bin/sh"

// stderrKeep is how much of the end of a proxy command's stderr is kept to
// explain a failed connection; stderrShow is how much of it is shown.
const (
	stderrKeep = 8 << 10
	stderrShow = 400
)

// proxyConn is a connection carried by a ProxyCommand's standard input and
// output, as ssh(1) makes it: the command runs as `sh -c "exec COMMAND"`,
// so that the process started is the proxy itself. It runs in its own
// session: no terminal to stop it on a prompt, and one process group to
// end on Close with whatever it started. On Linux the kernel also kills it
// if this process dies (kill -9), see procAttr.
type proxyConn struct {
	program string // for messages: never the command line, which may hold a secret
	cmd     *exec.Cmd
	w       *os.File // the command's stdin
	r       *os.File // the command's stdout
	stderr  *boundedBuffer
	exited  chan struct{} // closed once Wait has returned
	waitErr error
	once    sync.Once
	remote  net.Addr
	closed  func() // tells the Dialer
}

// startProxy starts command (tokens expanded) for a connection to addr.
func startProxy(command, program, addr string) (*proxyConn, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("cannot start ProxyCommand (%s): %w", program, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("cannot start ProxyCommand (%s): %w", program, err)
	}
	p := &proxyConn{program: program, w: inW, r: outR, stderr: &boundedBuffer{max: stderrKeep}, exited: make(chan struct{})}
	p.cmd = exec.Command(proxyShell, "-c", "exec "+command)
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = inR, outW, p.stderr
	p.cmd.SysProcAttr = procAttr()
	// Something the proxy started may keep stderr open after it exits;
	// Wait must not hang on it.
	p.cmd.WaitDelay = time.Second
	err = p.cmd.Start()
	inR.Close() // the child's ends: ours are w and r
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("cannot start ProxyCommand (%s): %w", program, err)
	}
	// Where the proxy really goes is unknown: the address is the node's,
	// whose name the host key is checked against.
	p.remote = proxyAddr(addr)
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (p *proxyConn) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p *proxyConn) Write(b []byte) (int, error) { return p.w.Write(b) }

// Close ends the proxy command and everything it started, and reaps it.
func (p *proxyConn) Close() error {
	p.once.Do(func() {
		p.w.Close()
		p.r.Close()
		killGroup(p.cmd.Process.Pid)
		<-p.exited
		if p.closed != nil {
			p.closed()
		}
	})
	return nil
}

// killGroup kills the process group that pid leads: a proxy command and
// whatever it started.
func killGroup(pid int) {
	syscall.Kill(-pid, syscall.SIGKILL)
}

func (p *proxyConn) LocalAddr() net.Addr  { return proxyAddr("ProxyCommand") }
func (p *proxyConn) RemoteAddr() net.Addr { return p.remote }

func (p *proxyConn) SetDeadline(t time.Time) error {
	return errors.Join(p.r.SetReadDeadline(t), p.w.SetWriteDeadline(t))
}
func (p *proxyConn) SetReadDeadline(t time.Time) error  { return p.r.SetReadDeadline(t) }
func (p *proxyConn) SetWriteDeadline(t time.Time) error { return p.w.SetWriteDeadline(t) }

// failure explains a connection that failed before the SSH login: within
// timeout when timedOut, else how the proxy command ended (if it did within
// grace) or what the SSH layer saw (err); then the end of what the command
// wrote on stderr. It ends the command.
func (p *proxyConn) failure(err error, timedOut bool, timeout, grace time.Duration) error {
	var how string
	if timedOut {
		how = fmt.Sprintf("no SSH handshake within %v through the command", timeout)
	} else {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-p.exited:
			how = "the command exited before the SSH handshake"
			var ee *exec.ExitError
			if errors.As(p.waitErr, &ee) {
				how = "the command exited with " + strings.TrimPrefix(ee.ProcessState.String(), "exit ") + " before the SSH handshake"
			}
		case <-t.C:
			how = fmt.Sprintf("the command does not speak SSH (%v)", err)
		}
	}
	p.Close()
	if tail := p.stderr.tail(stderrShow); tail != "" {
		return fmt.Errorf("%s; its stderr: %s", how, tail)
	}
	return fmt.Errorf("%s; it wrote nothing on stderr", how)
}

// proxyAddr is an address that is no TCP endpoint: the target a proxy
// command reaches, as host:port.
type proxyAddr string

func (a proxyAddr) Network() string { return "proxy" }
func (a proxyAddr) String() string  { return string(a) }

// boundedBuffer keeps the last max bytes written (at most twice that in
// memory), so that a chatty proxy cannot grow memory and the end of what it
// said, which usually says why it failed, is kept.
type boundedBuffer struct {
	mu   sync.Mutex
	data []byte
	max  int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.data = append(b.data, p[max(0, len(p)-b.max):]...)
	if len(b.data) > 2*b.max {
		b.data = append(b.data[:0:0], b.data[len(b.data)-b.max:]...)
	}
	return len(p), nil // all of it, kept or not: the writer must not stop
}

// tail is the last n bytes kept, as one safe line: lines joined by " / ",
// control characters escaped.
func (b *boundedBuffer) tail(n int) string {
	b.mu.Lock()
	s := strings.TrimSpace(string(b.data))
	b.mu.Unlock()
	cut := false
	if len(s) > n {
		i := len(s) - n
		for i < len(s) && !utf8.RuneStart(s[i]) {
			i++
		}
		s, cut = s[i:], true
	}
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " / ")), " ")
	s = safetext.Escape(s)
	if cut {
		s = "..." + s
	}
	return s
}
