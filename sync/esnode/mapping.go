package esnode

import "github.com/es-service-tokens/es-service-tokens/inventory"

// Mapping relates inventory nodes to Elasticsearch node names, for the
// cluster's view of a run that may reach only some nodes (a limit).
type Mapping struct {
	ESOf    map[string]string // inventory name -> Elasticsearch name
	ByES    map[string]string // Elasticsearch name -> inventory name
	Outside map[string]bool   // Elasticsearch names of named nodes this run does not reach
	// Unnamed are the inventory nodes this run does not reach that have no
	// es_node_name: their Elasticsearch names are unknown, because finding
	// them means connecting to nodes the user left out.
	Unnamed []string
}

// Map names every inventory node: those the run reached as Resolve found
// them, the others by es_node_name, else they are Unnamed.
func Map(all []*inventory.Node, reached []Name) Mapping {
	m := Mapping{ESOf: map[string]string{}, ByES: map[string]string{}, Outside: map[string]bool{}}
	found := map[string]string{}
	for _, n := range reached {
		found[n.Node] = n.ESName
	}
	for _, n := range all {
		es, ok := found[n.Name]
		if !ok {
			if n.ESNodeName == "" {
				m.Unnamed = append(m.Unnamed, n.Name)
				continue
			}
			es = n.ESNodeName
			m.Outside[es] = true
		}
		m.ESOf[n.Name], m.ByES[es] = es, n.Name
	}
	return m
}
