package elastic

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/estest"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// proofCluster runs n nodes on 127.0.0.(2+i), node i reading files[i]
// every reload (0: never after start).
type proofCluster struct {
	c     *estest.Cluster
	files []string
	cfg   Config
}

func startProof(t *testing.T, reload ...time.Duration) *proofCluster {
	t.Helper()
	dir := t.TempDir()
	pc := &proofCluster{}
	var opts estest.Options
	for i, r := range reload {
		p := filepath.Join(dir, fmt.Sprintf("node%d", i+1))
		pc.files = append(pc.files, p)
		opts.Nodes = append(opts.Nodes, estest.NodeSpec{Name: fmt.Sprintf("node-%d", i+1), File: p, Reload: r, Host: fmt.Sprintf("127.0.0.%d", i+2)})
	}
	c, err := estest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	pc.c = c
	pc.cfg = Config{URLs: []string{c.URL}, CACert: c.CAPEM}
	return pc
}

func (pc *proofCluster) endpoints() []NodeEndpoint {
	var out []NodeEndpoint
	for i := range pc.files {
		name := fmt.Sprintf("node-%d", i+1)
		out = append(out, NodeEndpoint{Node: "es-" + fmt.Sprint(i+1), URL: pc.c.NodeURL(name)})
	}
	return out
}

// writeAll writes data to the files of the nodes given (every node when none).
func (pc *proofCluster) writeAll(t *testing.T, data string, nodes ...int) {
	t.Helper()
	if len(nodes) == 0 {
		for i := range pc.files {
			nodes = append(nodes, i)
		}
	}
	for _, i := range nodes {
		if err := os.WriteFile(pc.files[i], []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func kibanaToken(t *testing.T, name string) (tokens.Token, string) {
	t.Helper()
	acct, _ := tokens.LookupAccount("elastic/kibana")
	alg, _ := tokens.ParseAlgorithm("pbkdf2_stretch_1000")
	tok, hash, err := tokens.New(acct, name, alg, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return tok, tok.QualifiedName() + ":" + hash + "\n"
}

func verdicts(p Proof) string {
	var parts []string
	for _, n := range p.Nodes {
		parts = append(parts, n.Node+"="+string(n.Verdict))
	}
	return strings.Join(parts, " ")
}

// noSecret fails when the proof carries the bearer or its secret anywhere.
func noSecret(t *testing.T, p Proof, tok tokens.Token) {
	t.Helper()
	s := fmt.Sprintf("%+v", p)
	if strings.Contains(s, tok.Bearer()) || strings.Contains(s, tok.Secret) {
		t.Errorf("the proof holds the secret: %s", s)
	}
}

// Every node that loaded the token accepts it at once: one request each.
func TestProveSecretAcceptedEverywhere(t *testing.T) {
	t.Parallel() // waits on reloads and polls, not on the CPU
	pc := startProof(t, 20*time.Millisecond, 20*time.Millisecond, 20*time.Millisecond)
	tok, line := kibanaToken(t, "k1")
	pc.writeAll(t, line)
	p := ProveSecret(context.Background(), pc.cfg, tok.Bearer(), pc.endpoints(), time.Time{}, 5*time.Second)
	if !p.Accepted || verdicts(p) != "es-1=accepted es-2=accepted es-3=accepted" {
		t.Fatalf("proof: %s (%+v)", verdicts(p), p)
	}
	if p.Token != "elastic/kibana/k1" {
		t.Errorf("token = %q", p.Token)
	}
	for i, n := range pc.endpoints() {
		if got := pc.c.NodeRequests(fmt.Sprintf("node-%d", i+1)); got < 1 || n.URL == pc.c.URL {
			t.Errorf("node %d's own address got %d requests", i+1, got)
		}
	}
	noSecret(t, p, tok)
}

// A node that has not reloaded yet is asked again until it accepts.
func TestProveSecretWaitsForAReload(t *testing.T) {
	t.Parallel() // waits on reloads and polls, not on the CPU
	pc := startProof(t, 20*time.Millisecond, 400*time.Millisecond)
	tok, line := kibanaToken(t, "k1")
	since := time.Now()
	pc.writeAll(t, line)
	p := ProveSecret(context.Background(), pc.cfg, tok.Bearer(), pc.endpoints(), since, 10*time.Second)
	if !p.Accepted {
		t.Fatalf("proof: %s", verdicts(p))
	}
	if slow := p.Nodes[1]; slow.Requests < 2 || slow.Seconds < 0.3 {
		t.Errorf("slow node: %d requests, accepted after %.2fs; want it asked again until its reload", slow.Requests, slow.Seconds)
	}
}

// A stale node lists the re-created token by name but refuses its new
// secret; the proof says so after the timeout, and the others accept.
func TestProveSecretCatchesAStaleHash(t *testing.T) {
	t.Parallel() // waits on reloads and polls, not on the CPU
	pc := startProof(t, 20*time.Millisecond, 20*time.Millisecond)
	old, oldLine := kibanaToken(t, "k1")
	pc.writeAll(t, oldLine)
	p := ProveSecret(context.Background(), pc.cfg, old.Bearer(), pc.endpoints(), time.Time{}, 5*time.Second)
	if !p.Accepted {
		t.Fatalf("old token: %s", verdicts(p))
	}
	if err := pc.c.Stale("node-2", old.QualifiedName()); err != nil {
		t.Fatal(err)
	}
	tok, line := kibanaToken(t, "k1")
	pc.writeAll(t, "\n"+line)
	start := time.Now()
	p = ProveSecret(context.Background(), pc.cfg, tok.Bearer(), pc.endpoints(), start, 1*time.Second)
	if p.Accepted || verdicts(p) != "es-1=accepted es-2=rejected" {
		t.Fatalf("proof: %s", verdicts(p))
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("gave up after %v, before the timeout", took)
	}
	if got := pc.c.Loaded("node-2"); len(got) != 1 {
		t.Errorf("node-2 lists %v: the credentials API would have confirmed it by name", got)
	}
	if r := p.Nodes[1].Reason; !strings.Contains(r, "401") {
		t.Errorf("reason = %q", r)
	}
	noSecret(t, p, tok)
}

// A node whose address does not answer is unreachable, with the reason;
// one whose file does not parse has no file tokens and rejects it.
func TestProveSecretUnreachableAndMalformed(t *testing.T) {
	t.Parallel() // waits on reloads and polls, not on the CPU
	pc := startProof(t, 20*time.Millisecond, 20*time.Millisecond, 20*time.Millisecond)
	tok, line := kibanaToken(t, "k1")
	pc.writeAll(t, line, 0, 1)
	pc.writeAll(t, line+"garbage\n", 2)
	pc.c.StopNode("node-2")
	p := ProveSecret(context.Background(), pc.cfg, tok.Bearer(), pc.endpoints(), time.Time{}, 600*time.Millisecond)
	if got := verdicts(p); got != "es-1=accepted es-2=unreachable es-3=rejected" {
		t.Fatalf("proof: %s", got)
	}
	if r := p.Nodes[1].Reason; !strings.Contains(r, "connection refused") {
		t.Errorf("unreachable reason = %q", r)
	}
	noSecret(t, p, tok)
}

// A certificate the configured CA did not sign is unreachable, and the
// bearer is not sent to a server it cannot trust.
func TestProveSecretChecksTheCertificate(t *testing.T) {
	t.Parallel() // waits on reloads and polls, not on the CPU
	pc := startProof(t, 20*time.Millisecond)
	other := startProof(t, 20*time.Millisecond)
	tok, line := kibanaToken(t, "k1")
	pc.writeAll(t, line)
	p := ProveSecret(context.Background(), other.cfg, tok.Bearer(), pc.endpoints(), time.Time{}, 300*time.Millisecond)
	if p.Nodes[0].Verdict != Unreachable || !strings.Contains(p.Nodes[0].Reason, "unknown authority") {
		t.Fatalf("proof: %+v", p.Nodes[0])
	}
	if pc.c.NodeRequests("node-1") != 0 {
		t.Errorf("the node served %d requests over an untrusted connection", pc.c.NodeRequests("node-1"))
	}
}
