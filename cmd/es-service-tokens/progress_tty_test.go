package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/nodetest"
)

// pushTo runs push against in-process nodes with stderr as given and
// returns what stdout got.
func pushTo(t *testing.T, stderr io.Writer, extra ...string) string {
	t.Helper()
	c := nodetest.Start("es-1", "es-2", "es-3")
	t.Cleanup(c.Close)
	dir := t.TempDir()
	var inv strings.Builder
	inv.WriteString("nodes:\n")
	for _, n := range c.Nodes {
		fmt.Fprintf(&inv, "  - {name: %s, host: %s, port: %d, user: %s, identity_file: %s, known_hosts: %s, path: %s, owner: %q, group: %q, mode: \"0640\"}\n",
			n.Name, n.Host, n.Port, n.User, n.IdentityFiles[0], n.KnownHostsFiles[0], n.Path, n.Owner, n.Group)
	}
	writeFile(t, filepath.Join(dir, "cluster.yml"), inv.String())
	writeFile(t, filepath.Join(dir, "service_tokens"), string(nodetest.TokenFile("elastic/fleet-server/t1")))
	var stdout bytes.Buffer
	args := append([]string{"es-service-tokens", "-i", filepath.Join(dir, "cluster.yml"), "--file", filepath.Join(dir, "service_tokens")}, extra...)
	if code := run(append(args, "push"), strings.NewReader(""), &stdout, stderr, func(string) string { return "" }); code != 0 {
		t.Fatalf("push exited %d: %s", code, stdout.String())
	}
	return stdout.String()
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// On a terminal, a push draws its progress line on stderr: every node
// counted, the pace and time left while nodes remain, and the line
// cleared at the end.
func TestProgressOnATerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 200}); err != nil {
		t.Fatal(err)
	}
	screen := make(chan string)
	go func() { b, _ := io.ReadAll(ptmx); screen <- string(b) }()
	pushTo(t, tty)
	tty.Close() // the reader gets everything, then EIO
	got := <-screen
	for _, want := range []string{"[1/3] es-", "[2/3] es-", "[3/3] es-", " nodes/s, about ", " left"} {
		if !strings.Contains(got, want) {
			t.Errorf("terminal shows no %q: %q", want, got)
		}
	}
	if !strings.HasSuffix(got, "\r\033[K") {
		t.Errorf("progress line not cleared at the end: %q", got)
	}
}

// Piped, or with JSON, stderr gets no progress line and no control
// characters, terminal or not.
func TestNoProgressWhenNotATerminal(t *testing.T) {
	var piped bytes.Buffer
	pushTo(t, &piped)
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	pushTo(t, f)
	f.Close()
	file, _ := os.ReadFile(f.Name())
	outputs := map[string]string{"a pipe": piped.String(), "a file": string(file)}
	for where, got := range outputs {
		if strings.ContainsAny(got, "\r\033") || strings.Contains(got, "[1/3]") {
			t.Errorf("progress on %s: %q", where, got)
		}
	}
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer ptmx.Close()
	screen := make(chan string)
	go func() { b, _ := io.ReadAll(ptmx); screen <- string(b) }()
	pushTo(t, tty, "--format", "json")
	tty.Close()
	if got := <-screen; strings.Contains(got, "\033[K") || strings.Contains(got, "[1/3]") {
		t.Errorf("progress with JSON on a terminal: %q", got)
	}
}
