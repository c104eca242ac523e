package hostkeys

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/es-service-tokens/es-service-tokens/inventory"
)

// server is an SSH server with an ed25519 and an ECDSA host key that
// accepts any client: only the host key check is under test.
type server struct {
	addr   string
	ed, ec ssh.Signer
}

func startServer(t *testing.T) *server {
	t.Helper()
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ecPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ed, _ := ssh.NewSignerFromKey(edPriv)
	ec, _ := ssh.NewSignerFromKey(ecPriv)
	return &server{addr: serve(t, ed, ec), ed: ed, ec: ec}
}

func dial(t *testing.T, c *Checker, s *server, files []string, mode string) error {
	t.Helper()
	cb, algs, err := c.Config(files, mode, s.addr)
	if err != nil {
		return err
	}
	client, err := ssh.Dial("tcp", s.addr, &ssh.ClientConfig{User: "u", HostKeyCallback: cb, HostKeyAlgorithms: algs})
	if err != nil {
		return err
	}
	client.Close()
	return nil
}

func write(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A host with several keys, of which known_hosts holds only the one Go
// would not pick first, must not look like a changed key (golang/go#29286).
func TestOnlyKnownKeyTypeIsNegotiated(t *testing.T) {
	s := startServer(t)
	kh := write(t, knownhosts.Line([]string{knownhosts.Normalize(s.addr)}, s.ec.PublicKey()))
	if err := dial(t, &Checker{}, s, []string{kh}, inventory.HostKeyStrict); err != nil {
		t.Fatalf("known ECDSA key refused: %v", err)
	}
}

func TestHashedAndPortEntries(t *testing.T) {
	s := startServer(t)
	hashed := knownhosts.Line([]string{knownhosts.HashHostname(knownhosts.Normalize(s.addr))}, s.ed.PublicKey())
	if err := dial(t, &Checker{}, s, []string{write(t, "# comment", hashed)}, inventory.HostKeyStrict); err != nil {
		t.Fatalf("hashed [host]:port entry refused: %v", err)
	}
}

func TestUnknownHostStrict(t *testing.T) {
	s := startServer(t)
	kh := write(t, "# nothing known")
	err := dial(t, &Checker{}, s, []string{kh}, inventory.HostKeyStrict)
	var ue *UnknownHostError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want UnknownHostError", err)
	}
	msg := ue.Error()
	if !strings.Contains(msg, ssh.FingerprintSHA256(s.ed.PublicKey())) && !strings.Contains(msg, ssh.FingerprintSHA256(s.ec.PublicKey())) {
		t.Errorf("message %q shows neither host key's fingerprint", msg)
	}
	for _, want := range []string{"ssh-keyscan -p ", "host_key_check: accept-new", kh} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if b, _ := os.ReadFile(kh); strings.Contains(string(b), "ssh-") {
		t.Error("strict mode wrote to known_hosts")
	}
}

func TestAcceptNewRecordsThenPins(t *testing.T) {
	s := startServer(t)
	kh := filepath.Join(t.TempDir(), "sub", "known_hosts") // created on demand
	var notes []string
	c := &Checker{Notify: func(m string) { notes = append(notes, m) }}
	if err := dial(t, c, s, []string{kh}, inventory.HostKeyAcceptNew); err != nil {
		t.Fatalf("accept-new: %v", err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "recorded new host key") {
		t.Errorf("notes = %q", notes)
	}
	st, err := os.Stat(kh)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("known_hosts not created 0600: %v %v", st, err)
	}
	// The recorded key is now what strict mode trusts.
	if err := dial(t, &Checker{}, s, []string{kh}, inventory.HostKeyStrict); err != nil {
		t.Fatalf("strict after accept-new: %v", err)
	}
	// A different key for the same host is refused even in accept-new.
	other := startServer(t)
	_, port, _ := net.SplitHostPort(other.addr)
	b, _ := os.ReadFile(kh)
	_, sport, _ := net.SplitHostPort(s.addr)
	os.WriteFile(kh, []byte(strings.Replace(string(b), "]:"+sport+" ", "]:"+port+" ", 1)), 0o600)
	err = dial(t, &Checker{}, other, []string{kh}, inventory.HostKeyAcceptNew)
	var ce *ChangedKeyError
	if !errors.As(err, &ce) {
		t.Fatalf("changed key under accept-new: %v, want ChangedKeyError", err)
	}
	if !strings.Contains(ce.Error(), "HOST KEY CHANGED") || !strings.Contains(ce.Error(), "ssh-keygen -R") {
		t.Errorf("message: %s", ce.Error())
	}
}

func TestNoSkipMode(t *testing.T) {
	if _, _, err := (&Checker{}).Config([]string{"x"}, "no", "h:22"); err == nil {
		t.Error("a mode that skips checking was accepted")
	}
}
