package elastic

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/internal/testkit/estest"
	"github.com/es-service-tokens/es-service-tokens/inventory"
)

// A line Elasticsearch would load: the hash is never checked by the
// credentials API, only the names.
const line = "elastic/fleet-server/%s:{PBKDF2_STRETCH}10000$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"

type fake struct {
	c     *estest.Cluster
	files []string
	cfg   Config
}

func start(t *testing.T, opts estest.Options, reload ...time.Duration) *fake {
	return startWith(t, opts, nil, reload...)
}

// startWith writes initial[i] to node i's file before the cluster starts.
func startWith(t *testing.T, opts estest.Options, initial map[int][]string, reload ...time.Duration) *fake {
	t.Helper()
	dir := t.TempDir()
	f := &fake{}
	for i, r := range reload {
		p := filepath.Join(dir, "node"+string(rune('1'+i)))
		if names, ok := initial[i]; ok {
			write(t, p, names...)
		}
		f.files = append(f.files, p)
		opts.Nodes = append(opts.Nodes, estest.NodeSpec{Name: "node-" + string(rune('1'+i)), File: p, Reload: r})
	}
	if opts.APIKey == "" {
		opts.APIKey = estest.EncodeAPIKey("id", "secret")
	}
	c, err := estest.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	f.c = c
	f.cfg = Config{URLs: []string{c.URL}, CACert: c.CAPEM, APIKey: opts.APIKey, Auth: "test key"}
	return f
}

func write(t *testing.T, path string, names ...string) {
	t.Helper()
	var b strings.Builder
	for _, n := range names {
		b.WriteString(strings.Replace(line, "%s", n, 1))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func client(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func inv(names ...string) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		m[n] = "es-" + strings.TrimPrefix(n, "node-")
	}
	return m
}

func TestConfirmWaitsForEveryNode(t *testing.T) {
	t.Parallel() // waits on reloads and polls, not on the CPU
	f := start(t, estest.Options{}, 50*time.Millisecond, 300*time.Millisecond)
	for _, p := range f.files {
		write(t, p, "a")
	}
	c := client(t, f.cfg)
	out := c.Confirm(context.Background(), Want{Present: []string{"elastic/fleet-server/a"}}, Target{Inventory: inv("node-1", "node-2")}, 5*time.Second)
	if !out.Confirmed || !out.Error.IsZero() {
		t.Fatalf("not confirmed: %+v", out)
	}
	for _, n := range []string{"node-1", "node-2"} {
		if got := f.c.Loaded(n); len(got) != 1 {
			t.Errorf("confirmed while %s holds %v", n, got)
		}
	}
	if out.Requests < 2 || out.Requests != f.c.Requests() {
		t.Errorf("requests counted %d, served %d", out.Requests, f.c.Requests())
	}
}

func TestConfirmNamesTheNodeThatDoesNotReload(t *testing.T) {
	t.Parallel() // waits on reloads and polls, not on the CPU
	f := start(t, estest.Options{}, 50*time.Millisecond, 0)
	write(t, f.files[0], "a")
	write(t, f.files[1], "a") // node-2 never reloads: it loaded no file at start
	c := client(t, f.cfg)
	out := c.Confirm(context.Background(), Want{Present: []string{"elastic/fleet-server/a"}}, Target{Inventory: inv("node-1", "node-2")}, 700*time.Millisecond)
	if out.Confirmed {
		t.Fatalf("confirmed: %+v", out)
	}
	var bad []string
	for _, n := range out.Nodes {
		if !n.Confirmed {
			bad = append(bad, n.Node+":"+strings.Join(n.Lacks, ","))
			if !strings.Contains(n.Cause.String(), "did not reload") {
				t.Errorf("cause %q", n.Cause.String())
			}
		}
	}
	if strings.Join(bad, " ") != "node-2:elastic/fleet-server/a" {
		t.Errorf("unconfirmed %v", bad)
	}
}

func TestConfirmNodeOutsideInventory(t *testing.T) {
	t.Parallel() // waits on reloads and polls, not on the CPU
	f := start(t, estest.Options{}, 50*time.Millisecond, 50*time.Millisecond)
	write(t, f.files[0], "a")
	c := client(t, f.cfg)
	out := c.Confirm(context.Background(), Want{Present: []string{"elastic/fleet-server/a"}}, Target{Inventory: inv("node-1")}, 400*time.Millisecond)
	if out.Confirmed || len(out.Nodes) != 2 || out.Nodes[1].Node != "node-2" || !strings.Contains(out.Nodes[1].Cause.String(), "not in the inventory") {
		t.Fatalf("%+v", out)
	}
}

func TestRemovedTokens(t *testing.T) {
	t.Parallel() // waits on reloads and polls, not on the CPU
	f := startWith(t, estest.Options{}, map[int][]string{0: {"a", "b"}}, 50*time.Millisecond)
	c := client(t, f.cfg)
	if got := f.c.Loaded("node-1"); len(got) != 2 {
		t.Fatalf("loaded at start: %v", got)
	}
	write(t, f.files[0], "b")
	out := c.Confirm(context.Background(), Want{Absent: []string{"elastic/fleet-server/a"}}, Target{Inventory: inv("node-1")}, 3*time.Second)
	if !out.Confirmed {
		t.Fatalf("%+v", out)
	}
}

func TestErrorsArePlain(t *testing.T) {
	t.Parallel() // waits on reloads and polls, not on the CPU
	f := start(t, estest.Options{Username: "admin", Password: "pw"}, 0)
	plain := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)
	for _, tc := range []struct {
		name string
		cfg  func(Config) Config
		want string
	}{
		{"unknown CA", func(c Config) Config { c.CACert = nil; return c }, "certificate signed by unknown authority: give elasticsearch.ca or ca_fingerprint"},
		{"fingerprint", func(c Config) Config { c.CACert, c.CAFingerprint = nil, f.c.Fingerprint; return c }, ""},
		{"wrong fingerprint", func(c Config) Config { c.CACert, c.CAFingerprint = nil, strings.Repeat("ab", 32); return c },
			"the server's certificate chain does not match elasticsearch.ca_fingerprint"},
		{"plain http", func(c Config) Config { c.URLs = []string{"https://" + plain.Listener.Addr().String()}; return c },
			"the address speaks plain http, not https"},
		{"wrong key", func(c Config) Config { c.APIKey = "bm8="; return c }, "HTTP 401: the API key was refused"},
		{"basic", func(c Config) Config { c.APIKey, c.Username, c.Password = "", "admin", "pw"; return c }, ""},
		{"wrong password", func(c Config) Config { c.APIKey, c.Username, c.Password = "", "admin", "no"; return c }, "HTTP 401: the user name or password was refused"},
		{"unreachable", func(c Config) Config { c.URLs = []string{"https://127.0.0.1:1"}; return c }, "https://127.0.0.1:1: unreachable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client(t, tc.cfg(f.cfg)).Nodes(context.Background())
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestForbiddenAndServerErrors(t *testing.T) {
	t.Parallel() // waits on reloads and polls, not on the CPU
	f := start(t, estest.Options{Forbidden: true}, 0)
	_, err := client(t, f.cfg).Nodes(context.Background())
	if err == nil || !strings.Contains(err.Error(), "HTTP 403") || !strings.Contains(err.Error(), "read_security") {
		t.Fatalf("got %v", err)
	}
	g := start(t, estest.Options{}, 0)
	g.c.SetStatus(503)
	c := client(t, g.cfg)
	_, err = c.Nodes(context.Background())
	var ee *Error
	if !errors.As(err, &ee) || ee.Status != 503 {
		t.Fatalf("got %v", err)
	}
	if c.Requests() != 3 || g.c.Requests() != 3 {
		t.Errorf("a 503 is retried twice: counted %d, served %d", c.Requests(), g.c.Requests())
	}
}

func TestNodeLocalShape(t *testing.T) {
	t.Parallel() // waits on reloads and polls, not on the CPU
	f := start(t, estest.Options{NodeLocal: true}, 50*time.Millisecond, 0)
	write(t, f.files[0], "a")
	out := client(t, f.cfg).Confirm(context.Background(), Want{Present: []string{"elastic/fleet-server/a"}}, Target{Inventory: inv("node-1", "node-2")}, 3*time.Second)
	if !out.Confirmed || out.Scope != ScopeAnsweringNode || out.AnsweringNode != "node-1" || len(out.Nodes) != 1 {
		t.Fatalf("%+v", out)
	}
}

func TestCoverage(t *testing.T) {
	f := startWith(t, estest.Options{}, map[int][]string{0: {"a"}, 1: {"a", "old"}}, 0, 0, 0)
	c := client(t, f.cfg)
	cov, err := c.Coverage(context.Background(), []string{"elastic/fleet-server/a"}, []string{"elastic/fleet-server", "elastic/kibana"}, Target{Inventory: inv("node-1", "node-2", "node-4")})
	if err != nil {
		t.Fatal(err)
	}
	if !cov.Drift || len(cov.Nodes) != 4 {
		t.Fatalf("%+v", cov)
	}
	if n := cov.Nodes[0]; n.Drift() {
		t.Errorf("node-1 holds exactly the local tokens: %+v", n)
	}
	if n := cov.Nodes[1]; strings.Join(n.Extra, ",") != "elastic/fleet-server/old" || len(n.Missing) != 0 {
		t.Errorf("node-2: %+v", n)
	}
	if n := cov.Nodes[2]; n.Node != "node-3" || n.InInventory {
		t.Errorf("node-3: %+v", n)
	}
	if n := cov.Nodes[3]; n.Node != "node-4" || n.InCluster {
		t.Errorf("node-4: %+v", n)
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	os.WriteFile(key, []byte("abc\n"), 0o600)
	env := map[string]string{"ES_API_KEY": "fromenv"}
	getenv := func(k string) string { return env[k] }
	cfg, err := Resolve(Sources{Inventory: &inventory.Elasticsearch{URLs: []string{"https://h:9200"}, APIKeyFile: key}, Getenv: getenv})
	if err != nil || cfg.APIKey != "abc" || cfg.ConfirmTimeout != DefaultConfirmTimeout {
		t.Fatalf("%+v %v", cfg, err)
	}
	cfg, err = Resolve(Sources{URL: "https://h:9200", Getenv: getenv, Timeout: time.Second})
	if err != nil || cfg.APIKey != "fromenv" || cfg.ConfirmTimeout != time.Second {
		t.Fatalf("%+v %v", cfg, err)
	}
	if _, err := Resolve(Sources{URL: "http://h:9200", Getenv: getenv}); remedy.KindOf(err) != remedy.ESInsecureHTTP || !strings.Contains(err.Error(), "plain http") {
		t.Fatalf("plain http: %v", err)
	}
	if _, err := Resolve(Sources{URL: "https://h:9200", Getenv: func(string) string { return "" }}); err == nil || !strings.Contains(err.Error(), "no elasticsearch credentials") {
		t.Fatalf("no credentials: %v", err)
	}
	if _, err := Resolve(Sources{Getenv: getenv}); !errors.Is(err, ErrNotConfigured) {
		t.Fatalf("not configured: %v", err)
	}
}

// A check --limit that reaches node-1 only, while node-2's inventory node
// has no es_node_name: node-2 may be that node, so it is not judged, and
// the report says why.
func TestCoverageLeavesOutWhatMayBeAnUnnamedNode(t *testing.T) {
	f := startWith(t, estest.Options{}, map[int][]string{0: {"a"}}, 0, 0)
	c := client(t, f.cfg)
	cov, err := c.Coverage(context.Background(), []string{"elastic/fleet-server/a"}, []string{"elastic/fleet-server"}, Target{Inventory: inv("node-1"), Unnamed: []string{"es-2"}})
	if err != nil {
		t.Fatal(err)
	}
	if cov.Drift || len(cov.Nodes) != 1 || strings.Join(cov.Unjudged, ",") != "node-2" || strings.Join(cov.Unnamed, ",") != "es-2" {
		t.Fatalf("%+v", cov)
	}
}

// Confirmation time runs from the last rename (Target.Since), and a
// cluster node no inventory node maps to is named with the unnamed nodes
// it may be.
func TestConfirmCountsFromTheLastRename(t *testing.T) {
	f := start(t, estest.Options{}, 50*time.Millisecond, 50*time.Millisecond)
	write(t, f.files[0], "a")
	since := time.Now().Add(-2 * time.Second)
	// The timeout runs from Since too: 2.5 s after a rename 2 s ago ends
	// about 0.5 s from now, not 2.5 s.
	began := time.Now()
	out := client(t, f.cfg).Confirm(context.Background(), Want{Present: []string{"elastic/fleet-server/a"}}, Target{Inventory: inv("node-1"), Unnamed: []string{"es-2"}, Since: since}, 2500*time.Millisecond)
	if waited := time.Since(began); waited > 1500*time.Millisecond {
		t.Errorf("waited %v: the timeout was counted from the start of Confirm, not from Since", waited)
	}
	if out.Confirmed || out.Seconds < 2 {
		t.Fatalf("want unconfirmed, seconds from since (>= 2): %+v", out)
	}
	if n := out.Nodes[1]; n.Node != "node-2" || !strings.Contains(n.Cause.String(), "outside limit (es-2)") {
		t.Errorf("node-2: %+v", n)
	}
}

// A 7.13/7.14 cluster reports the answering node alone; when that node is
// outside --limit, nothing is judged, and the coverage says which node it
// left out instead of reporting "0 differ" as if it had checked.
func TestCoverageNodeLocalOutsideLimit(t *testing.T) {
	f := startWith(t, estest.Options{NodeLocal: true}, map[int][]string{0: {"a"}}, 0, 0)
	c := client(t, f.cfg)
	cov, err := c.Coverage(context.Background(), []string{"elastic/fleet-server/a"}, []string{"elastic/fleet-server"}, Target{Inventory: inv("node-1", "node-2"), Outside: map[string]bool{"node-1": true, "node-2": true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cov.Nodes) != 0 || len(cov.Unjudged) != 1 {
		t.Fatalf("%+v", cov)
	}
}
