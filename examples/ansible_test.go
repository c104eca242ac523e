package examples

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sshdtest"
)

// TestAnsiblePlaybook runs examples/ansible/service-tokens.yml with
// ansible-playbook against real sshd nodes, as an Ansible user would: the
// first run creates the token and writes every node (changed), the second
// changes nothing (changed=0), check mode reports a change without making
// it, and a node that cannot be written fails the play.
func TestAnsiblePlaybook(t *testing.T) {
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
	inv := writeInventory(t, dir, c)
	run := func(extra map[string]any, args ...string) recap {
		t.Helper()
		vars := map[string]any{"est_bin": bin, "est_inventory": inv}
		for k, v := range extra {
			vars[k] = v
		}
		js, _ := json.Marshal(vars)
		cmd := exec.Command(playbook, append([]string{"ansible/service-tokens.yml", "-e", string(js)}, args...)...)
		cmd.Env = append(os.Environ(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_LOCALHOST_WARNING=false", "ANSIBLE_INVENTORY_UNPARSED_WARNING=false")
		out, _ := cmd.CombinedOutput()
		r := parseRecap(t, out)
		t.Logf("ansible-playbook %v: %+v", args, r)
		return r
	}
	token := map[string]any{"principal": "elastic/kibana", "name": "kibana-1", "token_file": filepath.Join(dir, "kibana-1.token")}
	tokens := map[string]any{"est_tokens": []any{token}}

	if r := run(tokens); r.changed != 2 || r.failed != 0 {
		t.Fatalf("first run: %+v, want changed=2 (create, push) failed=0", r)
	}
	local, err := os.ReadFile(filepath.Join(dir, "service_tokens"))
	if err != nil || !bytes.Contains(local, []byte("elastic/kibana/kibana-1:")) {
		t.Fatalf("local file after the first run: %q, %v", local, err)
	}
	for _, n := range c.Nodes {
		if got, _ := os.ReadFile(n.HostPath()); !bytes.Equal(got, local) {
			t.Fatalf("%s holds %q, want the local file", n.Name, got)
		}
	}
	if _, err := os.Stat(token["token_file"].(string)); err != nil {
		t.Fatalf("token file: %v", err)
	}
	if r := run(tokens); r.changed != 0 || r.failed != 0 {
		t.Fatalf("second run: %+v, want changed=0 failed=0", r)
	}

	// Check mode: a new token and a drifted node are reported, not made.
	os.WriteFile(c.Nodes[1].HostPath(), nil, 0o660)
	more := map[string]any{"est_tokens": []any{token, map[string]any{"principal": "elastic/fleet-server", "name": "fleet-1",
		"token_file": filepath.Join(dir, "fleet-1.token")}}}
	if r := run(more, "--check"); r.changed != 2 || r.failed != 0 {
		t.Fatalf("check mode: %+v, want changed=2 (would create, would push) failed=0", r)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "service_tokens")); !bytes.Equal(after, local) {
		t.Fatal("check mode changed the local file")
	}
	if got, _ := os.ReadFile(c.Nodes[1].HostPath()); len(got) != 0 {
		t.Fatal("check mode wrote a node")
	}
	if _, err := os.Stat(filepath.Join(dir, "fleet-1.token")); err == nil {
		t.Fatal("check mode wrote a token file")
	}

	// A real run repairs the node and creates the token; a node that is
	// down fails the play.
	if r := run(more); r.changed != 2 || r.failed != 0 {
		t.Fatalf("third run: %+v, want changed=2 failed=0", r)
	}
	c.Nodes[0].Stop()
	if r := run(more); r.failed != 1 {
		t.Fatalf("with a node down: %+v, want failed=1", r)
	}
}

// writeInventory writes a native inventory of the cluster's nodes, with
// the local file beside it.
func writeInventory(t *testing.T, dir string, c *sshdtest.Cluster) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "local_file: service_tokens\ndefaults:\n  user: %s\n  identity_file: %s\n  known_hosts: %s\n  owner: %s\n  group: %s\n  mode: \"0660\"\n  connect_timeout: 5s\nnodes:\n",
		u.Username, c.ClientKeyFile, c.KnownHostsFile, u.Username, g.Name)
	for _, n := range c.Nodes {
		fmt.Fprintf(&b, "  - name: %s\n    host: %s\n    port: %d\n    path: %s\n", n.Name, n.Host, n.Port, n.Path())
	}
	p := filepath.Join(dir, "cluster.yml")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

type recap struct{ ok, changed, failed, unreachable int }

var recapLine = regexp.MustCompile(`(?m)^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)`)

func parseRecap(t *testing.T, out []byte) recap {
	t.Helper()
	m := recapLine.FindSubmatch(out)
	if m == nil {
		t.Fatalf("no PLAY RECAP line in:\n%s", out)
	}
	n := func(i int) int { v, _ := strconv.Atoi(string(m[i])); return v }
	return recap{ok: n(1), changed: n(2), unreachable: n(3), failed: n(4)}
}
