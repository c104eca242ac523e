// Package esnode finds the Elasticsearch node name of each inventory node,
// which is how the cluster's REST API names it: es_node_name from the
// inventory, else node.name from the node's own elasticsearch.yml (beside
// its service_tokens file, read over SFTP on the connection the run
// already has), else the node's hostname, which is Elasticsearch's own
// default for node.name.
package esnode

import (
	"context"
	"path"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/fleet"
	"github.com/es-service-tokens/es-service-tokens/sync/remotefile"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
)

// Name is one node's Elasticsearch name and where it came from.
type Name struct {
	Node   string // inventory name
	ESName string
	Origin string
}

// Read names n from what c, the run's own connection to it, finds there
// (a run connects to a node once, whatever it needs from it): es_node_name
// from the inventory, else node.name in the elasticsearch.yml beside its
// file, else its hostname, else its inventory name.
func Read(c *remotefile.Conn, n *inventory.Node) Name {
	if n.ESNodeName != "" {
		return Name{n.Name, n.ESNodeName, "es_node_name"}
	}
	yml := path.Join(path.Dir(n.Path), "elasticsearch.yml")
	if st, err := c.Read(yml); err == nil && st.Exists {
		if v := NodeName(st.Data); v != "" && !strings.Contains(v, "${") {
			return Name{n.Name, v, "node.name in " + yml}
		}
	}
	if st, err := c.Read("/etc/hostname"); err == nil && st.Exists {
		if h := strings.TrimSpace(string(st.Data)); h != "" {
			return Name{n.Name, h, "the node's hostname (/etc/hostname)"}
		}
	}
	return Name{n.Name, n.Name, "the inventory name (no node.name and no /etc/hostname on the node)"}
}

// Resolve connects to each node just to read its name. Only a run that
// does not otherwise reach the nodes may use it (a rotation resumed at a
// confirmation): any run that pushes or checks reads the names on its own
// connection (Found), as one connection per node per run asks.
func Resolve(ctx context.Context, d *sshconn.Dialer, opts fleet.Options, nodes []*inventory.Node) []Name {
	opts.Progress = nil
	name := func(n *inventory.Node) string { return n.Name }
	return fleet.Run(ctx, nodes, name, opts, func(ctx context.Context, n *inventory.Node, _ int, _ time.Time) (Name, string, bool) {
		if n.ESNodeName != "" {
			return Unreached(n), "", false
		}
		c, err := remotefile.Dial(ctx, d, n)
		if err != nil {
			return Unreached(n), "", sshconn.Retryable(err)
		}
		defer c.Close()
		return Read(c, n), "", false
	})
}

// Unreached names a node the run could not read: by es_node_name, else by
// its inventory name, and Origin says why.
func Unreached(n *inventory.Node) Name {
	if n.ESNodeName != "" {
		return Name{n.Name, n.ESNodeName, "es_node_name"}
	}
	return Name{n.Name, n.Name, "the inventory name (the node was not read)"}
}

// NodeName reads node.name from an elasticsearch.yml, written flat
// ("node.name: x") or nested ("node: {name: x}"); "" when absent.
// ${HOSTNAME} style values are returned as written.
func NodeName(data []byte) string {
	var doc map[string]any
	if yaml.Unmarshal(data, &doc) != nil {
		return ""
	}
	if v, ok := doc["node.name"].(string); ok {
		return v
	}
	if m, ok := doc["node"].(map[string]any); ok {
		if v, ok := m["name"].(string); ok {
			return v
		}
	}
	return ""
}

// Found collects the names of nodes, each read on the run's own
// connection to it; it is safe for the fleet's goroutines. Its Inspect is
// a push.Pusher's or check.Checker's Inspect.
type Found struct {
	mu    sync.Mutex
	names map[string]Name
}

// Inspect reads n's name over c. Not finding one never fails the node.
func (f *Found) Inspect(_ context.Context, c *remotefile.Conn, n *inventory.Node) error {
	name := Read(c, n)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.names == nil {
		f.names = map[string]Name{}
	}
	f.names[n.Name] = name
	return nil
}

// Of is n's name as read on it, else Unreached(n).
func (f *Found) Of(n *inventory.Node) Name {
	f.mu.Lock()
	defer f.mu.Unlock()
	if name, ok := f.names[n.Name]; ok {
		return name
	}
	return Unreached(n)
}
