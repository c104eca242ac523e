package estest

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// The fake cluster every Elasticsearch test of the tool relies on is
// checked here against the spec (/work/shared/spec, §1.2 parsing failures,
// §1.4 reloading, §6 the REST shapes), so that a test of the tool that
// passes against it means what it says about a real cluster.

var apiKey = EncodeAPIKey("id", "secret")

// answer is one decoded response.
type answer struct {
	status int
	header http.Header
	body   map[string]any
}

// get sends GET path to url (the cluster's or a node's), with the
// Authorization header auth ("" for none) and extra headers.
func get(t *testing.T, c *Cluster, url, path, auth string, extra ...string) answer {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CAPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	req, _ := http.NewRequest(http.MethodGet, url+path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	a := answer{status: res.StatusCode, header: res.Header}
	if err := json.NewDecoder(res.Body).Decode(&a.body); err != nil {
		t.Fatalf("GET %s: %d, body is not JSON: %v", path, res.StatusCode, err)
	}
	return a
}

// cluster starts a cluster of specs, answering the API key apiKey and the
// basic credentials admin/pw.
func cluster(t *testing.T, opts Options) *Cluster {
	t.Helper()
	opts.APIKey, opts.Username, opts.Password = apiKey, "admin", "pw"
	c, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// writeFile writes lines to path.
func writeFile(t *testing.T, path string, lines ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// credentials is GET .../credential of elastic/kibana at the cluster's address.
func credentials(t *testing.T, c *Cluster) answer {
	t.Helper()
	a := get(t, c, c.URL, "/_security/service/elastic/kibana/credential", "ApiKey "+apiKey)
	if a.status != 200 {
		t.Fatalf("credentials: %d %v", a.status, a.body)
	}
	return a
}

// holders is file_tokens.<name>.nodes of an 8.x credentials answer.
func holders(a answer, name string) []string {
	nc, _ := a.body["nodes_credentials"].(map[string]any)
	ft, _ := nc["file_tokens"].(map[string]any)
	entry, _ := ft[name].(map[string]any)
	var out []string
	for _, n := range asSlice(entry["nodes"]) {
		out = append(out, n.(string))
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// §1.2: on reload, a file that does not parse leaves the node with no file
// tokens at all (not the ones before, not the valid lines); fixed, it
// loads again. Here the node is polled by hand, so nothing depends on time.
func TestUnparsableFileServesNoFileTokens(t *testing.T) {
	dir := t.TempDir()
	tok, line := newToken(t, "k1")
	_, other := newToken(t, "k2")
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeFile(t, a, line, other)
	writeFile(t, b, line, other)
	c := cluster(t, Options{Nodes: []NodeSpec{{Name: "n1", File: a}, {Name: "n2", File: b}}})

	if got := holders(credentials(t, c), "k1"); !reflect.DeepEqual(got, []string{"n1", "n2"}) {
		t.Fatalf("k1 held by %v before, want both nodes", got)
	}
	for _, bad := range []string{
		"elastic/kibana/broken\n",                                                          // no ':'
		"elastic/kibana/k3:{PBKDF2_STRETCH}12345$AAAA$BBBB\n",                              // iterations Elasticsearch refuses
		"elastic/kibana/k3:$2a$03$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234\n", // bcrypt cost 3
	} {
		writeFile(t, b, line, bad, other)
		c.node("n2").poll()
		if got := c.Loaded("n2"); len(got) != 0 {
			t.Errorf("after %q: n2 still serves %v, want no file tokens", bad, got)
		}
		if got := holders(credentials(t, c), "k1"); !reflect.DeepEqual(got, []string{"n1"}) {
			t.Errorf("after %q: k1 held by %v, want n1 alone", bad, got)
		}
		if got := status(t, c, c.NodeURL("n2"), tok.Bearer()); got != 401 {
			t.Errorf("after %q: n2 answered %d to a token its file names, want 401", bad, got)
		}
		writeFile(t, b, line, other) // fixed: loads again
		c.node("n2").poll()
		if got := c.Loaded("n2"); len(got) != 2 {
			t.Fatalf("after fixing %q: n2 serves %v, want both tokens", bad, got)
		}
	}
}

// A node that cannot read its file, or whose file is gone, serves none;
// a node with no file at all (outside the inventory) never serves any and
// is still a member of the cluster.
func TestMissingFileServesNoFileTokens(t *testing.T) {
	dir := t.TempDir()
	_, line := newToken(t, "k1")
	a := filepath.Join(dir, "a")
	writeFile(t, a, line)
	c := cluster(t, Options{Nodes: []NodeSpec{{Name: "n1", File: a}, {Name: "outside"}}})
	nodes := get(t, c, c.URL, "/_nodes", "ApiKey "+apiKey)
	if names := nodeNames(nodes); !reflect.DeepEqual(names, []string{"n1", "outside"}) {
		t.Errorf("_nodes names %v, want n1 and outside", names)
	}
	if got := holders(credentials(t, c), "k1"); !reflect.DeepEqual(got, []string{"n1"}) {
		t.Errorf("k1 held by %v, want n1", got)
	}
	os.Remove(a)
	c.node("n1").poll()
	if got := c.Loaded("n1"); len(got) != 0 {
		t.Errorf("a removed file still serves %v", got)
	}
}

func nodeNames(a answer) []string {
	var out []string
	nodes, _ := a.body["nodes"].(map[string]any)
	for _, v := range nodes {
		out = append(out, v.(map[string]any)["name"].(string))
	}
	sort.Strings(out)
	return out
}

// §1.4: a change is an mtime or size change; a rewrite with the same size
// and mtime goes unnoticed, and a reload that yields the same tokens (a
// blank line added) is not a change of what the node serves.
func TestReloadDetectsMtimeOrSize(t *testing.T) {
	dir := t.TempDir()
	_, line := newToken(t, "k1")
	_, same := newToken(t, "k2") // same length as k1's line
	a := filepath.Join(dir, "a")
	writeFile(t, a, line)
	c := cluster(t, Options{Nodes: []NodeSpec{{Name: "n1", File: a}}}) // Reload 0: polled by hand
	n := c.node("n1")
	fi, _ := os.Stat(a)

	writeFile(t, a, same)
	os.Chtimes(a, fi.ModTime(), fi.ModTime())
	n.poll()
	if got := c.Loaded("n1"); !reflect.DeepEqual(got, []string{"elastic/kibana/k1"}) {
		t.Errorf("same size and mtime: n1 serves %v, want the old k1 (the change is invisible)", got)
	}
	os.Chtimes(a, fi.ModTime().Add(time.Second), fi.ModTime().Add(time.Second))
	n.poll()
	if got := c.Loaded("n1"); !reflect.DeepEqual(got, []string{"elastic/kibana/k2"}) {
		t.Fatalf("new mtime: n1 serves %v, want k2", got)
	}
	changed := c.LastChange("n1")
	writeFile(t, a, same, "\n")
	n.poll()
	if c.LastChange("n1") != changed {
		t.Error("a blank line added counted as a change of the loaded tokens")
	}
}

// §1.4: each node reloads on its own schedule. A node that never reloads
// (Reload 0) keeps what it loaded at start; a node with a phase first
// looks at its own moment, then not for an hour. The fast node is the
// clock: no sleeps.
func TestEachNodeReloadsOnItsOwnSchedule(t *testing.T) {
	const phase = 300 * time.Millisecond
	dir := t.TempDir()
	_, line := newToken(t, "k1")
	fast, stuck, phased := filepath.Join(dir, "fast"), filepath.Join(dir, "stuck"), filepath.Join(dir, "phased")
	var c *Cluster
	// The change must land before the phased node's first look; on a
	// machine so loaded that it did not, the run proves nothing: try again.
	for attempt := 0; ; attempt++ {
		for _, f := range []string{fast, stuck, phased} {
			writeFile(t, f)
		}
		started := time.Now()
		c = cluster(t, Options{Nodes: []NodeSpec{
			{Name: "fast", File: fast, Reload: 10 * time.Millisecond},
			{Name: "stuck", File: stuck},
			{Name: "phased", File: phased, Reload: time.Hour, Phase: phase},
		}})
		for _, f := range []string{fast, stuck, phased} {
			writeFile(t, f, line)
		}
		if time.Since(started) < phase/2 {
			break
		}
		if attempt == 5 {
			t.Fatal("could not write the files within half the phase in 5 attempts")
		}
	}
	eventually(t, "fast loads k1", func() bool { return len(c.Loaded("fast")) == 1 })
	eventually(t, "phased loads k1 at its phase", func() bool { return len(c.Loaded("phased")) == 1 })
	if got := c.Loaded("stuck"); len(got) != 0 {
		t.Errorf("a node that never reloads serves %v", got)
	}
	if a := holders(credentials(t, c), "k1"); !reflect.DeepEqual(a, []string{"fast", "phased"}) {
		t.Errorf("k1 held by %v, want fast and phased", a)
	}

	// Now phased waits an hour: later changes reach fast alone.
	writeFile(t, phased)
	for i := 0; i < 3; i++ {
		writeFile(t, fast)
		eventually(t, "fast drops k1", func() bool { return len(c.Loaded("fast")) == 0 })
		writeFile(t, fast, line)
		eventually(t, "fast loads k1 again", func() bool { return len(c.Loaded("fast")) == 1 })
	}
	n := c.node("phased")
	n.mu.Lock()
	reloads := n.reloads
	n.mu.Unlock()
	if got := c.Loaded("phased"); len(got) != 1 || reloads != 2 {
		t.Errorf("phased reloaded %d times and serves %v, want 2 (at start, at its phase) and k1", reloads, got)
	}
}

// Authentication of the REST API, as Elasticsearch answers it: 401 with a
// WWW-Authenticate challenge for missing or wrong credentials, 403 for
// valid credentials without the privilege.
func TestAuthFailures(t *testing.T) {
	c := cluster(t, Options{Nodes: []NodeSpec{{Name: "n1"}}})
	const path = "/_security/service/elastic/kibana/credential"
	for _, tc := range []struct {
		name, auth string
		want       int
	}{
		{"api key", "ApiKey " + apiKey, 200},
		{"api key, scheme in another case", "APIKey " + apiKey, 200},
		{"basic", basic("admin", "pw"), 200},
		{"no credentials", "", 401},
		{"wrong api key", "ApiKey " + EncodeAPIKey("id", "nope"), 401},
		{"wrong password", basic("admin", "nope"), 401},
		{"a service token is not an admin", "Bearer AAEAAWVsYXN0aWMva2liYW5hL2sxOnNlY3JldA", 401},
	} {
		a := get(t, c, c.URL, path, tc.auth)
		if a.status != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, a.status, tc.want)
			continue
		}
		if tc.want == 401 {
			checkError(t, tc.name, a, 401, "security_exception")
			if !strings.Contains(a.header.Get("WWW-Authenticate"), "ApiKey") {
				t.Errorf("%s: WWW-Authenticate %q, want a challenge naming ApiKey", tc.name, a.header.Get("WWW-Authenticate"))
			}
		}
	}

	forbidden := cluster(t, Options{Nodes: []NodeSpec{{Name: "n1"}}, Forbidden: true})
	a := get(t, forbidden, forbidden.URL, path, "ApiKey "+apiKey)
	checkError(t, "forbidden", a, 403, "security_exception")
	if a := get(t, forbidden, forbidden.URL, path, "ApiKey "+EncodeAPIKey("id", "nope")); a.status != 401 {
		t.Errorf("forbidden cluster, wrong key: %d, want 401 (authentication comes before authorisation)", a.status)
	}
}

func basic(user, pw string) string {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(user, pw)
	return req.Header.Get("Authorization")
}

// checkError checks Elasticsearch's error document: {"error":{"type",
// "reason"},"status"}.
func checkError(t *testing.T, what string, a answer, status int, typ string) {
	t.Helper()
	e, _ := a.body["error"].(map[string]any)
	if a.status != status || e["type"] != typ || e["reason"] == "" || a.body["status"] != float64(status) {
		t.Errorf("%s: %d %v, want %d with error.type %s, a reason and status", what, a.status, a.body, status, typ)
	}
}

// _authenticate with a bearer service token: the documented success shape,
// and 401 with a Bearer challenge for a wrong secret or a token the node
// has not loaded.
func TestAuthenticateShapes(t *testing.T) {
	dir := t.TempDir()
	tok, line := newToken(t, "k1")
	a := filepath.Join(dir, "a")
	writeFile(t, a, line)
	c := cluster(t, Options{Nodes: []NodeSpec{{Name: "n1", File: a}}})

	ok := get(t, c, c.URL, "/_security/_authenticate", "Bearer "+tok.Bearer())
	realm, _ := ok.body["authentication_realm"].(map[string]any)
	token, _ := ok.body["token"].(map[string]any)
	if ok.status != 200 || ok.body["username"] != "elastic/kibana" || realm["name"] != "_service_account" ||
		token["name"] != "k1" || token["type"] != "_service_account_file" {
		t.Errorf("authenticate: %d %v, want username, realm _service_account, token {k1, _service_account_file}", ok.status, ok.body)
	}

	wrong, err := tokens.ParseBearer(tok.Bearer())
	if err != nil {
		t.Fatal(err)
	}
	wrong.Secret = strings.Repeat("x", len(wrong.Secret))
	other, _ := newToken(t, "k2")
	for what, bearer := range map[string]string{"wrong secret": wrong.Bearer(), "not loaded": other.Bearer(), "not a token": "xyz"} {
		r := get(t, c, c.URL, "/_security/_authenticate", "Bearer "+bearer)
		checkError(t, what, r, 401, "security_exception")
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: WWW-Authenticate %q, want a Bearer challenge", what, r.header.Get("WWW-Authenticate"))
		}
	}
}

// §6, 7.15 and later: file tokens from every node, with the names of the
// nodes holding each, sorted; count is the distinct names; the product
// header 8.x clients check.
func TestCredentialsShapeCurrent(t *testing.T) {
	dir := t.TempDir()
	_, k1 := newToken(t, "k1")
	_, k2 := newToken(t, "k2")
	_, fleet := newTokenOf(t, "elastic/fleet-server", "f1")
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeFile(t, a, k1, fleet)
	writeFile(t, b, k1, k2)
	c := cluster(t, Options{Nodes: []NodeSpec{{Name: "node-b", File: b}, {Name: "node-a", File: a}}})

	r := credentials(t, c)
	want := map[string]any{
		"service_account": "elastic/kibana", "count": float64(2), "tokens": map[string]any{},
		"nodes_credentials": map[string]any{
			"_nodes": map[string]any{"total": float64(2), "successful": float64(2), "failed": float64(0)},
			"file_tokens": map[string]any{
				"k1": map[string]any{"nodes": []any{"node-a", "node-b"}},
				"k2": map[string]any{"nodes": []any{"node-b"}},
			},
		},
	}
	if !reflect.DeepEqual(r.body, want) {
		t.Errorf("credentials:\n got %v\nwant %v", r.body, want)
	}
	if r.header.Get("X-Elastic-Product") != "Elasticsearch" {
		t.Errorf("X-Elastic-Product %q, want Elasticsearch", r.header.Get("X-Elastic-Product"))
	}
	if v := get(t, c, c.URL, "/", "ApiKey "+apiKey); v.body["version"].(map[string]any)["number"] != "8.15.0" || v.body["name"] != "node-b" {
		t.Errorf("GET /: %v, want version 8.15.0 answered by the first node", v.body)
	}
	if r := get(t, c, c.URL, "/_security/service/elastic/nope/credential", "ApiKey "+apiKey); r.status != 404 {
		t.Errorf("unknown account: %d, want 404", r.status)
	}
}

// §6, 7.13-7.14: the answering node's file tokens only, under its name;
// no product header, and no versioned media type.
func TestCredentialsShapeNodeLocal(t *testing.T) {
	dir := t.TempDir()
	_, k1 := newToken(t, "k1")
	_, k2 := newToken(t, "k2")
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	writeFile(t, a, k1)
	writeFile(t, b, k2)
	c := cluster(t, Options{NodeLocal: true, Nodes: []NodeSpec{{Name: "n1", File: a}, {Name: "n2", File: b, Host: "127.0.0.3"}}})

	for node, token := range map[string]string{"n1": "k1", "n2": "k2"} {
		r := get(t, c, c.NodeURL(node), "/_security/service/elastic/kibana/credential", "ApiKey "+apiKey)
		want := map[string]any{"service_account": "elastic/kibana", "node_name": node, "count": float64(1),
			"tokens": map[string]any{}, "file_tokens": map[string]any{token: map[string]any{}}}
		if !reflect.DeepEqual(r.body, want) {
			t.Errorf("asked %s:\n got %v\nwant %v", node, r.body, want)
		}
		if r.header.Get("X-Elastic-Product") != "" {
			t.Errorf("7.13 sent X-Elastic-Product %q", r.header.Get("X-Elastic-Product"))
		}
	}
	r := get(t, c, c.URL, "/_security/service/elastic/kibana/credential", "ApiKey "+apiKey,
		"Accept", "application/vnd.elasticsearch+json; compatible-with=8")
	checkError(t, "versioned media type on 7.13", r, 406, "media_type_header_exception")
	if v := get(t, c, c.URL, "/", "ApiKey "+apiKey); v.body["version"].(map[string]any)["number"] != "7.13.4" {
		t.Errorf("GET /: %v, want version 7.13.4", v.body)
	}
}

// Forced failures: every address answers the status with an error
// document, and answers normally again when the status is cleared.
func TestForcedStatus(t *testing.T) {
	c := cluster(t, Options{Nodes: []NodeSpec{{Name: "n1"}}})
	c.SetStatus(503)
	checkError(t, "forced 503", get(t, c, c.URL, "/_nodes", "ApiKey "+apiKey), 503, "unavailable_shards_exception")
	checkError(t, "forced 503 on a node", get(t, c, c.NodeURL("n1"), "/_nodes", "ApiKey "+apiKey), 503, "unavailable_shards_exception")
	c.SetStatus(0)
	if a := get(t, c, c.URL, "/_nodes", "ApiKey "+apiKey); a.status != 200 {
		t.Errorf("after clearing: %d", a.status)
	}
}

// newTokenOf makes a token of account and its file line.
func newTokenOf(t *testing.T, account, name string) (tokens.Token, string) {
	t.Helper()
	acct, _ := tokens.LookupAccount(account)
	alg, err := tokens.ParseAlgorithm("pbkdf2_stretch_1000")
	if err != nil {
		t.Fatal(err)
	}
	tok, hash, err := tokens.New(acct, name, alg, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return tok, tok.QualifiedName() + ":" + hash + "\n"
}
