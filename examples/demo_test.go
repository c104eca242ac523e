package examples

import (
	"os"
	"os/exec"
	"regexp"
	"testing"
)

// TestDemo runs the README's first command as a newcomer would (the demo
// that examples/demo.sh starts) and checks that it shows what the README
// says it shows: create confirmed and its secret accepted on every node,
// drift found and repaired, a lost local copy pulled back, a token
// delivered to Kibana and rotated, the metadata listed, ages judged, the
// library's check; and no secret in its output.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sshd nodes")
	}
	if os.Geteuid() != 0 {
		t.Skip("the demo needs root, as the README says")
	}
	cmd := exec.Command("go", "run", "./examples/demo")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the demo failed: %v\n%s", err, out)
	}
	for _, want := range []string{
		`(?m)^elasticsearch https://\S+: confirmed \S+ after the last write: 3 nodes list elastic/fleet-server/demo-token`,
		`(?m)^secret of elastic/fleet-server/demo-token: accepted by every node with an address \(3\)`,
		`(?m)^es-2  drift .* mode 0644 \(want 0660\)$`,
		`(?m)^es-2  fixed `,
		`(?m)^pulled es-1:/etc/elasticsearch/service_tokens \(sha256:\w+, 1 token\) to service_tokens$`,
		`(?m)^kibana  kibana_keystore  delivered `,
		`(?m)^rotated elastic/kibana/kibana-1 to elastic/kibana/kibana-1-\d{8}T\d{6}Z in `,
		`(?m)^elastic/kibana/kibana-1-\S+ +\S+ +\S+ +root@\S+ +kibana +from kibana-1 +Kibana on kb-1$`,
		`(?m)^token elastic/fleet-server/demo-token is \d+s old, over max_token_age 1: renew it with: `,
		`(?m)^  exit code as the CLI's: 0$`,
	} {
		if !regexp.MustCompile(want).Match(out) {
			t.Errorf("the demo's output lacks %s\n%s", want, out)
		}
	}
	if regexp.MustCompile(`AAEAA`).Match(out) {
		t.Errorf("the demo printed a bearer token:\n%s", out)
	}
}
