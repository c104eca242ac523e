package examples

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/estest"
	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sshdtest"
)

// TestAnsiblePlaybookDeliver runs the playbook's other branch: a token with
// "deliver": true is created with --deliver, proven on every node's own
// address and handed to the inventory's consumer, its secret never on the
// controller nor in Ansible's output; the second run changes nothing.
func TestAnsiblePlaybookDeliver(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sshd nodes and runs ansible-playbook")
	}
	playbook, err := exec.LookPath("ansible-playbook")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ansible-playbook is not installed (.ci/run installs ansible-core)")
		}
		t.Skip("no ansible-playbook")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "es-service-tokens")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/es-service-tokens").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	c := sshdtest.Start(t, sshdtest.Options{Nodes: 2})
	kb := sshdtest.Start(t, sshdtest.Options{Nodes: 1, NamePrefix: "kb-"})
	inv := writeInventory(t, dir, c)
	received := filepath.Join(dir, "kibana.token")
	appendFile(t, inv, esSection(t, dir, c)+fmt.Sprintf(
		"consumers:\n  - name: kibana\n    host: %s\n    port: %d\n    identity_file: %s\n    known_hosts: %s\n    token: elastic/kibana/kibana-1\n    command: cat > %s\n",
		kb.Nodes[0].Host, kb.Nodes[0].Port, kb.ClientKeyFile, kb.KnownHostsFile, received))
	run := func() (recap, []byte) {
		t.Helper()
		vars, _ := json.Marshal(map[string]any{"est_bin": bin, "est_inventory": inv,
			"est_tokens": []any{map[string]any{"principal": "elastic/kibana", "name": "kibana-1", "deliver": true}}})
		cmd := exec.Command(playbook, "ansible/service-tokens.yml", "-e", string(vars))
		cmd.Env = append(os.Environ(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_LOCALHOST_WARNING=false", "ANSIBLE_INVENTORY_UNPARSED_WARNING=false")
		out, _ := cmd.CombinedOutput()
		return parseRecap(t, out), out
	}
	r, out := run()
	if r.changed != 1 || r.failed != 0 {
		t.Fatalf("first run: %+v, want changed=1 (create --deliver; the push finds every node written) failed=0\n%s", r, out)
	}
	secret, err := os.ReadFile(received)
	if err != nil || !strings.HasPrefix(string(secret), "AAEAA") {
		t.Fatalf("the consumer received %q, %v", secret, err)
	}
	if strings.Contains(string(out), strings.TrimSpace(string(secret))) {
		t.Fatal("Ansible's output holds the delivered secret")
	}
	verify := exec.Command(bin, "-i", inv, "verify", "--all-nodes")
	verify.Stdin = strings.NewReader(string(secret))
	if out, err := verify.CombinedOutput(); err != nil {
		t.Fatalf("the delivered secret does not work on every node: %v\n%s", err, out)
	}
	if r, out := run(); r.changed != 0 || r.failed != 0 {
		t.Fatalf("second run: %+v, want changed=0 failed=0\n%s", r, out)
	}
}

// esSection starts the simulated cluster over c's nodes, each answering on
// its own node's address, and returns the inventory's elasticsearch: section.
func esSection(t *testing.T, dir string, c *sshdtest.Cluster) string {
	t.Helper()
	key := estest.EncodeAPIKey("ansible", "s3cret")
	opts := estest.Options{APIKey: key}
	for i, n := range c.Nodes {
		name := fmt.Sprintf("es-node-%d", i+1)
		if err := os.WriteFile(filepath.Join(n.ConfDir, "elasticsearch.yml"), []byte("node.name: "+name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		opts.Nodes = append(opts.Nodes, estest.NodeSpec{Name: name, File: n.HostPath(), Reload: 200 * time.Millisecond, Host: n.Host})
	}
	es, err := estest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(es.Close)
	ca, keyFile := filepath.Join(dir, "es-ca.pem"), filepath.Join(dir, "es-api-key")
	if err := os.WriteFile(ca, es.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("elasticsearch:\n  url: %s\n  ca: %s\n  api_key_file: %s\n  node_url: https://{host}:%d\n", es.URL, ca, keyFile, es.NodePort())
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}
