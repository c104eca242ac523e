// Package hostkeys checks SSH host keys against known_hosts files as
// OpenSSH does with StrictHostKeyChecking yes or accept-new. There is no
// mode that skips the check.
//
// It also fixes the classic false "key mismatch" of Go SSH clients: the
// host key algorithms offered in the handshake are restricted to the types
// of the keys known_hosts holds for the host, so a server with several
// host keys presents one we can check (golang/go#29286).
package hostkeys

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/es-service-tokens/es-service-tokens/inventory"
)

// UnknownHostError is a host with no key in known_hosts under inventory.HostKeyStrict.
type UnknownHostError struct {
	Host        string // as recorded in known_hosts: host or [host]:port
	Key         ssh.PublicKey
	KnownHosts  string
	ScanCommand string
}

func (e *UnknownHostError) Error() string {
	return fmt.Sprintf("host key of %s is not in %s (server offers %s %s); check that fingerprint with the node's admin, then add it with `%s >> %s`, or set host_key_check: accept-new",
		e.Host, e.KnownHosts, e.Key.Type(), ssh.FingerprintSHA256(e.Key), e.ScanCommand, e.KnownHosts)
}

// ChangedKeyError is a host whose key differs from the one known. It is
// always refused: it is what a man-in-the-middle looks like.
type ChangedKeyError struct {
	Host    string
	Offered ssh.PublicKey // nil when the server offered no key of a known type
	Known   []knownhosts.KnownKey
}

func (e *ChangedKeyError) Error() string {
	var known []string
	for _, k := range e.Known {
		known = append(known, fmt.Sprintf("%s %s (%s:%d)", k.Key.Type(), ssh.FingerprintSHA256(k.Key), k.Filename, k.Line))
	}
	offered := "no key of a known type"
	if e.Offered != nil {
		offered = e.Offered.Type() + " " + ssh.FingerprintSHA256(e.Offered)
	}
	file := ""
	if len(e.Known) > 0 {
		file = " -f " + e.Known[0].Filename
	}
	return fmt.Sprintf("HOST KEY CHANGED for %s: the server offers %s, known_hosts has %s. Someone may be intercepting the connection; nothing was sent. If the node was reinstalled, remove the old key with `ssh-keygen -R '%s'%s` and connect again",
		e.Host, offered, strings.Join(known, ", "), e.Host, file)
}

// Checker verifies host keys. One Checker serves every connection of a run.
type Checker struct {
	// Notify, if set, is told about every key accept-new records.
	Notify func(msg string)

	mu    sync.Mutex
	cache map[string]ssh.HostKeyCallback // by file list
}

// Config returns the callback and host key algorithms to use for one
// connection to hostport ("host:port" as dialed).
func (c *Checker) Config(files []string, mode, hostport string) (ssh.HostKeyCallback, []string, error) {
	if mode != inventory.HostKeyStrict && mode != inventory.HostKeyAcceptNew {
		return nil, nil, fmt.Errorf("host key check %q: use strict or accept-new", mode)
	}
	if len(files) == 0 {
		return nil, nil, errors.New("no known_hosts file configured")
	}
	db, err := c.load(files)
	if err != nil {
		return nil, nil, err
	}
	algs := algorithmsFor(db, hostport)
	cb := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := db(hostname, remote, key)
		if err == nil {
			return nil
		}
		var ke *knownhosts.KeyError
		if !errors.As(err, &ke) {
			return err // revoked, or a malformed file
		}
		host := knownhosts.Normalize(hostname)
		if len(ke.Want) > 0 {
			return &ChangedKeyError{Host: host, Offered: key, Known: ke.Want}
		}
		if mode == inventory.HostKeyStrict {
			h, p, _ := net.SplitHostPort(hostname)
			scan := "ssh-keyscan -t " + key.Type() + " " + h
			if p != "22" {
				scan = "ssh-keyscan -p " + p + " -t " + key.Type() + " " + h
			}
			return &UnknownHostError{Host: host, Key: key, KnownHosts: files[0], ScanCommand: scan}
		}
		return c.record(files, hostname, key)
	}
	return cb, algs, nil
}

// load parses the files once per run; missing files hold no keys.
func (c *Checker) load(files []string) (ssh.HostKeyCallback, error) {
	key := strings.Join(files, "\x00")
	c.mu.Lock()
	defer c.mu.Unlock()
	if db, ok := c.cache[key]; ok {
		return db, nil
	}
	var existing []string
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			existing = append(existing, f)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("known_hosts %s: %w", f, err)
		}
	}
	var db ssh.HostKeyCallback
	if len(existing) == 0 {
		db = func(string, net.Addr, ssh.PublicKey) error { return &knownhosts.KeyError{} }
	} else {
		var err error
		if db, err = knownhosts.New(existing...); err != nil {
			return nil, fmt.Errorf("known_hosts: %w", err)
		}
	}
	if c.cache == nil {
		c.cache = map[string]ssh.HostKeyCallback{}
	}
	c.cache[key] = db
	return db, nil
}

// record appends a new host's key (accept-new). The file is locked so that
// concurrent runs do not interleave lines.
func (c *Checker) record(files []string, hostname string, key ssh.PublicKey) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	path := files[0]
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("record host key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("record host key: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("record host key: lock %s: %w", path, err)
	}
	line := knownhosts.Line([]string{knownhosts.Normalize(hostname)}, key) + "\n"
	if _, err := f.WriteString(line); err != nil {
		return fmt.Errorf("record host key: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("record host key: %w", err)
	}
	delete(c.cache, strings.Join(files, "\x00"))
	if c.Notify != nil {
		c.Notify(fmt.Sprintf("recorded new host key of %s (%s %s) in %s", knownhosts.Normalize(hostname), key.Type(), ssh.FingerprintSHA256(key), path))
	}
	return nil
}

// algorithmsFor lists the host key algorithms matching the keys known for
// hostport, or nil (any) when none is known.
func algorithmsFor(db ssh.HostKeyCallback, hostport string) []string {
	err := db(hostport, &net.TCPAddr{IP: net.IPv4zero}, probeKey{})
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) || len(ke.Want) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var algs []string
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			algs = append(algs, a)
		}
	}
	types := make([]string, 0, len(ke.Want))
	for _, k := range ke.Want {
		types = append(types, k.Key.Type())
	}
	sort.Strings(types)
	for _, t := range types {
		if t == ssh.KeyAlgoRSA {
			// An RSA key signs with SHA-2 on modern servers.
			add(ssh.KeyAlgoRSASHA512)
			add(ssh.KeyAlgoRSASHA256)
		}
		add(t)
	}
	return algs
}

// probeKey matches no real key, so checking it lists the known ones.
type probeKey struct{}

func (probeKey) Type() string                                 { return "es-service-tokens-probe" }
func (probeKey) Marshal() []byte                              { return []byte("es-service-tokens-probe") }
func (probeKey) Verify(data []byte, sig *ssh.Signature) error { return errors.New("probe") }
