package inventory

import (
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"
)

const consumersNative = `
defaults:
  user: deploy
  sudo: true
  path: /etc/elasticsearch/service_tokens
  owner: root
  mode: "0660"
nodes:
  - name: es01
    host: 10.0.0.1
consumers:
  - name: kibana-1
    host: 10.0.1.1
    token: elastic/kibana/kibana-1
    kibana_keystore: true
    restart: sudo systemctl restart kibana
    health: curl -fsS http://localhost:5601/api/status
    health_timeout: 2m
  - name: fleet-1
    host: 10.0.1.2
    user: root
    sudo: false
    token: elastic/fleet-server/fleet-1
    file: /etc/fleet/token
    group: elastic-agent
    mode: "0640"
  - name: app
    host: 10.0.1.3
    token: elastic/kibana/app
    env_file: /etc/default/app
    key: ES_TOKEN
  - name: vault
    host: 10.0.1.4
    token: elastic/kibana/vault
    command: vault kv put secret/es token=-
    jump: bastion.example.com
`

// Each consumer gets its machine's settings like a node (defaults'
// connection settings included, its file settings not) and its method's.
func TestNativeConsumers(t *testing.T) {
	inv, err := load(t, consumersNative, "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Consumers) != 4 || len(inv.Nodes) != 1 {
		t.Fatalf("consumers %d, nodes %d", len(inv.Consumers), len(inv.Nodes))
	}
	k, f, e, c := inv.Consumers[0], inv.Consumers[1], inv.Consumers[2], inv.Consumers[3]
	checks := []struct {
		what      string
		got, want any
	}{
		{"kibana method", k.Method, MethodKibanaKeystore},
		{"kibana keystore", k.Keystore, DefaultKibanaKeystore},
		{"kibana setting", k.Setting, DefaultKeystoreSetting},
		{"kibana user and sudo from defaults", []any{k.Host.User, k.Host.Sudo, k.Host.Host}, []any{"deploy", true, "10.0.1.1"}},
		{"kibana health timeout", k.HealthTimeout, 2 * time.Minute},
		{"kibana restart", k.Restart, "sudo systemctl restart kibana"},
		{"defaults' file settings are the nodes'", []any{k.Host.Owner, k.Host.Path}, []any{"", ""}},
		{"file", []any{f.Method, f.Host.Path, f.Host.Owner, f.Host.Group, f.Host.Mode, f.Host.User, f.Host.Sudo}, []any{MethodFile, "/etc/fleet/token", "", "elastic-agent", DefaultConsumerMode | 0o040, "root", false}},
		{"file health default", []any{f.Health, f.HealthTimeout}, []any{"", DefaultHealthTimeout}},
		{"env_file", []any{e.Method, e.Host.Path, e.EnvKey, e.Host.Mode}, []any{MethodEnvFile, "/etc/default/app", "ES_TOKEN", fs.FileMode(0)}},
		{"command", []any{c.Method, c.Command, len(c.Host.Jump)}, []any{MethodCommand, "vault kv put secret/es token=-", 1}},
		{"token", c.Token, "elastic/kibana/vault"},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s: got %v, want %v", ch.what, ch.got, ch.want)
		}
	}
	if o := f.Host.Origin["group"]; !strings.Contains(o, "(consumer fleet-1)") {
		t.Errorf("origin of fleet-1's group = %q", o)
	}
	if got := inv.ConsumersOf("elastic/kibana/kibana-1", func(a, b string) bool { return a == b }); len(got) != 1 || got[0] != k {
		t.Errorf("ConsumersOf = %v", got)
	}
}

func TestConsumerErrors(t *testing.T) {
	base := "nodes:\n  - name: es01\nconsumers:\n  - name: c1\n    host: h\n"
	wantErrors(t, []errorCase{
		{"nodes:\n  - name: es01\nconsumers: {}\n", "must be a list of consumers"},
		{base + "    kibana_keystore: true\n", "token: consumer c1: missing"},
		{base + "    token: elastic/kibana\n    command: x\n", "is not namespace/service/name"},
		{base + "    token: elastic/nope/x\n    command: x\n", "Unknown service account"},
		{base + "    token: elastic/kibana/k\n", "says nowhere how it receives the secret: set one of kibana_keystore, file, env_file, command"},
		{base + "    token: elastic/kibana/k\n    file: /a\n    command: x\n", "receives the secret one way"},
		{base + "    token: elastic/kibana/k\n    env_file: /etc/default/x\n", "key: consumer c1: missing"},
		{base + "    token: elastic/kibana/k\n    env_file: /etc/default/x\n    key: 1X\n", "is not a variable name"},
		{base + "    token: elastic/kibana/k\n    file: relative\n", "is not an absolute file path"},
		{base + "    token: elastic/kibana/k\n    file: /a\n    mode: \"0644\"\n", "lets every user on the consumer's machine at the secret"},
		{base + "    token: elastic/kibana/k\n    command: x\n    mode: \"0600\"\n", "applies to file and env_file"},
		{base + "    token: elastic/kibana/k\n    command: x\n    setting: a\n", "belongs to kibana_keystore"},
		{base + "    token: elastic/kibana/k\n    kibana_keystore: bin/kk\n", "neither true"},
		{base + "    token: elastic/kibana/k\n    kibana_keystore: true\n    setting: 'a b'\n", "is not a Kibana setting name"},
		{base + "    token: elastic/kibana/k\n    command: x\n    health_timeout: 5s\n", "there is no health command"},
		{base + "    token: elastic/kibana/k\n    command: x\n    path: /x\n", "unknown key in consumer c1"},
		{base + "    token: elastic/kibana/k\n    command: x\n  - name: c1\n    token: elastic/kibana/k\n    command: x\n", "duplicate consumer c1"},
		{"nodes:\n  - name: es01\nconsumers:\n  - name: es01\n    token: elastic/kibana/k\n    command: x\n", "is the name of a node"},
		{base + "    token: elastic/kibana/k\n    command: \"\"\n", "is empty: give a shell command"},
	})
}

// A host of group es_service_tokens_consumers is a consumer, not a node,
// and its settings come from es_service_tokens_consumer_* variables; the
// nodes' file variables in group all do not reach it. Node addresses come
// from es_service_tokens_es_node_url, or a host's es_http_url.
func TestAnsibleConsumers(t *testing.T) {
	inv, err := load(t, `all:
  vars:
    ansible_user: deploy
    es_service_tokens_owner: root
    es_service_tokens_mode: "0660"
    es_service_tokens_es_url: https://10.0.0.1:9200
    es_service_tokens_es_node_url: https://{host}:9200
  children:
    elasticsearch:
      hosts:
        es01: {ansible_host: 10.0.0.1}
        es02: {ansible_host: 10.0.0.2, es_service_tokens_es_http_url: "https://es02.internal:9201"}
    kibana:
      hosts:
        kb01:
          ansible_host: 10.0.1.1
          ansible_become: true
          es_service_tokens_consumer_token: elastic/kibana/kb
          es_service_tokens_consumer_env_file: /etc/default/kibana
          es_service_tokens_consumer_key: KIBANA_TOKEN
    es_service_tokens_consumers:
      children:
        kibana:
`, "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Nodes) != 2 || inv.Nodes[0].Name != "es01" {
		t.Fatalf("nodes = %v", names(inv.Nodes))
	}
	if a, b := inv.Nodes[0].HTTPURL, inv.Nodes[1].HTTPURL; a != "https://10.0.0.1:9200" || b != "https://es02.internal:9201" {
		t.Errorf("node addresses %q, %q", a, b)
	}
	if len(inv.Consumers) != 1 {
		t.Fatalf("consumers = %d", len(inv.Consumers))
	}
	c := inv.Consumers[0]
	got := []any{c.Name, c.Method, c.Host.Path, c.EnvKey, c.Host.User, c.Host.Sudo, c.Host.Host, c.Host.Owner, c.Host.Mode}
	want := []any{"kb01", MethodEnvFile, "/etc/default/kibana", "KIBANA_TOKEN", "deploy", true, "10.0.1.1", "", fs.FileMode(0)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, ok := inv.Groups["kibana"]; ok {
		t.Errorf("group kibana (consumers only) is a --limit group: %v", inv.Groups)
	}
}

// A node's own REST address: es_http_url, else the elasticsearch
// section's node_url template filled with its dial address and name.
func TestNodeURLs(t *testing.T) {
	inv, err := load(t, `nodes:
  - name: es01
    host: 10.0.0.1
  - name: es02
    host: fe80::1
  - name: es03
    es_http_url: https://es03.example.com:9201/
elasticsearch:
  url: https://10.0.0.1:9200
  node_url: https://{host}:9200/{name}
`, "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range inv.Nodes {
		got = append(got, n.HTTPURL)
	}
	want := []string{"https://10.0.0.1:9200/es01", "https://[fe80::1]:9200/es02", "https://es03.example.com:9201"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if o := inv.Nodes[0].Origin["es_http_url"]; !strings.Contains(o, "elasticsearch.node_url") {
		t.Errorf("origin = %q", o)
	}
	wantErrors(t, []errorCase{
		{"nodes:\n  - name: a\nelasticsearch:\n  url: https://a:9200\n  node_url: https://{ip}:9200\n", "unknown placeholder {ip}"},
		{"nodes:\n  - name: a\nelasticsearch:\n  url: https://a:9200\n  node_url: '{host}:9200'\n", "is not an http(s)://host:port address"},
		{"nodes:\n  - name: a\n    es_http_url: https://u:p@a:9200\n", "without credentials"},
		{"defaults:\n  es_http_url: https://a:9200\nnodes:\n  - name: a\n", "set elasticsearch.node_url"},
	})
}

// A consumer's machine is looked up in ssh_config like a node's.
func TestConsumerThroughSSHConfig(t *testing.T) {
	inv, err := load(t, "nodes:\n  - name: es01\nconsumers:\n  - name: kb\n    token: elastic/kibana/k\n    command: cat\n",
		"Host kb\n  HostName 10.9.9.9\n  Port 2222\n  User kibana-admin\n  ProxyJump ops@bastion\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := inv.Consumers[0].Host
	if h.Host != "10.9.9.9" || h.Port != 2222 || h.User != "kibana-admin" || len(h.Jump) != 1 || h.Jump[0].Host != "bastion" {
		t.Errorf("consumer kb: %s@%s:%d via %v", h.User, h.Host, h.Port, h.Jump)
	}
}
