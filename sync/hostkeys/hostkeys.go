// Package hostkeys checks SSH host keys against known_hosts files as
// OpenSSH does with StrictHostKeyChecking yes or accept-new. There is no
// mode that skips the check.
//
// Host certificates are honoured as ssh honours them: a node presenting a
// certificate signed by an @cert-authority listed for its name is accepted
// without a key line of its own; a certificate from an authority not
// listed falls back to the key inside it. @revoked keys, and certificates
// signed by a revoked authority, are refused.
//
// It also fixes the classic false "key mismatch" of Go SSH clients: the
// host key algorithms offered in the handshake are restricted to what
// known_hosts holds for the host (the types of its keys; certificates when
// an authority is listed for it), so a server with several host keys
// presents one we can check (golang/go#29286).
package hostkeys

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/internal/sshcert"
	"github.com/es-service-tokens/es-service-tokens/inventory"
)

// UnknownHostError is a host with no key in known_hosts under inventory.HostKeyStrict.
type UnknownHostError struct {
	Host        string // as recorded in known_hosts: host or [host]:port
	Key         ssh.PublicKey
	KnownHosts  string
	ScanCommand string
	// SignedBy is the authority of the certificate the server offered,
	// which no @cert-authority line lists for the host; nil for a plain key.
	SignedBy ssh.PublicKey
}

func (e *UnknownHostError) Error() string {
	offers := e.Key.Type() + " " + ssh.FingerprintSHA256(e.Key)
	if e.SignedBy != nil {
		offers += ", in a certificate from " + e.SignedBy.Type() + " CA " + ssh.FingerprintSHA256(e.SignedBy) + ", which no @cert-authority line lists for it"
	}
	return fmt.Sprintf("host key of %s is not in %s (server offers %s); check that fingerprint with the node's admin, then add it with `%s >> %s`, or set host_key_check: accept-new",
		e.Host, e.KnownHosts, offers, e.ScanCommand, safetext.ShellWord(e.KnownHosts))
}

// RevokedError is a host key, or the authority of a host certificate,
// that known_hosts marks @revoked. It is always refused.
type RevokedError struct {
	Host      string
	Authority bool // the certificate's signer is revoked, not the key
	Revoked   knownhosts.KnownKey
}

func (e *RevokedError) Error() string {
	what := "host key"
	if e.Authority {
		what = "certificate authority of the host key"
	}
	k := e.Revoked.Key
	return fmt.Sprintf("host key of %s REVOKED: the server's %s, %s %s, is marked @revoked in %s:%d; refused, nothing was sent. Ask the node's admin for its current key",
		e.Host, what, k.Type(), ssh.FingerprintSHA256(k), e.Revoked.Filename, e.Revoked.Line)
}

// CertificateError is a host certificate signed by an authority listed for
// the host that is not valid for it: another host's, expired, not yet
// valid, or not verifying.
type CertificateError struct {
	Host      string
	Cert      *ssh.Certificate
	Authority knownhosts.KnownKey
	Reason    string
}

func (e *CertificateError) Error() string {
	return fmt.Sprintf("host certificate of %s (ID %q, from CA %s %s at %s:%d) %s; refused, nothing was sent",
		e.Host, safetext.Input(e.Cert.KeyId), e.Authority.Key.Type(), ssh.FingerprintSHA256(e.Authority.Key), e.Authority.Filename, e.Authority.Line, e.Reason)
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
		file = " -f " + safetext.ShellWord(e.Known[0].Filename)
	}
	return fmt.Sprintf("HOST KEY CHANGED for %s: the server offers %s, known_hosts has %s. Someone may be intercepting the connection; nothing was sent. If the node was reinstalled, remove the old key with `ssh-keygen -R '%s'%s` and connect again",
		e.Host, offered, strings.Join(known, ", "), e.Host, file)
}

// Checker verifies host keys. One Checker serves every connection of a run.
type Checker struct {
	// Notify, if set, is told about every key accept-new records.
	Notify func(msg string)
	// Now is the clock host certificates are checked against; nil is
	// time.Now.
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]*db // by file list
}

// Config returns the callback and host key algorithms to use for one
// connection to hostport ("host:port" as dialed).
func (c *Checker) Config(files []string, mode, hostport string) (ssh.HostKeyCallback, []string, error) {
	if mode != inventory.HostKeyStrict && mode != inventory.HostKeyAcceptNew {
		return nil, nil, fmt.Errorf("host key check %q: use strict or accept-new", safetext.Input(mode))
	}
	if len(files) == 0 {
		return nil, nil, errors.New("no known_hosts file configured")
	}
	d, err := c.load(files)
	if err != nil {
		return nil, nil, err
	}
	cb := func(hostname string, _ net.Addr, key ssh.PublicKey) error {
		return c.verify(d, files, mode, hostname, key)
	}
	return cb, algorithmsFor(d, lookupName(hostport)), nil
}

// verify is the check of key, offered by hostname ("host:port" as dialed),
// as ssh makes it: revoked keys first; a certificate from an authority
// listed for the host is checked as a certificate; anything else by the
// plain key, against the host's key lines.
func (c *Checker) verify(d *db, files []string, mode, hostname string, key ssh.PublicKey) error {
	host, name := knownhosts.Normalize(hostname), lookupName(hostname)
	plain := key
	cert, isCert := key.(*ssh.Certificate)
	if isCert {
		plain = cert.Key
	}
	if k := d.revokedLine(plain); k != nil {
		return &RevokedError{Host: host, Revoked: *k}
	}
	var signedBy ssh.PublicKey
	if isCert {
		if k := d.revokedLine(cert.SignatureKey); k != nil {
			return &RevokedError{Host: host, Authority: true, Revoked: *k}
		}
		if ca, ok := authority(d.matching(markerAuthority, name), cert.SignatureKey); ok {
			return c.checkCertificate(host, hostname, cert, ca)
		}
		signedBy = cert.SignatureKey // no listed authority: ssh checks the key inside
	}
	known := d.matching(markerNone, name)
	if slices.ContainsFunc(known, func(k knownhosts.KnownKey) bool { return keyEqual(k.Key, plain) }) {
		return nil
	}
	if len(known) > 0 {
		return &ChangedKeyError{Host: host, Offered: plain, Known: known}
	}
	if mode == inventory.HostKeyStrict {
		h, p, _ := net.SplitHostPort(hostname)
		scan := "ssh-keyscan -t " + plain.Type() + " " + h
		if p != "22" {
			scan = "ssh-keyscan -p " + p + " -t " + plain.Type() + " " + h
		}
		return &UnknownHostError{Host: host, Key: plain, KnownHosts: files[0], ScanCommand: scan, SignedBy: signedBy}
	}
	return c.record(files, hostname, plain)
}

// authority is the line of cas that holds signer.
func authority(cas []knownhosts.KnownKey, signer ssh.PublicKey) (knownhosts.KnownKey, bool) {
	i := slices.IndexFunc(cas, func(k knownhosts.KnownKey) bool { return keyEqual(k.Key, signer) })
	if i < 0 {
		return knownhosts.KnownKey{}, false
	}
	return cas[i], true
}

func keyEqual(a, b ssh.PublicKey) bool { return string(a.Marshal()) == string(b.Marshal()) }

// checkCertificate accepts a host certificate from a listed authority
// only for the host it names (its principals, against the name dialed, as
// ssh checks them), within its validity window, and when its signature
// verifies.
func (c *Checker) checkCertificate(host, hostname string, cert *ssh.Certificate, ca knownhosts.KnownKey) error {
	fail := func(format string, args ...any) error {
		return &CertificateError{Host: host, Cert: cert, Authority: ca, Reason: fmt.Sprintf(format, args...)}
	}
	h, _, _ := net.SplitHostPort(hostname)
	now := c.now()
	why, expired := sshcert.Outside(cert, now)
	switch {
	case cert.CertType != ssh.HostCert:
		return fail("is a user certificate, not a host certificate")
	case len(cert.ValidPrincipals) > 0 && !slices.Contains(cert.ValidPrincipals, h):
		return fail("is for %s, not %s: connect by one of those names, or have the node's certificate signed for %s", safetext.Bounded(strings.Join(cert.ValidPrincipals, ", ")), h, h)
	case expired:
		return fail("%s: the node's admin must renew it (ssh-keygen -s CA_KEY -h)", why)
	case why != "":
		return fail("%s: check this machine's clock", why)
	}
	checker := &ssh.CertChecker{Clock: func() time.Time { return now }}
	if err := checker.CheckCert(h, cert); err != nil {
		return fail("does not verify (%v)", err)
	}
	return nil
}

func (c *Checker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// load reads the files once per run; missing files hold no keys.
func (c *Checker) load(files []string) (*db, error) {
	key := strings.Join(files, "\x00")
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.cache[key]; ok {
		return d, nil
	}
	d, err := readFiles(files)
	if err != nil {
		return nil, err
	}
	if c.cache == nil {
		c.cache = map[string]*db{}
	}
	c.cache[key] = d
	return d, nil
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

// algorithmsFor lists the host key algorithms to offer to the host known
// as name: certificates first when an authority is listed for it, then
// the types of its known keys (and any plain key when it has none, so that
// a server without a certificate is an unknown host rather than a changed
// key). nil (any) when known_hosts holds nothing for it.
func algorithmsFor(d *db, name string) []string {
	var algs []string
	seen := map[string]bool{}
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			algs = append(algs, a)
		}
	}
	certs := len(d.matching(markerAuthority, name)) > 0
	if certs {
		for _, a := range ssh.SupportedAlgorithms().HostKeys {
			if strings.HasSuffix(a, "-cert-v01@openssh.com") {
				add(a)
			}
		}
	}
	known := d.matching(markerNone, name)
	types := make([]string, 0, len(known))
	for _, k := range known {
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
	if certs && len(known) == 0 {
		for _, a := range ssh.SupportedAlgorithms().HostKeys {
			add(a)
		}
	}
	return algs
}
