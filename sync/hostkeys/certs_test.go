package hostkeys

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/es-service-tokens/es-service-tokens/inventory"
)

// serve runs an SSH server presenting hostKeys and accepting any client.
func serve(t *testing.T, hostKeys ...ssh.Signer) string {
	t.Helper()
	cfg := &ssh.ServerConfig{NoClientAuth: true}
	for _, k := range hostKeys {
		cfg.AddHostKey(k)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if sc, chans, reqs, err := ssh.NewServerConn(c, cfg); err == nil {
					go ssh.DiscardRequests(reqs)
					go func() {
						for ch := range chans {
							ch.Reject(ssh.Prohibited, "no")
						}
					}()
					sc.Wait()
				}
			}()
		}
	}()
	return l.Addr().String()
}

func newSigner(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// hostCert is host's key certified by ca for principals, valid from
// after to before.
func hostCert(t *testing.T, ca, host ssh.Signer, typ uint32, after, before uint64, principals ...string) ssh.Signer {
	t.Helper()
	cert := &ssh.Certificate{Key: host.PublicKey(), CertType: typ, KeyId: "node-cert", ValidPrincipals: principals, ValidAfter: after, ValidBefore: before}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewCertSigner(cert, host)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func caLine(marker, hosts string, ca ssh.Signer) string {
	return marker + " " + hosts + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(ca.PublicKey())))
}

func dialAddr(t *testing.T, c *Checker, addr string, files []string, mode string) error {
	t.Helper()
	cb, algs, err := c.Config(files, mode, addr)
	if err != nil {
		return err
	}
	client, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "u", HostKeyCallback: cb, HostKeyAlgorithms: algs, Timeout: 10 * time.Second})
	if err != nil {
		return err
	}
	client.Close()
	return nil
}

// A node presenting a certificate from an authority listed for its name is
// accepted without a key line of its own; the line's host patterns are
// OpenSSH's (a bare "*" covers every port; negations veto; hashed names).
func TestCertificateAuthority(t *testing.T) {
	ca, host := newSigner(t), newSigner(t)
	addr := serve(t, hostCert(t, ca, host, ssh.HostCert, 0, ssh.CertTimeInfinity, "127.0.0.1"), host)
	name := knownhosts.Normalize(addr)
	for _, c := range []struct {
		hosts string
		ok    bool
	}{
		{"*", true},
		{"127.0.0.*,[127.0.0.1]:*", true},
		{knownhosts.HashHostname(name), true},
		{"*.example.com", false},
		{"*,![127.0.0.1]:*", false},
	} {
		kh := write(t, "# CA only", caLine("@cert-authority", c.hosts, ca))
		err := dialAddr(t, &Checker{}, addr, []string{kh}, inventory.HostKeyStrict)
		var ue *UnknownHostError
		switch {
		case c.ok && err != nil:
			t.Errorf("%s: %v, want the certificate accepted", c.hosts, err)
		case !c.ok && !errors.As(err, &ue):
			t.Errorf("%s: %v, want an unknown host", c.hosts, err)
		case !c.ok && !strings.Contains(err.Error(), "in a certificate from ssh-ed25519 CA "+ssh.FingerprintSHA256(ca.PublicKey())+", which no @cert-authority line lists for it"):
			t.Errorf("%s: %v does not name the certificate's authority", c.hosts, err)
		}
	}
}

// The algorithms offered follow known_hosts: certificates when an
// authority is listed for the host, the known key types, else anything.
func TestAlgorithmsFollowKnownHosts(t *testing.T) {
	ca, host := newSigner(t), newSigner(t)
	const addr = "10.0.0.1:2222"
	for _, c := range []struct {
		lines     []string
		first     string
		plainOnly bool
	}{
		{[]string{caLine("@cert-authority", "*", ca)}, ssh.CertAlgoRSASHA256v01, false},
		{[]string{caLine("@cert-authority", "*", ca), knownhosts.Line([]string{knownhosts.Normalize(addr)}, host.PublicKey())}, ssh.CertAlgoRSASHA256v01, false},
		{[]string{knownhosts.Line([]string{knownhosts.Normalize(addr)}, host.PublicKey())}, ssh.KeyAlgoED25519, true},
	} {
		_, algs, err := (&Checker{}).Config([]string{write(t, c.lines...)}, inventory.HostKeyStrict, addr)
		if err != nil || len(algs) == 0 || algs[0] != c.first {
			t.Errorf("%q: algorithms %v, %v; want %s first", c.lines, algs, err, c.first)
			continue
		}
		hasCert, hasRSA := false, false
		for _, a := range algs {
			hasCert = hasCert || strings.Contains(a, "-cert-")
			hasRSA = hasRSA || a == ssh.KeyAlgoRSASHA256
		}
		if hasCert == c.plainOnly {
			t.Errorf("%q: certificate algorithms offered: %v", c.lines, hasCert)
		}
		// With a key known, only its type; with an authority alone, any
		// plain key too, so that a node without a certificate is unknown,
		// not changed.
		if hasRSA != (len(c.lines) == 1 && !c.plainOnly) {
			t.Errorf("%q: plain RSA offered: %v (%v)", c.lines, hasRSA, algs)
		}
	}
	if _, algs, _ := (&Checker{}).Config([]string{write(t, "# empty")}, inventory.HostKeyStrict, addr); algs != nil {
		t.Errorf("nothing known: %v, want nil (any)", algs)
	}
}

// A certificate from a listed authority must be for the host, within its
// window, and a host certificate: otherwise it is refused, naming why.
func TestHostCertificateRefused(t *testing.T) {
	ca, host := newSigner(t), newSigner(t)
	jan2 := time.Date(2020, 1, 2, 12, 0, 0, 0, time.UTC)
	jan1, jan3 := uint64(1577836800), uint64(1578009600)
	for _, c := range []struct {
		name          string
		typ           uint32
		after, before uint64
		principal     string
		want          string
	}{
		{"another host's", ssh.HostCert, 0, ssh.CertTimeInfinity, "db.example.com", "is for db.example.com, not 127.0.0.1: connect by one of those names, or have the node's certificate signed for 127.0.0.1"},
		{"expired", ssh.HostCert, 0, jan1, "127.0.0.1", "expired at 2020-01-01T00:00:00Z (valid before 2020-01-01T00:00:00Z): the node's admin must renew it"},
		{"not yet valid", ssh.HostCert, jan3, ssh.CertTimeInfinity, "127.0.0.1", "is not valid yet (valid after 2020-01-03T00:00:00Z; now 2020-01-02T12:00:00Z): check this machine's clock"},
		{"a user certificate", ssh.UserCert, 0, ssh.CertTimeInfinity, "127.0.0.1", "is a user certificate"},
	} {
		addr := serve(t, hostCert(t, ca, host, c.typ, c.after, c.before, c.principal))
		kh := write(t, caLine("@cert-authority", "*", ca))
		err := dialAddr(t, &Checker{Now: func() time.Time { return jan2 }}, addr, []string{kh}, inventory.HostKeyAcceptNew)
		var ce *CertificateError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), kh+":1") {
			t.Errorf("%s: %v\nwant a CertificateError naming %s:1 and saying %q", c.name, err, kh, c.want)
		}
		if b, _ := os.ReadFile(kh); strings.Count(string(b), "\n") != 1 {
			t.Errorf("%s: accept-new recorded a key", c.name)
		}
	}
}

// @revoked keys are refused by name, even with a key line or a listed
// authority that would accept them; a revoked authority revokes its
// certificates.
func TestRevoked(t *testing.T) {
	ca, host := newSigner(t), newSigner(t)
	plainAddr := serve(t, host)
	certAddr := serve(t, hostCert(t, ca, host, ssh.HostCert, 0, ssh.CertTimeInfinity, "127.0.0.1"))
	keyLine := func(addr string) string {
		return knownhosts.Line([]string{knownhosts.Normalize(addr)}, host.PublicKey())
	}
	for _, c := range []struct {
		name, addr string
		lines      []string
		authority  bool
	}{
		{"a revoked key with its own line", plainAddr, []string{keyLine(plainAddr), caLine("@revoked", "*", host)}, false},
		{"a revoked key in a certificate", certAddr, []string{caLine("@cert-authority", "*", ca), caLine("@revoked", "other.example.com", host)}, false},
		{"a revoked authority", certAddr, []string{caLine("@cert-authority", "*", ca), caLine("@revoked", "*", ca)}, true},
	} {
		kh := write(t, c.lines...)
		err := dialAddr(t, &Checker{}, c.addr, []string{kh}, inventory.HostKeyAcceptNew)
		var re *RevokedError
		if !errors.As(err, &re) || re.Authority != c.authority || !strings.Contains(err.Error(), "is marked @revoked in "+kh+":2; refused, nothing was sent") {
			t.Errorf("%s: %v, want a RevokedError naming %s:2", c.name, err, kh)
		}
	}
}

// As ssh does: a certificate from an authority not listed is checked by
// the key inside it; a listed authority with a node that has no
// certificate makes an unknown host, which accept-new records.
func TestCertificateFallsBackToTheKey(t *testing.T) {
	ca, other, host := newSigner(t), newSigner(t), newSigner(t)
	addr := serve(t, hostCert(t, other, host, ssh.HostCert, 0, ssh.CertTimeInfinity, "127.0.0.1"))
	kh := write(t, caLine("@cert-authority", "*", ca), knownhosts.Line([]string{knownhosts.Normalize(addr)}, host.PublicKey()))
	if err := dialAddr(t, &Checker{}, addr, []string{kh}, inventory.HostKeyStrict); err != nil {
		t.Errorf("another authority's certificate for a known key: %v", err)
	}
	plain := serve(t, host)
	kh = write(t, caLine("@cert-authority", "*", ca))
	var ue *UnknownHostError
	if err := dialAddr(t, &Checker{}, plain, []string{kh}, inventory.HostKeyStrict); !errors.As(err, &ue) {
		t.Errorf("no certificate, strict: %v, want an unknown host", err)
	}
	if err := dialAddr(t, &Checker{}, plain, []string{kh}, inventory.HostKeyAcceptNew); err != nil {
		t.Errorf("no certificate, accept-new: %v", err)
	}
	if err := dialAddr(t, &Checker{}, plain, []string{kh}, inventory.HostKeyStrict); err != nil {
		t.Errorf("the key accept-new recorded: %v", err)
	}
}

// Lines that do not parse are skipped, as ssh skips them; a file of nothing
// else is an error naming its first bad line.
func TestMalformedKnownHosts(t *testing.T) {
	host := newSigner(t)
	addr := serve(t, host)
	good := knownhosts.Line([]string{knownhosts.Normalize(addr)}, host.PublicKey())
	if err := dialAddr(t, &Checker{}, addr, []string{write(t, "not a key line", "@unknown * ssh-ed25519 AAAA", good)}, inventory.HostKeyStrict); err != nil {
		t.Errorf("bad lines beside a good one: %v", err)
	}
	kh := write(t, "# comment", "not a key line")
	_, _, err := (&Checker{}).Config([]string{kh}, inventory.HostKeyStrict, addr)
	if err == nil || !strings.HasPrefix(err.Error(), "known_hosts "+kh+":2: ") || !strings.HasSuffix(err.Error(), ", and no line of the file is valid: fix that line") {
		t.Errorf("err = %v", err)
	}
}
