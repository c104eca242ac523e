package estest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// newToken makes a token of elastic/kibana and its file line.
func newToken(t *testing.T, name string) (tokens.Token, string) {
	t.Helper()
	return newTokenOf(t, "elastic/kibana", name)
}

// status sends bearer to url's _authenticate and returns the HTTP status.
func status(t *testing.T, c *Cluster, url, bearer string) int {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CAPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
	req, _ := http.NewRequest(http.MethodGet, url+"/_security/_authenticate", nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	res, err := hc.Do(req)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// start runs a cluster whose node i reads files[i], on hosts 127.0.0.(i+2)
// unless shared, reloading every 20ms.
func start(t *testing.T, shared bool, files ...string) *Cluster {
	t.Helper()
	var specs []NodeSpec
	for i, f := range files {
		s := NodeSpec{Name: fmt.Sprintf("n%d", i+1), File: f, Reload: 20 * time.Millisecond}
		if !shared {
			s.Host = fmt.Sprintf("127.0.0.%d", i+2)
		}
		specs = append(specs, s)
	}
	c, err := Start(Options{Nodes: specs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// eventually fails unless cond holds within 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5s: %s", what)
		}
	}
}

// Each node's own address authenticates with the file that node loaded,
// not the first node's: a token only one node has is accepted there alone.
func TestEachNodeAuthenticatesWithItsOwnFile(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprintf("shared host %v", shared), func(t *testing.T) {
			dir := t.TempDir()
			tok, line := newToken(t, "k1")
			a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
			os.WriteFile(a, []byte(line), 0o644)
			os.WriteFile(b, nil, 0o644)
			c := start(t, shared, a, b)
			if got := status(t, c, c.NodeURL("n1"), tok.Bearer()); got != 200 {
				t.Errorf("n1 answered %d, want 200", got)
			}
			if got := status(t, c, c.NodeURL("n2"), tok.Bearer()); got != 401 {
				t.Errorf("n2 answered %d, want 401 (its file lacks the token)", got)
			}
			if c.NodeRequests("n1") != 1 || c.NodeRequests("n2") != 1 {
				t.Errorf("node requests n1=%d n2=%d, want 1 each", c.NodeRequests("n1"), c.NodeRequests("n2"))
			}
			if port := c.NodePort(); (port != 0) == shared {
				t.Errorf("NodePort = %d with shared host %v", port, shared)
			}
			// n2 reloads on its own schedule and then accepts it too.
			os.WriteFile(b, []byte(line), 0o644)
			eventually(t, "n2 accepts after reloading", func() bool { return status(t, c, c.NodeURL("n2"), tok.Bearer()) == 200 })
		})
	}
}

// A node whose file does not parse has no file tokens: it refuses a token
// its (malformed) file still names.
func TestMalformedFileRefusesEveryToken(t *testing.T) {
	dir := t.TempDir()
	tok, line := newToken(t, "k1")
	a := filepath.Join(dir, "a")
	os.WriteFile(a, []byte(line+"not a token line\n"), 0o644)
	c := start(t, false, a)
	if got := status(t, c, c.NodeURL("n1"), tok.Bearer()); got != 401 {
		t.Errorf("answered %d, want 401", got)
	}
}

// A stale node keeps the old hash under a re-created name: the credentials
// API still lists the name there, yet only the old secret works on it.
func TestStaleNodeKeepsTheOldHash(t *testing.T) {
	dir := t.TempDir()
	old, oldLine := newToken(t, "k1")
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, []byte(oldLine), 0o644)
	os.WriteFile(b, []byte(oldLine), 0o644)
	c := start(t, false, a, b)
	if err := c.Stale("n2", old.QualifiedName()); err != nil {
		t.Fatal(err)
	}
	if err := c.Stale("n2", "elastic/kibana/none"); err == nil {
		t.Error("Stale accepted a token the node has not loaded")
	}
	recreated, newLine := newToken(t, "k1")
	for _, f := range []string{a, b} {
		os.WriteFile(f, []byte("\n"+newLine), 0o644) // another size: both reload
	}
	eventually(t, "n1 accepts the re-created token", func() bool { return status(t, c, c.NodeURL("n1"), recreated.Bearer()) == 200 })
	eventually(t, "n2 reloaded the new file", func() bool {
		n := c.node("n2")
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.reloads >= 2 // the first is at start
	})
	for i := 0; i < 10; i++ {
		if got := status(t, c, c.NodeURL("n2"), recreated.Bearer()); got != 401 {
			t.Fatalf("stale n2 answered %d to the new secret, want 401", got)
		}
	}
	if got := status(t, c, c.NodeURL("n2"), old.Bearer()); got != 200 {
		t.Errorf("stale n2 answered %d to the old secret, want 200", got)
	}
	if got := c.Loaded("n2"); len(got) != 1 || got[0] != old.QualifiedName() {
		t.Errorf("n2 lists %v, want the name", got)
	}
}

// A stopped node's address refuses connections while the others answer.
func TestStopNode(t *testing.T) {
	dir := t.TempDir()
	tok, line := newToken(t, "k1")
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, []byte(line), 0o644)
	os.WriteFile(b, []byte(line), 0o644)
	c := start(t, false, a, b)
	c.StopNode("n2")
	if got := status(t, c, c.NodeURL("n2"), tok.Bearer()); got != 0 {
		t.Errorf("stopped n2 answered %d", got)
	}
	if got := status(t, c, c.NodeURL("n1"), tok.Bearer()); got != 200 {
		t.Errorf("n1 answered %d, want 200", got)
	}
}
