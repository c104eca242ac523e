package main

// The nodes command's reports, byte for byte, run from an inventory that
// sets every key nodes shows (the other formats' goldens are
// internal/output's). The files were written by the code before the
// output layer moved out of package main (issue 17). Run with -update only
// when a format changes on purpose, and say so in the change.

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden from the code")

func TestGoldenReports(t *testing.T) {
	for name, render := range map[string]func(t *testing.T) []byte{
		"nodes.json": func(t *testing.T) []byte { return goldenNodes(t, true) },
		"nodes.txt":  func(t *testing.T) []byte { return goldenNodes(t, false) },
	} {
		t.Run(name, func(t *testing.T) {
			got := render(t)
			path := filepath.Join("testdata", "golden", name)
			if *updateGolden {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s changed:\n--- got\n%s\n--- want\n%s", name, got, want)
			}
		})
	}
}

// goldenNodes runs the nodes command on an inventory that sets every key
// nodes shows.
func goldenNodes(t *testing.T, asJSON bool) []byte {
	dir := t.TempDir()
	for _, f := range []string{"id_ed25519", "known_hosts", "ca.pem", "api.key", "kb-key"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	inv := `local_file: /etc/es/service_tokens
defaults:
  user: admin
  identity_file: ` + dir + `/id_ed25519
  known_hosts: ` + dir + `/known_hosts
  connect_timeout: 5
elasticsearch:
  url: https://127.0.0.1:9200
  ca: ` + dir + `/ca.pem
  api_key_file: ` + dir + `/api.key
  confirm_timeout: 20s
  node_url: https://{host}:9200
nodes:
  - name: es-1
    host: 127.0.0.2
    port: 2222
    es_node_name: node-1
    jump: root@127.0.0.9:22
  - name: es-2
    host: 127.0.0.3
    sudo: true
    backups: 3
    owner: root
    group: elasticsearch
    mode: "0640"
    es_http_url: https://es-2.example:9200
groups:
  hot: [es-1]
consumers:
  - name: kb-1
    token: elastic/kibana/kibana-1
    host: 127.0.1.2
    kibana_keystore: true
    restart: systemctl restart kibana
    health: curl -fsk https://localhost:5601/api/status
    health_timeout: 90s
  - name: fleet-1
    token: elastic/fleet-server/f1
    host: 127.0.1.3
    env_file: /etc/default/fleet
    key: FLEET_SERVER_SERVICE_TOKEN
    mode: "0600"
`
	path := filepath.Join(dir, "cluster.yml")
	if err := os.WriteFile(path, []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"es-service-tokens", "-i", path, "nodes", "--ssh-config", filepath.Join(dir, "none")}
	if asJSON {
		args = append(args, "--format", "json")
	}
	var stdout, stderr bytes.Buffer
	env := map[string]string{"HOME": dir}
	if code := run(args, bytes.NewReader(nil), &stdout, &stderr, func(k string) string { return env[k] }); code != 0 {
		t.Fatalf("nodes exited %d: %s", code, stderr.String())
	}
	return bytes.ReplaceAll(stdout.Bytes(), []byte(dir), []byte("$DIR"))
}
