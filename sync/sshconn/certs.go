package sshconn

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/internal/sshcert"
	"github.com/es-service-tokens/es-service-tokens/inventory"
)

// CertificateError is a configured certificate that cannot be used.
type CertificateError struct {
	Path string
	Err  error
}

func (e *CertificateError) Error() string { return e.Err.Error() }
func (e *CertificateError) Unwrap() error { return e.Err }

// userCert is one certificate file, read once per run.
type userCert struct {
	path string
	cert *ssh.Certificate // nil when absent or unusable
	err  error            // why it cannot be used; nil when absent
}

// withCertificates puts before each key the user certificates for it, as
// ssh pairs them: the certificate files configured (CertificateFile,
// certificate_file), else KEY-cert.pub beside each identity file. A
// certificate is signed with the identity file's key or ssh-agent's, the
// agent's even under IdentitiesOnly, since the certificate was configured.
//
// What the client can know is checked before connecting: a configured
// certificate that is not a user certificate, is outside its validity
// window or has no private key is an error naming it. One found beside a
// key is skipped instead, as ssh skips it, and named if the login fails.
// Principals are not checked here: the node may map them to logins
// (AuthorizedPrincipalsFile), which the client cannot know.
func (a *Auth) withCertificates(ep inventory.Endpoint, keys, agentKeys []ssh.Signer) ([]ssh.Signer, error) {
	explicit := len(ep.CertificateFiles) > 0
	out := keys
	for _, c := range a.certificatesFor(ep) {
		s, err := a.pair(c, keys, agentKeys)
		if err != nil {
			if explicit {
				return nil, err
			}
			continue
		}
		if slices.ContainsFunc(out, func(o ssh.Signer) bool { return bytes.Equal(o.PublicKey().Marshal(), s.PublicKey().Marshal()) }) {
			continue // the agent holds this certificate already
		}
		a.certFrom[string(s.PublicKey().Marshal())] = c.path
		out = insertBefore(out, c.cert.Key, s)
	}
	return out, nil
}

// certificatesFor lists the certificate files ssh would read for ep, read.
// Absent ones are left out (ssh skips them).
func (a *Auth) certificatesFor(ep inventory.Endpoint) []*userCert {
	var out []*userCert
	for _, p := range ep.CertificateFiles {
		c := a.certificate(p)
		if c.cert == nil && c.err == nil {
			// ssh_config's missing files were skipped already: this one
			// was named in the inventory, or has gone since.
			c = &userCert{path: p, err: &CertificateError{p, fmt.Errorf("certificate %s does not exist: fix certificate_file", p)}}
		}
		out = append(out, c)
	}
	if len(out) > 0 {
		return out
	}
	for _, id := range a.identityPaths(ep) {
		if c := a.certificate(id + "-cert.pub"); c.cert != nil || c.err != nil {
			out = append(out, c)
		}
	}
	return out
}

// identityPaths are the identity files of ep: those configured, else the
// default keys that exist.
func (a *Auth) identityPaths(ep inventory.Endpoint) []string {
	if len(ep.IdentityFiles) > 0 {
		return ep.IdentityFiles
	}
	var out []string
	for _, name := range DefaultIdentities {
		p := filepath.Join(a.Home, ".ssh", name)
		if _, err := os.Stat(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// certificate reads a certificate file once.
func (a *Auth) certificate(path string) *userCert {
	if c, ok := a.certs[path]; ok {
		return c
	}
	if a.certs == nil {
		a.certs, a.certFrom = map[string]*userCert{}, map[string]string{}
	}
	c := &userCert{path: path}
	a.certs[path] = c
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c
	}
	if err != nil {
		c.err = &CertificateError{path, fmt.Errorf("certificate %s: %w", path, err)}
		return c
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(b)
	cert, ok := pub.(*ssh.Certificate)
	switch {
	case err != nil || !ok:
		c.err = &CertificateError{path, fmt.Errorf("certificate %s is not an OpenSSH certificate: sign the public key with ssh-keygen -s CA_KEY", path)}
	case cert.CertType != ssh.UserCert:
		c.err = &CertificateError{path, fmt.Errorf("certificate %s is a host certificate; logging in needs a user certificate (ssh-keygen -s without -h)", path)}
	default:
		c.cert = cert
	}
	return c
}

// pair is c's signer: c checked against the clock, signed by the key
// that holds its private half.
func (a *Auth) pair(c *userCert, keys, agentKeys []ssh.Signer) (ssh.Signer, error) {
	if c.err != nil {
		return nil, c.err
	}
	if why := validity(c.cert, a.now()); why != "" {
		return nil, &CertificateError{c.path, fmt.Errorf("certificate %s %s", c.path, why)}
	}
	for _, s := range slices.Concat(keys, agentKeys) {
		if bytes.Equal(s.PublicKey().Marshal(), c.cert.Key.Marshal()) {
			return ssh.NewCertSigner(c.cert, s)
		}
	}
	return nil, &CertificateError{c.path, fmt.Errorf("certificate %s is for key %s %s, which no identity file or ssh-agent key holds: set identity_file to that key, or add it to ssh-agent (ssh-add KEY)",
		c.path, c.cert.Key.Type(), ssh.FingerprintSHA256(c.cert.Key))}
}

// insertBefore puts cert just before the first signer of key in list
// (first of all when none is there, as with an agent-held key under
// IdentitiesOnly).
func insertBefore(list []ssh.Signer, key ssh.PublicKey, cert ssh.Signer) []ssh.Signer {
	i := slices.IndexFunc(list, func(s ssh.Signer) bool { return bytes.Equal(s.PublicKey().Marshal(), key.Marshal()) })
	return slices.Insert(list, max(i, 0), cert)
}

func (a *Auth) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// validity says why cert cannot be used at now, with what to do; "" when
// it can.
func validity(cert *ssh.Certificate, now time.Time) string {
	why, expired := sshcert.Outside(cert, now)
	switch {
	case why == "":
		return ""
	case expired:
		return why + ": get a new one from your SSH CA"
	}
	return why + ": check this machine's clock, or wait"
}

// certHints say why certificates did not let user in: offered ones that
// name other principals or are outside their window now, and those found
// beside a key that were not offered. They are read when a login failed.
func (a *Auth) certHints(ep inventory.Endpoint, offered []ssh.Signer) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var hints []string
	for _, s := range offered {
		cert, ok := s.PublicKey().(*ssh.Certificate)
		if !ok {
			continue
		}
		name := certName(cert, a.certFrom[string(cert.Marshal())])
		switch why := validity(cert, a.now()); {
		case why != "":
			hints = append(hints, name+" "+why)
		case len(cert.ValidPrincipals) > 0 && !slices.Contains(cert.ValidPrincipals, ep.User):
			hints = append(hints, fmt.Sprintf("%s is for principals %s, not %s: log in as one of them (user), or get a certificate for %s from your SSH CA",
				name, safetext.Bounded(strings.Join(cert.ValidPrincipals, ", ")), ep.User, ep.User))
		}
	}
	if len(ep.CertificateFiles) == 0 {
		for _, c := range a.certificatesFor(ep) {
			if c.cert == nil {
				continue
			}
			if why := validity(c.cert, a.now()); why != "" {
				hints = append(hints, fmt.Sprintf("certificate %s was not offered: it %s", c.path, why))
			}
		}
	}
	return hints
}

// certName names a certificate in a message: its file (or ssh-agent) and
// key ID.
func certName(cert *ssh.Certificate, from string) string {
	if from == "" {
		from = "from ssh-agent"
	}
	return fmt.Sprintf("certificate %q (%s)", safetext.Input(cert.KeyId), from)
}
