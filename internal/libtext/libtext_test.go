package libtext

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/elastic/elastic-transport-go/v8/elastictransport"
	"github.com/urfave/cli/v2"
	"golang.org/x/crypto/ssh"
)

// Every test here makes the real library or program fail the way the tool
// meets it, and checks that Of still recognises the words: a library
// upgrade that rewords a message fails here, not in a user's diagnosis.

func signer(t *testing.T) ssh.Signer {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sshServer accepts connections on loopback and runs the server side of
// the handshake with cfg until the test ends.
func sshServer(t *testing.T, cfg *ssh.ServerConfig) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, chans, reqs, err := ssh.NewServerConn(c, cfg); err == nil {
					go ssh.DiscardRequests(reqs)
					for ch := range chans {
						ch.Reject(ssh.Prohibited, "no")
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestSSHNoAcceptedKey(t *testing.T) {
	host := signer(t)
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) {
		return nil, errors.New("not this key")
	}}
	cfg.AddHostKey(host)
	addr := sshServer(t, cfg)
	_, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer(t))},
		HostKeyCallback: ssh.FixedHostKey(host.PublicKey()),
		Timeout:         10 * time.Second,
	})
	if got := Of(err); got.Kind != SSHNoAcceptedKey {
		t.Fatalf("x/crypto/ssh refusing every key says %q: Of = %+v, want SSHNoAcceptedKey", err, got)
	}

	// A handshake that fails for another reason is not a refused key.
	_, err = ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer(t))},
		HostKeyCallback: ssh.FixedHostKey(signer(t).PublicKey()),
		Timeout:         10 * time.Second,
	})
	if err == nil || Of(err).Kind != Unknown {
		t.Fatalf("a refused host key (%v) was recognised as %+v", err, Of(err))
	}
}

// perform sends one request through elastic-transport-go, configured as
// sync/elastic configures it.
func perform(t *testing.T, url string, opts ...elastictransport.Option) error {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "/", nil)
	opts = append(opts, elastictransport.WithURLs(mustURL(t, url)),
		elastictransport.WithTransport(http.DefaultTransport.(*http.Transport).Clone()),
		elastictransport.WithMaxRetries(0), elastictransport.WithDisableRetry())
	tp, err := elastictransport.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tp.Perform(req)
	if err == nil {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	return err
}

func TestTLSFingerprintMismatch(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(srv.Close)
	err := perform(t, srv.URL, elastictransport.WithCertificateFingerprint(strings.Repeat("ab", 32)))
	if got := Of(err); got.Kind != TLSFingerprintMismatch {
		t.Fatalf("elastic-transport-go with a wrong fingerprint says %q: Of = %+v, want TLSFingerprintMismatch", err, got)
	}
	// The right fingerprint connects: the failure above was the fingerprint.
	if err := perform(t, srv.URL, elastictransport.WithCertificateFingerprint(fingerprint(srv))); err != nil {
		t.Fatalf("the server's own fingerprint: %v", err)
	}
}

func TestSudoCommandNotFound(t *testing.T) {
	if _, err := exec.LookPath("sudo"); err != nil {
		t.Skip("no sudo on this machine (.ci/run installs it)")
	}
	if os.Geteuid() != 0 {
		t.Skip("sudo -n asks another user for a password before it looks for the command")
	}
	// As root, as the login does on a node with `sudo: true` and a wrong sftp_server.
	out, err := exec.Command("sudo", "-n", "/nonexistent/es-service-tokens/sftp-server").CombinedOutput()
	if err == nil {
		t.Fatal("sudo ran a command that does not exist")
	}
	msg := strings.TrimSpace(string(out))
	if got := Of(errors.New(msg)); got.Kind != SudoCommandNotFound {
		t.Fatalf("sudo says %q: Of = %+v, want SudoCommandNotFound", msg, got)
	}
}

func TestFlagParseError(t *testing.T) {
	for _, value := range []string{"soon", `a "quoted" value`, "1h:2"} {
		var usageErr error
		app := &cli.App{
			Name:   "t",
			Flags:  []cli.Flag{&cli.DurationFlag{Name: "timeout"}, &cli.IntFlag{Name: "retries"}},
			Action: func(*cli.Context) error { return nil },
			OnUsageError: func(_ *cli.Context, err error, _ bool) error {
				usageErr = err
				return err
			},
			Writer: io.Discard, ErrWriter: io.Discard,
		}
		app.Run([]string{"t", "--timeout", value})
		got := Of(usageErr)
		if got.Kind != FlagParseError || got.Flag != "timeout" || got.Value != value {
			t.Errorf("urfave/cli on --timeout %q says %q: Of = %+v, want FlagParseError for timeout", value, usageErr, got)
		}
	}
}

func TestUnknownWordsAreUnknown(t *testing.T) {
	for _, err := range []error{nil, errors.New("connection refused"), errors.New(`invalid value "x" for flag -n: value out of range`)} {
		if got := Of(err); got != (Match{}) {
			t.Errorf("Of(%v) = %+v, want nothing", err, got)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// fingerprint is the SHA-256 of srv's certificate, as elasticsearch.ca_fingerprint gives it.
func fingerprint(srv *httptest.Server) string {
	sum := sha256.Sum256(srv.Certificate().Raw)
	return hex.EncodeToString(sum[:])
}

func TestSSHNoCommonHostKeyAlgorithm(t *testing.T) {
	host := signer(t) // ssh-ed25519
	cfg := &ssh.ServerConfig{NoClientAuth: true}
	cfg.AddHostKey(host)
	addr := sshServer(t, cfg)
	_, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User:              "root",
		HostKeyAlgorithms: []string{ssh.KeyAlgoECDSA256}, // what known_hosts held for it
		HostKeyCallback:   ssh.FixedHostKey(host.PublicKey()),
		Timeout:           10 * time.Second,
	})
	if got := Of(err); got.Kind != SSHNoCommonHostKeyAlgorithm {
		t.Fatalf("x/crypto/ssh with no host key type in common says %q: Of = %+v, want SSHNoCommonHostKeyAlgorithm", err, got)
	}

	// No cipher in common is another negotiation failure, not a host key's.
	_, err = ssh.Dial("tcp", addr, &ssh.ClientConfig{
		User:            "root",
		Config:          ssh.Config{Ciphers: []string{"aes128-cbc"}}, // not among the server's defaults
		HostKeyCallback: ssh.FixedHostKey(host.PublicKey()),
		Timeout:         10 * time.Second,
	})
	var alg *ssh.AlgorithmNegotiationError
	if !errors.As(err, &alg) || Of(err).Kind != Unknown {
		t.Fatalf("no common cipher (%v) was recognised as %+v", err, Of(err))
	}
}

func TestHTTPResponseToHTTPS(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(srv.Close)
	https := "https://" + srv.Listener.Addr().String()
	// Through elastic-transport-go, as sync/elastic sends every request.
	err := perform(t, https)
	if got := Of(err); got.Kind != HTTPResponseToHTTPS {
		t.Fatalf("elastic-transport-go against plain http says %q: Of = %+v, want HTTPResponseToHTTPS", err, got)
	}
	// Through net/http's Client.
	_, err = srv.Client().Get(https)
	if got := Of(err); got.Kind != HTTPResponseToHTTPS {
		t.Fatalf("net/http against plain http says %q: Of = %+v, want HTTPResponseToHTTPS", err, got)
	}
}
