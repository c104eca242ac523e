package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/agent"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
)

// fakeAgent is an ssh-agent holding one key that counts its open
// connections, so a test can see whether a command closed its own.
type fakeAgent struct {
	socket string
	mu     sync.Mutex
	open   int
	dialed int           // connections ever accepted
	closed chan struct{} // receives once per connection the client closed
}

func startAgent(t *testing.T) *fakeAgent {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	kr := agent.NewKeyring()
	if err := kr.Add(agent.AddedKey{PrivateKey: key}); err != nil {
		t.Fatal(err)
	}
	// A short directory: unix socket paths are limited to ~100 bytes.
	dir, err := os.MkdirTemp("", "agent")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	a := &fakeAgent{socket: filepath.Join(dir, "sock"), closed: make(chan struct{}, 16)}
	l, err := net.Listen("unix", a.socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			a.mu.Lock()
			a.open++
			a.dialed++
			a.mu.Unlock()
			go func() {
				agent.ServeAgent(kr, conn) // returns when the client closes
				conn.Close()
				a.mu.Lock()
				a.open--
				a.mu.Unlock()
				a.closed <- struct{}{}
			}()
		}
	}()
	return a
}

// Create and delete with -i open the agent (and a signal handler and a
// dialer) before they change the local file; every way they end, early
// returns included, must close them again.
func TestChangeClosesWhatItOpensOnEveryPath(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "cluster.yml")
	// A node nobody dials: every case below ends before any push.
	if err := os.WriteFile(inv, []byte("nodes:\n  - name: es-1\n    host: 127.0.0.1\n    port: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "service_tokens")
	const existing = "elastic/fleet-server/a:{PBKDF2_STRETCH}10000$8QN+eThJEaCd18sCP0nfzxJq2D9yhmSZgI20TDooYcE=$+0ELfqW4D2+/SlHvm/885dzv67qO2SMJg32Mv/9epXk=\n"
	if err := os.WriteFile(file, []byte(existing), 0o600); err != nil {
		t.Fatal(err)
	}
	taken := filepath.Join(dir, "taken.token")
	if err := os.WriteFile(taken, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t)
	env := map[string]string{"SSH_AUTH_SOCK": a.socket, "HOME": dir}
	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		{"create of an existing token", []string{"create", "elastic/fleet-server", "a"}, exit.CodeError},
		{"create to a token file that exists", []string{"create", "elastic/fleet-server", "b", "--token-file", taken}, exit.CantCreate},
		{"delete of a missing token", []string{"delete", "elastic/fleet-server", "nope"}, exit.CodeError},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut strings.Builder
			args := append([]string{"es-service-tokens", "--file", file, "-i", inv}, c.args...)
			got := run(args, strings.NewReader(""), &out, &errOut, func(k string) string { return env[k] })
			if got != c.code {
				t.Fatalf("exit %d, want %d; stderr: %s", got, c.code, errOut.String())
			}
			a.mu.Lock()
			open, dialed := a.open, a.dialed
			a.dialed = 0
			a.mu.Unlock()
			if dialed == 0 {
				t.Fatal("the command never reached the agent; the test proves nothing")
			}
			// The agent sees the close after run returns: wait for it, up
			// to a deadline, rather than sleeping.
			for ; open > 0; open-- {
				select {
				case <-a.closed:
				case <-time.After(10 * time.Second):
					t.Fatalf("%s left %d agent connection(s) open", c.name, open)
				}
			}
		})
	}
	if got, _ := os.ReadFile(file); string(got) != existing {
		t.Errorf("the local file changed:\n%s", got)
	}
}
