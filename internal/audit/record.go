package audit

import (
	"fmt"
	"strings"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/digest"
)

// Begin starts the record of command, made before anything changes.
// args are its arguments, limit is the limit expression (when it chose
// the nodes).
func Begin(command string, args []string, limit string, force bool) Record {
	return Record{Command: command, Args: append([]string{}, args...), Limit: limit, Force: force, Nodes: []Node{}}
}

// LocalChange records a change of the local file by create or delete:
// the file, the token, and the file's SHA-256 before (none when there was
// no file) and after.
func (r *Record) LocalChange(file, token string, before, after []byte) {
	r.File, r.Token = file, token
	if before != nil { // nil: there was no file
		r.SHA256Before = digest.SHA256(before)
	}
	r.SHA256After = digest.SHA256(after)
	r.Outcome = file + " written"
}

// Pushed records what every node ended up with. A push of the local file
// as it is (no LocalChange before) records that file, unchanged.
func (r *Record) Pushed(file string, data []byte, nodes []Node, outcome string) {
	if r.File == "" {
		r.File = file
		r.SHA256Before = digest.SHA256(data)
		r.SHA256After = r.SHA256Before
	}
	r.Nodes = append(r.Nodes, nodes...)
	r.Outcome = outcome
}

// Delivered records the consumers a secret went to.
func (r *Record) Delivered(consumers []Consumer, outcome string) {
	r.Consumers = append(r.Consumers, consumers...)
	r.Outcome = outcome
}

// RolledBackTo records that the created token was removed again: after
// is the local file without it.
func (r *Record) RolledBackTo(after []byte) {
	r.RolledBack = true
	r.SHA256After = digest.SHA256(after)
}

// Rotated records one token's rotation; the outcome line counts them.
func (r *Record) Rotated(rot Rotation) {
	r.Rotations = append(r.Rotations, rot)
	if len(r.Rotations) == 1 {
		r.Token = rot.Token
	}
	counts := map[string]int{}
	var order []string
	for _, x := range r.Rotations {
		if counts[x.Outcome] == 0 {
			order = append(order, x.Outcome)
		}
		counts[x.Outcome]++
	}
	var parts []string
	for _, o := range order {
		parts = append(parts, fmt.Sprintf("%d %s", counts[o], o))
	}
	r.Outcome = strings.Join(parts, ", ")
}

// Pulled records the file a pull wrote from node.
func (r *Record) Pulled(node, out, sha string) {
	r.File, r.SHA256After = out, sha
	r.Nodes = append(r.Nodes, Node{Name: node, Result: "pulled", SHA256: sha})
	r.Outcome = "copied to " + out
}

// End stamps the record when the run ends at at with exit code code.
// failure is the error that ended the run, "" when the run said all it
// had to say itself; it replaces the outcome, which is otherwise kept,
// or "exit N" when there is none.
func (r *Record) End(at time.Time, code int, failure string) {
	r.Time = at.UTC().Format(time.RFC3339)
	r.ExitCode = code
	switch {
	case failure != "":
		r.Outcome = "error: " + strings.Join(strings.Fields(failure), " ")
	case r.Outcome == "":
		r.Outcome = fmt.Sprintf("exit %d", code)
	}
}
