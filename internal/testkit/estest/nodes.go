package estest

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// defaultHost is where a node without a Host listens.
const defaultHost = "127.0.0.1"

func (s NodeSpec) host() string {
	if s.Host == "" {
		return defaultHost
	}
	return s.Host
}

// nodeHosts are the node addresses the server certificate must name
// besides 127.0.0.1.
func nodeHosts(specs []NodeSpec) []net.IP {
	var ips []net.IP
	for _, s := range specs {
		if ip := net.ParseIP(s.Host); ip != nil {
			ips = append(ips, ip)
		}
	}
	return ips
}

// listenNodes gives every node its own HTTPS listener: on one port shared
// by all when their hosts differ (as every node of a real cluster listens
// on 9200), else a free port each.
func (c *Cluster) listenNodes() error {
	var lns []net.Listener
	var err error
	if distinctHosts(c.opts.Nodes) {
		lns, err = listenCommon(c.opts.Nodes, c.opts.NodePort)
	} else {
		lns, err = listenEach(c.opts.Nodes)
	}
	if err != nil {
		return err
	}
	for i, n := range c.nodes {
		n.url = "https://" + lns[i].Addr().String()
		n.srv = c.server(n)
		go n.srv.ServeTLS(lns[i], "", "")
	}
	return nil
}

func distinctHosts(specs []NodeSpec) bool {
	seen := map[string]bool{}
	for _, s := range specs {
		if seen[s.host()] {
			return false
		}
		seen[s.host()] = true
	}
	return true
}

func listenEach(specs []NodeSpec) ([]net.Listener, error) {
	var lns []net.Listener
	for _, s := range specs {
		ln, err := net.Listen("tcp", net.JoinHostPort(s.host(), "0"))
		if err != nil {
			closeAll(lns)
			return nil, err
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

// listenCommon listens on port on every node's host; port 0 tries ports
// the first host finds free until one is free on all of them.
func listenCommon(specs []NodeSpec, port int) ([]net.Listener, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	for attempt := 0; attempt < 50; attempt++ {
		p := port
		first, err := net.Listen("tcp", net.JoinHostPort(specs[0].host(), strconv.Itoa(p)))
		if err != nil {
			return nil, err
		}
		p = first.Addr().(*net.TCPAddr).Port
		lns := []net.Listener{first}
		for _, s := range specs[1:] {
			ln, err := net.Listen("tcp", net.JoinHostPort(s.host(), strconv.Itoa(p)))
			if err != nil {
				break
			}
			lns = append(lns, ln)
		}
		if len(lns) == len(specs) {
			return lns, nil
		}
		closeAll(lns)
		if port != 0 {
			return nil, fmt.Errorf("port %d is not free on every node's host", port)
		}
	}
	return nil, errors.New("found no port free on every node's host")
}

func closeAll(lns []net.Listener) {
	for _, ln := range lns {
		ln.Close()
	}
}

// node returns the node called name, or nil.
func (c *Cluster) node(name string) *node {
	for _, n := range c.nodes {
		if n.spec.Name == name {
			return n
		}
	}
	return nil
}

// NodeURL is node name's own HTTPS address ("" for no such node).
func (c *Cluster) NodeURL(name string) string {
	if n := c.node(name); n != nil {
		return n.url
	}
	return ""
}

// NodePort is the port every node listens on when they share one, else 0.
func (c *Cluster) NodePort() int {
	port := 0
	for i, n := range c.nodes {
		_, p, _ := net.SplitHostPort(n.url[len("https://"):])
		v, _ := strconv.Atoi(p)
		if i > 0 && v != port {
			return 0
		}
		port = v
	}
	return port
}

// NodeRequests counts the requests node name's own listener served (its
// share of the cluster address's answers not included).
func (c *Cluster) NodeRequests(name string) int {
	if n := c.node(name); n != nil {
		return int(n.requests.Load())
	}
	return 0
}

// StopNode closes node name's own listener: its address refuses
// connections from now on. The node still loads its file and is still a
// member of the cluster, as a node whose HTTP port is firewalled.
func (c *Cluster) StopNode(name string) {
	if n := c.node(name); n != nil && n.srv != nil {
		n.srv.Close()
	}
}

// Freeze stops node name from reloading its file (on = true) until it is
// thawed (on = false): a node whose file watcher died, or whose
// Elasticsearch cannot read the file it has, keeps serving what it loaded
// before.
func (c *Cluster) Freeze(name string, on bool) error {
	n := c.node(name)
	if n == nil {
		return fmt.Errorf("no node %s", name)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.frozen = on
	return nil
}

// Stale makes node name keep the hash it holds now for the qualified token
// name, whatever its file says later: a token deleted and re-created
// under the same name still shows on that node in the credentials API (by
// name), but the node only accepts the old secret. It fails when the node
// holds no such token.
func (c *Cluster) Stale(name, token string) error {
	n := c.node(name)
	if n == nil {
		return fmt.Errorf("no node %s", name)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	h, ok := n.loaded.Hash(token)
	if !ok {
		return fmt.Errorf("node %s has not loaded %s", name, token)
	}
	n.pinned[token] = h
	return nil
}

// pin puts the pinned hashes into f, a file the node is loading, for the
// names f holds; n.mu is held.
func (n *node) pin(f *tokens.File) {
	for k, h := range n.pinned {
		if _, ok := f.Hash(k); ok {
			f.Set(k, h)
		}
	}
}
