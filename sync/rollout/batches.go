package rollout

import (
	"strconv"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// Batch is a range of nodes, in inventory order, written together.
type Batch struct{ Start, End int }

// Batches splits n nodes for a gated rollout: a canary of the first canary
// nodes, then batches of size (a count, or "N%" of n, rounded up); with
// neither, one batch of every node.
func Batches(n, canary int, size string) ([]Batch, error) {
	if canary < 0 {
		return nil, remedy.Errorf(remedy.Canary, "%v %d: give a number of nodes, at least 1", remedy.Canary, canary)
	}
	step := n
	if size != "" {
		pct := strings.HasSuffix(size, "%")
		v, err := strconv.Atoi(strings.TrimSuffix(size, "%"))
		if err != nil || v < 1 || (pct && v > 100) {
			return nil, remedy.Errorf(remedy.Batch, "%v %q: give a number of nodes (e.g. 2) or a percentage (e.g. 25%%)", remedy.Batch, safetext.Input(size))
		}
		step = v
		if pct {
			step = (n*v + 99) / 100
		}
	}
	if step < 1 {
		step = 1
	}
	var out []Batch
	start := 0
	if canary > 0 {
		end := min(canary, n)
		out = append(out, Batch{0, end})
		start = end
	}
	for start < n {
		end := min(start+step, n)
		out = append(out, Batch{start, end})
		start = end
	}
	return out, nil
}
