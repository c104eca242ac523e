// Package esnode finds the Elasticsearch node name of each inventory node,
// which is how the cluster's REST API names it: es_node_name from the
// inventory, else node.name from the node's own elasticsearch.yml (beside
// its service_tokens file, read over SFTP), else the node's hostname,
// which is Elasticsearch's own default for node.name.
package esnode

import (
	"context"
	"path"
	"strings"
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

// Resolve returns the names of nodes, in node order. A node that cannot be
// read gets its inventory name, and Origin says so.
func Resolve(ctx context.Context, d *sshconn.Dialer, opts fleet.Options, nodes []*inventory.Node) []Name {
	opts.Progress = nil
	return fleet.Run(ctx, nodes, func(n *inventory.Node) string { return n.Name }, opts, func(ctx context.Context, n *inventory.Node, attempt int, _ time.Time) (Name, string, bool) {
		if n.ESNodeName != "" {
			return Name{n.Name, n.ESNodeName, "es_node_name"}, "", false
		}
		c, err := remotefile.Dial(ctx, d, n)
		if err != nil {
			return Name{n.Name, n.Name, "the inventory name (node unreachable: " + oneLine(err.Error()) + ")"}, "", true
		}
		defer c.Close()
		yml := path.Join(path.Dir(n.Path), "elasticsearch.yml")
		if st, err := c.Read(yml); err == nil && st.Exists {
			if v := NodeName(st.Data); v != "" && !strings.Contains(v, "${") {
				return Name{n.Name, v, "node.name in " + yml}, "", false
			}
		}
		if st, err := c.Read("/etc/hostname"); err == nil && st.Exists {
			if h := strings.TrimSpace(string(st.Data)); h != "" {
				return Name{n.Name, h, "the node's hostname (/etc/hostname)"}, "", false
			}
		}
		return Name{n.Name, n.Name, "the inventory name (no node.name and no /etc/hostname on the node)"}, "", false
	})
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

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
