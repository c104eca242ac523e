package main

import (
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/deliver"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
)

// sameLineage matches a consumer's token to the current one across
// rotations: kibana-1 and kibana-1-20261202T203000Z are one token's line.
func sameLineage(a, b string) bool { return meta.Lineage(a) == meta.Lineage(b) }

// consumersOf are the inventory's consumers of token (by lineage).
func consumersOf(inv *inventory.Inventory, token string) []*inventory.Consumer {
	if inv == nil {
		return nil
	}
	return deliver.For(inv.Consumers, token, sameLineage)
}

// consumerNames are the names of consumers, for messages and records.
func consumerNames(cs []*inventory.Consumer) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// planDelivery finds the consumers of token and loads the keys of their
// machines, before anything changes: a consumer that cannot be reached for
// a bad key is found before the token exists.
func (t *tool) planDelivery(r *remote, token string) ([]*inventory.Consumer, error) {
	cs := consumersOf(r.inv, token)
	if len(cs) == 0 {
		return nil, exit.Fail(exit.Config, "no consumer in %s uses %s: add one under consumers: with token: %s, or leave out --deliver", r.inv.File, token, token)
	}
	if err := r.dialer.Auth.PrepareConsumers(cs); err != nil {
		return nil, err
	}
	return cs, nil
}
