package push

import (
	"slices"
)

// Unrevoked is a node that may still accept tokens the push was to
// remove: a revocation that has not happened there yet.
type Unrevoked struct {
	Node    string
	Tokens  []string
	Status  Status
	Failure string
}

// StillAccepted names, for every node that did not end with the new file,
// the tokens this push meant to remove that the node may still accept.
// removed are the tokens a create or delete took out of the local file
// (nil for a plain push, which knows only what it read on each node).
func StillAccepted(results []Result, removed []string) []Unrevoked {
	var out []Unrevoked
	for _, r := range results {
		if r.Status.OK() {
			continue
		}
		var still []string
		switch {
		case r.Changes != nil && removed != nil:
			// Read on the node: only what it really holds.
			for _, t := range r.Changes.Removed {
				if slices.Contains(removed, t) {
					still = append(still, t)
				}
			}
		case r.Changes != nil:
			still = r.Changes.Removed
		default:
			// Not read (unreachable, refused): assume the worst.
			still = removed
		}
		if len(still) > 0 {
			out = append(out, Unrevoked{Node: r.Node, Tokens: still, Status: r.Status, Failure: string(r.Failure)})
		}
	}
	return out
}
