// Package sshconn opens SSH connections to nodes: host keys verified,
// keys from ssh-agent or files, bastions shared, and every step bounded in
// time, including the handshake with a server that never answers.
package sshconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/es-service-tokens/es-service-tokens/internal/libtext"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/hostkeys"
	"github.com/es-service-tokens/es-service-tokens/sync/steps"
)

// Dialer connects to nodes. It is safe for concurrent use; one Dialer
// serves a whole run so that bastion connections are shared.
type Dialer struct {
	HostKeys *hostkeys.Checker
	Auth     *Auth

	mu       sync.Mutex
	bastions map[string]*bastion
	proxies  map[*proxyConn]bool // running proxy commands, ended by Close
}

type bastion struct {
	ready  chan struct{}
	client *ssh.Client
	err    error
}

// Error is a failed connection, with the step that failed.
type Error struct {
	Step string // "connect", "handshake", "host key", "auth"
	Addr string
	Via  string // the bastion chain, if any
	Err  error
	// Retryable is true for faults that may go away (a refused or dropped
	// connection, a timeout); nothing has reached the node's files yet.
	Retryable bool
}

func (e *Error) Error() string {
	via := ""
	if e.Via != "" {
		via = " via " + e.Via
	}
	// sync/hostkeys' messages name the step and the address themselves
	// ("host key of [h]:p is not in ...", "HOST KEY CHANGED for [h]:p");
	// saying both again would stutter.
	if msg := e.Err.Error(); e.Step == "host key" && (strings.HasPrefix(msg, "host key of ") || strings.HasPrefix(msg, "host certificate of ") || strings.HasPrefix(msg, "HOST KEY CHANGED for ")) {
		if via != "" {
			return msg + " (" + strings.TrimPrefix(via, " ") + ")"
		}
		return msg
	}
	return fmt.Sprintf("%s %s%s: %v", e.Step, e.Addr, via, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// FailureKind is the step's kind: a refused or silent connection is
// unreachable, a key problem is host key or auth.
func (e *Error) FailureKind() failure.Kind {
	switch e.Step {
	case "host key":
		return failure.HostKey
	case "auth":
		return failure.Auth
	}
	return failure.Unreachable
}

// Dial connects and logs in to n, through its bastions if it has any.
func (d *Dialer) Dial(ctx context.Context, n *inventory.Node) (*ssh.Client, error) {
	if len(n.Jump) == 0 {
		return d.dial(ctx, nil, n.Endpoint, "")
	}
	via, chain, err := d.bastionChain(ctx, n.Jump)
	if err != nil {
		return nil, err
	}
	return d.dial(ctx, via, n.Endpoint, chain)
}

// bastionChain returns the connected last hop of a chain, connecting each
// hop once for all nodes behind it.
func (d *Dialer) bastionChain(ctx context.Context, hops []inventory.Endpoint) (*ssh.Client, string, error) {
	var parent *ssh.Client
	var names []string
	for _, h := range hops {
		key := strings.Join(names, ">") + ">" + h.User + "@" + h.Address()
		d.mu.Lock()
		if d.bastions == nil {
			d.bastions = map[string]*bastion{}
		}
		b, ok := d.bastions[key]
		if !ok {
			b = &bastion{ready: make(chan struct{})}
			d.bastions[key] = b
			via := strings.Join(names, " > ")
			go func(parent *ssh.Client, h inventory.Endpoint, key string) {
				// A bastion outlives the node that first needed it, so it
				// is not bound to that node's context.
				b.client, b.err = d.dial(context.Background(), parent, h, via)
				if b.err != nil {
					// Nodes waiting now share the failure; a retry dials again.
					d.mu.Lock()
					delete(d.bastions, key)
					d.mu.Unlock()
				}
				close(b.ready)
			}(parent, h, key)
		}
		d.mu.Unlock()
		select {
		case <-b.ready:
		case <-ctx.Done():
			return nil, "", &Error{Step: "connect", Addr: h.Address(), Err: fmt.Errorf("bastion: %w", ctx.Err()), Retryable: true}
		}
		if b.err != nil {
			return nil, "", fmt.Errorf("bastion: %w", b.err)
		}
		parent = b.client
		names = append(names, h.User+"@"+h.Address())
	}
	return parent, strings.Join(names, " > "), nil
}

// dial opens a TCP connection (directly or through parent) and logs in,
// giving up after ep.ConnectTimeout or when ctx ends.
func (d *Dialer) dial(ctx context.Context, parent *ssh.Client, ep inventory.Endpoint, via string) (*ssh.Client, error) {
	h := hop{ep: ep, addr: ep.Address(), via: via, timeout: ep.ConnectTimeout}
	if h.timeout <= 0 {
		h.timeout = inventory.DefaultConnectTimeout
	}
	// One deadline for the TCP connect and the whole handshake.
	dctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()

	var conn net.Conn
	var proxy *proxyConn
	var err error
	if ep.ProxyCommand != "" && parent == nil {
		h.via = "ProxyCommand (" + ep.ProxyProgram() + ")"
		proxy, err = d.startProxy(ctx, h)
		conn = proxy
	} else {
		conn, err = h.connect(ctx, dctx, parent)
	}
	if err != nil {
		return nil, err
	}
	cfg, keys, signers, err := d.clientConfig(h)
	if err != nil {
		conn.Close()
		return nil, err
	}
	c, chans, reqs, timedOut, err := handshake(ctx, dctx, conn, h.addr, cfg)
	if err != nil {
		failed := h.handshakeFailure(ctx, attempt{err: err, keyErr: keys.err, timedOut: timedOut, signers: signers, proxy: proxy, auth: d.Auth})
		conn.Close()
		return nil, failed
	}
	client := ssh.NewClient(c, chans, reqs)
	if ep.ServerAliveInterval > 0 {
		go keepAlive(client, ep.ServerAliveInterval, ep.ServerAliveCountMax)
	}
	return client, nil
}

// hop is one connection being made: to ep, at addr, through the bastion
// chain via.
type hop struct {
	ep      inventory.Endpoint
	addr    string
	via     string
	timeout time.Duration
}

func (h hop) fail(step string, err error, retry bool) error {
	return &Error{Step: step, Addr: h.addr, Via: h.via, Err: err, Retryable: retry}
}

// connect opens the TCP connection, directly or through parent, the last
// bastion, within dctx.
func (h hop) connect(ctx, dctx context.Context, parent *ssh.Client) (net.Conn, error) {
	connected := steps.Start(ctx, "connect") // timed only when it succeeds
	var conn net.Conn
	var err error
	if parent == nil {
		conn, err = (&net.Dialer{}).DialContext(dctx, "tcp", h.addr)
	} else {
		conn, err = parent.DialContext(dctx, "tcp", h.addr)
	}
	if err == nil {
		connected()
		return conn, nil
	}
	var op *net.OpError
	switch {
	case errors.Is(dctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		err = fmt.Errorf("no TCP connection within %v: is the node up, and are host and port right?", h.timeout)
	case errors.As(err, &op):
		err = op.Err // the address is in the message already
		var sc *os.SyscallError
		if errors.As(err, &sc) {
			err = sc.Err
		}
	}
	return nil, h.fail("connect", err, true)
}

// startProxy runs h's ProxyCommand, in place of a TCP connection; Close
// ends whatever is still running.
func (d *Dialer) startProxy(ctx context.Context, h hop) (*proxyConn, error) {
	connected := steps.Start(ctx, "connect")
	p, err := startProxy(h.ep.ProxyCommand, h.ep.ProxyProgram(), h.addr)
	if err != nil {
		return nil, h.fail("connect", err, false)
	}
	connected()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proxies == nil {
		d.proxies = map[*proxyConn]bool{}
	}
	d.proxies[p] = true
	p.closed = func() {
		d.mu.Lock()
		delete(d.proxies, p)
		d.mu.Unlock()
	}
	return p, nil
}

// keyCheck remembers why the host key was refused: the handshake's own
// error does not say.
type keyCheck struct {
	cb  ssh.HostKeyCallback
	err error
}

func (k *keyCheck) check(host string, remote net.Addr, key ssh.PublicKey) error {
	k.err = k.cb(host, remote, key)
	return k.err
}

// clientConfig is the SSH login to h: its host keys checked and the keys
// it offers. The user's known_hosts files come first: the first one is
// where accept-new records a key; the global ones are only read, as ssh
// does.
func (d *Dialer) clientConfig(h hop) (*ssh.ClientConfig, *keyCheck, []ssh.Signer, error) {
	cb, algs, err := d.HostKeys.Config(slices.Concat(h.ep.KnownHostsFiles, h.ep.GlobalKnownHostsFiles), h.ep.HostKeyCheck, h.addr)
	if err != nil {
		return nil, nil, nil, h.fail("host key", err, false)
	}
	signers, err := d.Auth.Signers(h.ep)
	if err != nil {
		return nil, nil, nil, h.fail("auth", err, false)
	}
	keys := &keyCheck{cb: cb}
	cfg := &ssh.ClientConfig{
		User:              h.ep.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signers...)},
		HostKeyAlgorithms: algs,
		HostKeyCallback:   keys.check,
		Timeout:           h.timeout,
	}
	return cfg, keys, signers, nil
}

// handshake runs the SSH handshake (key exchange, host key, login) on
// conn within dctx. ClientConfig.Timeout bounds only the TCP connect: a
// server that accepts and never sends its banner would block the
// handshake forever. Closing the connection is the one interruption that
// works for direct and tunnelled connections alike; timedOut says it
// happened.
func handshake(ctx, dctx context.Context, conn net.Conn, addr string, cfg *ssh.ClientConfig) (c ssh.Conn, chans <-chan ssh.NewChannel, reqs <-chan *ssh.Request, timedOut bool, err error) {
	var expired atomic.Bool
	stop := context.AfterFunc(dctx, func() {
		expired.Store(true)
		conn.Close()
	})
	// "auth" is the whole SSH handshake: key exchange, host key, login.
	authed := steps.Start(ctx, "auth")
	c, chans, reqs, err = ssh.NewClientConn(conn, addr, cfg)
	authed()
	stop()
	return c, chans, reqs, expired.Load(), err
}

// attempt is a handshake that failed: its error, why the host key was
// refused (keyErr), whether it ran out of time, the keys offered, and the
// proxy command that carried it, if any.
type attempt struct {
	err, keyErr error
	timedOut    bool
	signers     []ssh.Signer
	proxy       *proxyConn
	auth        *Auth
}

// handshakeFailure names the step a failed handshake failed in: a
// refused host key, no key type in common (the node's key changed type),
// a silent server or a failed proxy command, or keys refused.
func (h hop) handshakeFailure(ctx context.Context, a attempt) error {
	kind := libtext.Of(a.err).Kind
	refused := kind == libtext.SSHNoAcceptedKey
	switch {
	case a.keyErr != nil:
		return h.fail("host key", a.keyErr, false)
	case kind == libtext.SSHNoCommonHostKeyAlgorithm:
		return h.fail("host key", &hostkeys.ChangedKeyError{Host: h.addr}, false)
	case a.proxy != nil && !refused && ctx.Err() == nil:
		return h.fail("connect", a.proxy.failure(a.err, a.timedOut, h.timeout, proxyExitGrace), true)
	case a.timedOut && ctx.Err() == nil:
		return h.fail("handshake", fmt.Errorf("no SSH handshake within %v: the node accepted the connection but did not answer", h.timeout), true)
	case refused:
		if hints := a.auth.certHints(h.ep, a.signers); len(hints) > 0 {
			return h.fail("auth", fmt.Errorf("%s@%s refused every key offered (%s); %s", h.ep.User, h.addr, describe(a.signers), strings.Join(hints, "; ")), false)
		}
		return h.fail("auth", fmt.Errorf("%s@%s refused every key offered (%s); check identity_file and the node's authorized_keys", h.ep.User, h.addr, describe(a.signers)), false)
	}
	return h.fail("handshake", a.err, true)
}

// conn is what keepAlive needs of an *ssh.Client.
type conn interface {
	SendRequest(name string, wantReply bool, payload []byte) (bool, []byte, error)
	Wait() error
	Close() error
}

// keepAlive is ssh's ServerAliveInterval/ServerAliveCountMax: every
// interval it asks the server for a reply, and after max intervals in a row
// without one it closes the connection, so that a node that vanished (a
// dead bastion, a dropped NAT entry) fails the node instead of hanging it
// until its time runs out. Any reply counts, a refusal included, as in OpenSSH.
func keepAlive(c conn, interval time.Duration, max int) {
	done := make(chan struct{})
	go func() {
		c.Wait()
		close(done)
	}()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	replies := make(chan error, 1)
	pending, missed := false, 0
	for {
		select {
		case <-done:
			return
		case err := <-replies:
			if err != nil {
				return // the connection is gone already
			}
			pending, missed = false, 0
		case <-tick.C:
			if pending {
				missed++
				if missed >= max {
					c.Close()
					return
				}
				continue
			}
			pending = true
			go func() {
				_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
				replies <- err
			}()
		}
	}
}

func describe(signers []ssh.Signer) string {
	var s []string
	for _, k := range signers {
		if c, ok := k.PublicKey().(*ssh.Certificate); ok {
			// A certificate is known by its key and its ID, as ssh -v says.
			s = append(s, fmt.Sprintf("%s %s ID %q", c.Type(), ssh.FingerprintSHA256(c.Key), safetext.Input(c.KeyId)))
			continue
		}
		s = append(s, k.PublicKey().Type()+" "+ssh.FingerprintSHA256(k.PublicKey()))
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// proxyExitGrace is how long a proxy command whose connection ended
// before the SSH handshake is given to exit, so that its exit status can
// be told.
const proxyExitGrace = 2 * time.Second

// Close closes the shared bastion connections and ends every proxy
// command still running (a node's connection its user did not close, on
// an interrupted run).
func (d *Dialer) Close() {
	d.mu.Lock()
	bastions := d.bastions
	d.bastions = nil
	d.mu.Unlock()
	// Not under the lock: a failing dial takes it to forget itself.
	for _, b := range bastions {
		<-b.ready
		if b.client != nil {
			b.client.Close()
		}
	}
	d.mu.Lock()
	proxies := d.proxies
	d.proxies = nil
	d.mu.Unlock()
	for p := range proxies {
		p.Close()
	}
}

// Retryable reports whether err happened before anything reached the node
// and may go away on its own (a refused or dropped connection, a timeout).
func Retryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable
}
