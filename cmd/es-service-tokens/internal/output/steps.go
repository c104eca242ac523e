package output

import (
	"fmt"
	"io"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/steps"
)

// Steps renders -v's step timings (connect, auth, read, write,
// read-back), one line per node in inventory order: "es-1: connect
// 0.004s, auth 0.031s, read 0.002s, ...", or one JSON object per node.
func Steps(w io.Writer, asJSON bool, nodes []*inventory.Node, rec *steps.Recorder) {
	for _, n := range nodes {
		node := n.Name
		done, ok := rec.Of(node)
		if !ok {
			continue
		}
		if asJSON {
			JSON(w, stepsJSON{node, each(done, func(s steps.Step) stepJSON { return stepJSON(s) })})
			continue
		}
		parts := make([]string, len(done))
		for i, st := range done {
			parts[i] = fmt.Sprintf("%s %.3fs", st.Step, st.Seconds)
		}
		fmt.Fprintf(w, "%s: %s\n", node, strings.Join(parts, ", "))
	}
}
