// Package estest plays an Elasticsearch cluster's REST API for tests, from
// the shapes documented in the spec (§1.4 reloading, §6 REST): one
// simulated node per real test node, each loading that node's
// service_tokens file from disk on its own reload schedule, as
// Elasticsearch's FileWatcher does (mtime or size changed -> parse; a file
// that does not parse leaves the node with no file tokens). It serves
// HTTPS with its own CA, checks an API key or basic credentials, and can
// answer 401, 403, 5xx, slowly, or in the 7.13-7.14 node-local shape.
//
// Besides the cluster's address (URL, which answers as the first node),
// every node has its own HTTPS listener (NodeURL): a bearer token sent
// there is authenticated with the file that node loaded, as on a real
// cluster, where authentication happens on the node that receives the
// request. A node can be made stale (Stale): it keeps an old hash under a
// token name that is re-created, as a node restored from an old backup
// would.
//
// No Elasticsearch can run where the tests run; this is hand-written for
// that reason and answers only the requests es-service-tokens makes.
package estest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// NodeSpec is one simulated Elasticsearch node.
type NodeSpec struct {
	Name string
	// File is the node's service_tokens as the host sees it; "" for a node
	// that never has a file (one missing from the inventory).
	File string
	// Reload is resource.reload.interval.high; 0 means the node never
	// reloads after start (a stuck watcher).
	Reload time.Duration
	// Phase is when the first check after start comes (0: after Reload).
	// Real nodes started at different times, so their checks do not line
	// up with each other, nor with a push.
	Phase time.Duration
	// Host is the loopback address of the node's own HTTPS listener
	// (default 127.0.0.1): the address of its sshd test node, so that an
	// inventory template such as https://{host}:PORT reaches it.
	Host string
}

// Options describe the cluster.
type Options struct {
	Nodes []NodeSpec
	// NodeLocal answers in the 7.13-7.14 shape: the answering node only.
	// It also leaves out X-Elastic-Product, as 7.13 did.
	NodeLocal bool
	// APIKey is the accepted encoded API key ("" accepts none).
	APIKey string
	// Username and Password are accepted basic credentials ("": none).
	Username, Password string
	// Forbidden answers 403 to valid credentials (no read_security).
	Forbidden bool
	// NodePort is the port of every node's own listener when the nodes
	// have distinct hosts (0: a port free on all of them). Nodes sharing a
	// host get a free port each.
	NodePort int
}

// Cluster is a running fake.
type Cluster struct {
	URL         string
	CAPEM       []byte
	Fingerprint string // SHA-256 hex of the CA certificate, as ES prints it

	opts     Options
	nodes    []*node
	srv      *http.Server
	ln       net.Listener
	tlsCfg   *tls.Config
	stop     chan struct{}
	wg       sync.WaitGroup
	requests atomic.Int64
	status   atomic.Int64 // forced HTTP status, 0 = none
	delay    atomic.Int64 // per-request delay, ns
}

type node struct {
	spec    NodeSpec
	id      string
	mu      sync.Mutex
	loaded  *tokens.File
	mtime   time.Time
	size    int64
	exists  bool
	reloads int
	lastAt  time.Time // when the loaded map last changed
	// pinned are the hashes a stale node keeps, by qualified name,
	// whatever its file says (see Stale).
	pinned map[string]string
	frozen bool // does not reload (see Freeze)

	url      string // its own listener
	srv      *http.Server
	requests atomic.Int64
}

// Start serves the cluster on 127.0.0.1 until Close.
func Start(opts Options) (*Cluster, error) {
	c := &Cluster{opts: opts, stop: make(chan struct{})}
	cert, caPEM, caDER, err := certificates(nodeHosts(opts.Nodes))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(caDER)
	c.CAPEM, c.Fingerprint = caPEM, hex.EncodeToString(sum[:])
	for i, s := range opts.Nodes {
		n := &node{spec: s, id: fmt.Sprintf("id%04d%s", i, strings.Repeat("x", 16)), loaded: tokens.NewFile(), pinned: map[string]string{}}
		n.poll() // Elasticsearch loads the file when it starts
		c.nodes = append(c.nodes, n)
		if s.Reload > 0 {
			c.wg.Add(1)
			go c.watch(n)
		}
	}
	c.ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c.URL = "https://" + c.ln.Addr().String()
	c.tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}}
	c.srv = c.server(c.firstNode())
	go c.srv.ServeTLS(c.ln, "", "")
	if err := c.listenNodes(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// firstNode answers at the cluster's address; nil for a cluster without
// nodes.
func (c *Cluster) firstNode() *node {
	if len(c.nodes) == 0 {
		return nil
	}
	return c.nodes[0]
}

// server serves the REST API as node n.
func (c *Cluster) server(n *node) *http.Server {
	return &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { c.serve(w, r, n) }),
		// Each server its own copy: serving adds HTTP/2 to its config.
		TLSConfig: c.tlsCfg.Clone(),
		// Handshakes refused by a client that does not trust the CA are
		// what some tests are about, not noise for the test log.
		ErrorLog: log.New(io.Discard, "", 0)}
}

// Close stops the servers and the watchers.
func (c *Cluster) Close() {
	close(c.stop)
	c.srv.Close()
	for _, n := range c.nodes {
		if n.srv != nil {
			n.srv.Close()
		}
	}
	c.wg.Wait()
}

// Requests counts the requests served, at every address.
func (c *Cluster) Requests() int { return int(c.requests.Load()) }

// SetStatus makes every request answer status (0: normal again).
func (c *Cluster) SetStatus(status int) { c.status.Store(int64(status)) }

// SetDelay makes every answer wait d.
func (c *Cluster) SetDelay(d time.Duration) { c.delay.Store(int64(d)) }

// Loaded returns the qualified token names node name has loaded.
func (c *Cluster) Loaded(name string) []string {
	var keys []string
	c.withNode(name, func(n *node) { keys = n.loaded.Keys() })
	return keys
}

// LastChange is when node name's loaded tokens last changed (zero: never
// since start).
func (c *Cluster) LastChange(name string) time.Time {
	var at time.Time
	c.withNode(name, func(n *node) { at = n.lastAt })
	return at
}

// withNode runs f on node name under its lock; nothing when there is none.
func (c *Cluster) withNode(name string, f func(*node)) {
	for _, n := range c.nodes {
		if n.spec.Name == name {
			n.mu.Lock()
			defer n.mu.Unlock()
			f(n)
			return
		}
	}
}

// watch is FileWatcher with a fixed delay between checks.
func (c *Cluster) watch(n *node) {
	defer c.wg.Done()
	first := n.spec.Phase
	if first <= 0 {
		first = n.spec.Reload
	}
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			n.poll()
			t.Reset(n.spec.Reload)
		}
	}
}

// poll reloads the file when its mtime or size changed (spec §1.4).
func (n *node) poll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.spec.File == "" || n.frozen {
		return
	}
	fi, err := os.Stat(n.spec.File)
	exists := err == nil
	if exists == n.exists && (!exists || (fi.ModTime().Equal(n.mtime) && fi.Size() == n.size)) {
		return
	}
	n.exists = exists
	next := tokens.NewFile()
	if exists {
		n.mtime, n.size = fi.ModTime(), fi.Size()
		data, err := os.ReadFile(n.spec.File)
		if err == nil {
			if f, perr := tokens.Parse(data); perr == nil {
				next = f
			} // else: ERROR in its log, and no file tokens at all
		}
	}
	n.pin(next)
	if strings.Join(next.Keys(), "\n") != strings.Join(n.loaded.Keys(), "\n") || !sameHashes(next, n.loaded) {
		n.lastAt = time.Now()
	}
	n.loaded = next
	n.reloads++
}

func sameHashes(a, b *tokens.File) bool {
	for _, k := range a.Keys() {
		ha, _ := a.Hash(k)
		hb, _ := b.Hash(k)
		if ha != hb {
			return false
		}
	}
	return true
}

// serve answers one request as node n, the node that received it.
func (c *Cluster) serve(w http.ResponseWriter, r *http.Request, n *node) {
	c.requests.Add(1)
	if n != nil {
		n.requests.Add(1)
	}
	if d := time.Duration(c.delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	if !c.opts.NodeLocal {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
	}
	w.Header().Set("Content-Type", "application/json")
	if s := int(c.status.Load()); s != 0 {
		writeError(w, s, "unavailable_shards_exception", "simulated failure")
		return
	}
	if accept := r.Header.Get("Accept"); strings.Contains(accept, "compatible-with") && c.opts.NodeLocal {
		// 7.x does not know the versioned media type.
		writeError(w, http.StatusNotAcceptable, "media_type_header_exception", "Invalid media-type value on headers [Accept]")
		return
	}
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "illegal_argument_exception", "only GET is played")
		return
	}
	path := r.URL.Path
	if path == "/_security/_authenticate" {
		c.authenticate(w, r, n)
		return
	}
	if !c.authorised(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="security" charset="UTF-8", ApiKey`)
		writeError(w, http.StatusUnauthorized, "security_exception", "unable to authenticate user for REST request ["+path+"]")
		return
	}
	if c.opts.Forbidden {
		writeError(w, http.StatusForbidden, "security_exception", "action [cluster:admin/xpack/security/service_account/credential/get] is unauthorized for user")
		return
	}
	switch {
	case path == "/":
		writeJSON(w, map[string]any{"name": n.spec.Name, "cluster_name": "estest", "version": map[string]any{"number": c.version()}, "tagline": "You Know, for Search"})
	case strings.HasPrefix(path, "/_nodes"):
		nodes := map[string]any{}
		for _, n := range c.nodes {
			nodes[n.id] = map[string]any{"name": n.spec.Name}
		}
		writeJSON(w, map[string]any{"_nodes": map[string]int{"total": len(c.nodes), "successful": len(c.nodes), "failed": 0}, "cluster_name": "estest", "nodes": nodes})
	case strings.HasPrefix(path, "/_security/service/") && strings.HasSuffix(path, "/credential"):
		parts := strings.Split(strings.Trim(path, "/"), "/")
		if len(parts) != 5 {
			writeError(w, http.StatusBadRequest, "illegal_argument_exception", "bad path")
			return
		}
		c.credentials(w, parts[2]+"/"+parts[3], n)
	default:
		writeError(w, http.StatusNotFound, "resource_not_found_exception", "no handler for "+path)
	}
}

func (c *Cluster) version() string {
	if c.opts.NodeLocal {
		return "7.13.4"
	}
	return "8.15.0"
}

func (c *Cluster) authorised(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if k, ok := cutScheme(h, "ApiKey"); ok && c.opts.APIKey != "" {
		return subtle.ConstantTimeCompare([]byte(k), []byte(c.opts.APIKey)) == 1
	}
	if u, p, ok := r.BasicAuth(); ok && c.opts.Username != "" {
		return u == c.opts.Username && p == c.opts.Password
	}
	return false
}

// credentials answers GET /_security/service/<ns>/<svc>/credential, as
// node answering: 7.13-7.14 report that node alone.
func (c *Cluster) credentials(w http.ResponseWriter, principal string, answering *node) {
	if _, ok := tokens.LookupAccount(principal); !ok {
		writeError(w, http.StatusNotFound, "resource_not_found_exception", "service account ["+principal+"] not found")
		return
	}
	names := func(n *node) []string {
		n.mu.Lock()
		defer n.mu.Unlock()
		var out []string
		for _, k := range n.loaded.Keys() {
			if name, ok := strings.CutPrefix(k, principal+"/"); ok {
				out = append(out, name)
			}
		}
		return out
	}
	if c.opts.NodeLocal {
		ft := map[string]any{}
		for _, name := range names(answering) {
			ft[name] = map[string]any{}
		}
		writeJSON(w, map[string]any{"service_account": principal, "node_name": answering.spec.Name, "count": len(ft), "tokens": map[string]any{}, "file_tokens": ft})
		return
	}
	holders := map[string][]string{}
	for _, n := range c.nodes {
		for _, name := range names(n) {
			holders[name] = append(holders[name], n.spec.Name)
		}
	}
	ft := map[string]any{}
	for name, nodes := range holders {
		sort.Strings(nodes)
		ft[name] = map[string]any{"nodes": nodes}
	}
	writeJSON(w, map[string]any{
		"service_account": principal, "count": len(ft), "tokens": map[string]any{},
		"nodes_credentials": map[string]any{
			"_nodes":      map[string]int{"total": len(c.nodes), "successful": len(c.nodes), "failed": 0},
			"file_tokens": ft,
		},
	})
}

// authenticate answers GET /_security/_authenticate for a bearer service
// token, checked against the file the answering node n loaded.
func (c *Cluster) authenticate(w http.ResponseWriter, r *http.Request, n *node) {
	bearer, ok := cutScheme(r.Header.Get("Authorization"), "Bearer")
	refuse := func() {
		w.Header().Set("WWW-Authenticate", `Bearer realm="security"`)
		writeError(w, http.StatusUnauthorized, "security_exception", "failed to authenticate service account")
	}
	if !ok {
		if c.authorised(r) {
			writeJSON(w, map[string]any{"username": c.opts.Username, "authentication_realm": map[string]string{"name": "reserved", "type": "reserved"}})
			return
		}
		refuse()
		return
	}
	tok, err := tokens.ParseBearer(bearer)
	if err != nil {
		refuse()
		return
	}
	n.mu.Lock()
	stored, found := n.loaded.Hash(tok.QualifiedName())
	n.mu.Unlock()
	if !found {
		refuse()
		return
	}
	if okHash, err := tokens.VerifyHash(tok.Secret, stored); err != nil || !okHash {
		refuse()
		return
	}
	writeJSON(w, map[string]any{
		"username": tok.Principal(), "roles": []string{}, "full_name": "Service account - " + tok.Principal(),
		"enabled": true, "metadata": map[string]any{"_elastic_service_account": true},
		"authentication_realm": map[string]string{"name": "_service_account", "type": "_service_account"},
		"lookup_realm":         map[string]string{"name": "_service_account", "type": "_service_account"},
		"authentication_type":  "token",
		"token":                map[string]string{"name": tok.Name, "type": "_service_account_file"},
	})
}

// cutScheme strips an authorization scheme, which HTTP compares without
// regard to case (the Go transport sends "APIKey", Kibana "ApiKey").
func cutScheme(h, scheme string) (string, bool) {
	if len(h) > len(scheme) && strings.EqualFold(h[:len(scheme)], scheme) && h[len(scheme)] == ' ' {
		return h[len(scheme)+1:], true
	}
	return "", false
}

func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Write(b)
}

func writeError(w http.ResponseWriter, status int, typ, reason string) {
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"type": typ, "reason": reason}, "status": status})
	w.Write(b)
}

// EncodeAPIKey is Elasticsearch's "encoded" API key: base64(id:key).
func EncodeAPIKey(id, key string) string {
	return base64.StdEncoding.EncodeToString([]byte(id + ":" + key))
}

// certificates makes a CA and a server certificate for 127.0.0.1 and
// hosts signed by it; the chain sent includes the CA, as Elasticsearch's
// does, so that a CA fingerprint matches.
func certificates(hosts []net.IP) (tls.Certificate, []byte, []byte, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Elasticsearch security auto-configuration HTTP CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "es-1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: append([]net.IP{net.IPv4(127, 0, 0, 1)}, hosts...), DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, nil, err
	}
	var caPEM bytes.Buffer
	pem.Encode(&caPEM, &pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return tls.Certificate{Certificate: [][]byte{der, caDER}, PrivateKey: key}, caPEM.Bytes(), caDER, nil
}
