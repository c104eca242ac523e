package sftptest_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sftptest"
)

// With Latency, every answer comes that much later: logging in takes
// several round trips (version, key exchange, service, user auth), and a
// file read after it one more at least, and what arrives is intact.
func TestLatency(t *testing.T) {
	t.Parallel()
	const rtt = 50 * time.Millisecond
	s := sftptest.Start(t, sftptest.Options{Latency: rtt})
	p := filepath.Join(t.TempDir(), "f")
	want := payload(t, 100<<10) // more than one SFTP packet
	if err := os.WriteFile(p, want, 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, c := connect(t, s)
	login := time.Since(start)
	if login < 3*rtt {
		t.Errorf("logging in took %v, want at least 3 round trips of %v", login, rtt)
	}
	start = time.Now()
	f, err := c.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if read := time.Since(start); read < 2*rtt {
		t.Errorf("open and read took %v, want at least 2 round trips of %v", read, rtt)
	}
	if string(got) != string(want) {
		t.Errorf("read %d bytes through the delay line, not the %d written", len(got), len(want))
	}
}

// A fleet of servers on their own loopback addresses lets in one admin
// key.
func TestHostAndSharedClientKey(t *testing.T) {
	t.Parallel()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	for _, host := range []string{"127.0.0.2", "127.0.0.3"} {
		s := sftptest.Start(t, sftptest.Options{Host: host, ClientKey: priv})
		if s.Host != host || s.Addr()[:len(host)] != host {
			t.Errorf("server on %s, want %s", s.Addr(), host)
		}
		signer, _ := ssh.NewSignerFromKey(priv)
		if string(s.ClientKey.PublicKey().Marshal()) != string(signer.PublicKey().Marshal()) {
			t.Errorf("%s accepts another key than the one given", host)
		}
		sc, err := ssh.Dial("tcp", s.Addr(), s.ClientConfig("root"))
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		sc.Close()
	}
}
