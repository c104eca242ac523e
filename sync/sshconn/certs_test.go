package sshconn

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/es-service-tokens/es-service-tokens/inventory"
)

// jan2 is the clock of these tests: 2020-01-02T12:00:00Z.
var jan2 = time.Date(2020, 1, 2, 12, 0, 0, 0, time.UTC)

// certify writes path, a certificate for priv's public key signed by a
// fresh CA, valid from after to before (Unix seconds), for principals.
func certify(t *testing.T, path string, priv ed25519.PrivateKey, typ uint32, after, before uint64, principals ...string) *ssh.Certificate {
	t.Helper()
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	_, caKey, _ := ed25519.GenerateKey(rand.Reader)
	ca, _ := ssh.NewSignerFromKey(caKey)
	cert := &ssh.Certificate{Key: pub, CertType: typ, KeyId: "test-cert", ValidPrincipals: principals, ValidAfter: after, ValidBefore: before}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, ssh.MarshalAuthorizedKey(cert), 0o644); err != nil {
		t.Fatal(err)
	}
	return cert
}

func unix(s string) uint64 {
	t, _ := time.Parse(time.RFC3339, s)
	return uint64(t.Unix())
}

// ssh reads KEY-cert.pub beside an identity file and offers it first, signed
// with that key.
func TestCertificateBesideTheKey(t *testing.T) {
	dir := t.TempDir()
	key, priv := keyFile(t, dir, "id", "")
	cert := certify(t, key+"-cert.pub", priv, ssh.UserCert, 0, ssh.CertTimeInfinity, "root")
	a := &Auth{Home: dir, Now: func() time.Time { return jan2 }}
	ss, err := a.Signers(inventory.Endpoint{IdentityFiles: []string{key}})
	if err != nil || len(ss) != 2 {
		t.Fatalf("Signers = %d keys, %v; want the certificate and the key", len(ss), err)
	}
	if got, ok := ss[0].PublicKey().(*ssh.Certificate); !ok || got.KeyId != cert.KeyId {
		t.Errorf("first offered: %s, want the certificate", ss[0].PublicKey().Type())
	}
	if fingerprints(ss)[1] != fp(priv) {
		t.Error("second offered is not the plain key")
	}
	// ssh signs with the certificate's key: the signature verifies
	// against the key inside the certificate.
	sig, err := ss[0].Sign(rand.Reader, []byte("data"))
	if err != nil || cert.Key.Verify([]byte("data"), sig) != nil {
		t.Errorf("certificate signer does not sign with its key: %v", err)
	}
}

// CertificateFile replaces the certificate beside the key, as in ssh; its
// private key may be in ssh-agent only, even under IdentitiesOnly.
func TestConfiguredCertificateWithAgentKey(t *testing.T) {
	dir := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	other, otherPriv := keyFile(t, dir, "other", "")
	certify(t, other+"-cert.pub", otherPriv, ssh.UserCert, 0, ssh.CertTimeInfinity, "root") // ignored
	configured := filepath.Join(dir, "agent-key-cert.pub")
	certify(t, configured, priv, ssh.UserCert, unix("2020-01-01T00:00:00Z"), unix("2020-01-03T00:00:00Z"), "root")
	a := &Auth{Home: dir, AgentSocket: serveAgent(t, priv), Now: func() time.Time { return jan2 }}
	defer a.Close()
	ss, err := a.Signers(inventory.Endpoint{IdentityFiles: []string{other}, IdentitiesOnly: true, CertificateFiles: []string{configured}})
	if err != nil {
		t.Fatal(err)
	}
	var certs []string
	for _, s := range ss {
		if c, ok := s.PublicKey().(*ssh.Certificate); ok {
			certs = append(certs, ssh.FingerprintSHA256(c.Key))
		}
	}
	if len(certs) != 1 || certs[0] != fp(priv) {
		t.Errorf("certificates offered for keys %v, want only the configured one, for the agent's key %s", certs, fp(priv))
	}
}

// What the client can know fails before connecting, in one line naming the
// certificate and its validity window; a certificate beside a key is
// skipped instead (ssh skips it) and named if the login fails.
func TestCertificateChecksBeforeConnecting(t *testing.T) {
	dir := t.TempDir()
	key, priv := keyFile(t, dir, "id", "")
	cases := []struct {
		name          string
		typ           uint32
		after, before uint64
		keyless       bool
		want          string
	}{
		{"expired", ssh.UserCert, unix("2019-12-01T00:00:00Z"), unix("2020-01-01T00:00:00Z"), false,
			"expired at 2020-01-01T00:00:00Z (valid from 2019-12-01T00:00:00Z to 2020-01-01T00:00:00Z): get a new one from your SSH CA"},
		{"not yet valid", ssh.UserCert, unix("2020-02-01T00:00:00Z"), ssh.CertTimeInfinity, false,
			"is not valid yet (valid after 2020-02-01T00:00:00Z; now 2020-01-02T12:00:00Z): check this machine's clock, or wait"},
		{"host certificate", ssh.HostCert, 0, ssh.CertTimeInfinity, false, "is a host certificate"},
		{"no private key", ssh.UserCert, 0, ssh.CertTimeInfinity, true, "which no identity file or ssh-agent key holds: set identity_file to that key, or add it to ssh-agent"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := priv
			if c.keyless {
				_, k, _ = ed25519.GenerateKey(rand.Reader)
			}
			file := filepath.Join(t.TempDir(), "c-cert.pub")
			certify(t, file, k, c.typ, c.after, c.before, "root")
			a := &Auth{Home: dir, Now: func() time.Time { return jan2 }}
			_, err := a.Signers(inventory.Endpoint{User: "root", IdentityFiles: []string{key}, CertificateFiles: []string{file}})
			if err == nil || !strings.Contains(err.Error(), "certificate "+file+" ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("configured: %v\nwant it to name %s and say %q", err, file, c.want)
			}
			os.Rename(file, key+"-cert.pub")
			defer os.Remove(key + "-cert.pub")
			a = &Auth{Home: dir, Now: func() time.Time { return jan2 }}
			ep := inventory.Endpoint{User: "root", IdentityFiles: []string{key}}
			ss, err := a.Signers(ep)
			if err != nil || len(ss) != 1 || fingerprints(ss)[0] != fp(priv) {
				t.Errorf("beside the key: %v, %v; want the plain key only", fingerprints(ss), err)
			}
			timely := c.typ == ssh.UserCert && !c.keyless
			if hints := strings.Join(a.certHints(ep, ss), "; "); timely && !strings.Contains(hints, "certificate "+key+"-cert.pub was not offered: it "+c.want) {
				t.Errorf("after a refused login: %q, want %q", hints, c.want)
			}
		})
	}
}

// After a refused login, a certificate for other principals says which.
func TestCertificatePrincipalsHint(t *testing.T) {
	dir := t.TempDir()
	key, priv := keyFile(t, dir, "id", "")
	certify(t, key+"-cert.pub", priv, ssh.UserCert, 0, ssh.CertTimeInfinity, "deploy", "ops")
	a := &Auth{Home: dir}
	ep := inventory.Endpoint{User: "root", IdentityFiles: []string{key}}
	ss, err := a.Signers(ep)
	if err != nil {
		t.Fatal(err)
	}
	want := `certificate "test-cert" (` + key + `-cert.pub) is for principals deploy, ops, not root: log in as one of them (user), or get a certificate for root from your SSH CA`
	if hints := a.certHints(ep, ss); len(hints) != 1 || hints[0] != want {
		t.Errorf("hints = %q\nwant %q", hints, want)
	}
	if hints := a.certHints(inventory.Endpoint{User: "ops", IdentityFiles: []string{key}}, ss); len(hints) != 0 {
		t.Errorf("a principal of the certificate: hints %q", hints)
	}
	if d := describe(ss); !strings.HasPrefix(d, "ssh-ed25519-cert-v01@openssh.com "+fp(priv)+` ID "test-cert", ssh-ed25519 `) {
		t.Errorf("describe = %q", d)
	}
}
