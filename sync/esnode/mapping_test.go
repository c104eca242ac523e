package esnode

import (
	"strings"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/inventory"
)

// Nodes the run reached are named as read from them; the others by
// es_node_name, else they are Unnamed: never guessed from the inventory
// name, which would blame a real cluster node as "not in the inventory".
func TestMapNamesOnlyWhatIsKnown(t *testing.T) {
	all := []*inventory.Node{{Name: "es-1"}, {Name: "es-2", ESNodeName: "node-2"}, {Name: "es-3"}}
	m := Map(all, []Name{{Node: "es-1", ESName: "node-1"}})
	if m.ESOf["es-1"] != "node-1" || m.ByES["node-2"] != "es-2" || !m.Outside["node-2"] || m.Outside["node-1"] {
		t.Errorf("%+v", m)
	}
	if strings.Join(m.Unnamed, ",") != "es-3" || m.ESOf["es-3"] != "" {
		t.Errorf("es-3 must be unnamed: %+v", m)
	}
}
