package output

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// Notes are what a run says on stderr besides its report: warnings and
// notes, one line each ("WARNING: msg"), or one JSON object a line
// ({"warning": msg}) so that a script parses every line it gets.
type Notes struct {
	W    io.Writer
	JSON bool
	mu   sync.Mutex
	said map[string]bool
}

// Warning prints msg once a run.
func (n *Notes) Warning(msg string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.said[msg] {
		return
	}
	if n.said == nil {
		n.said = map[string]bool{}
	}
	n.said[msg] = true
	n.Notice("warning", msg)
}

// Notice prints one line of kind ("warning", "note", "info").
func (n *Notes) Notice(kind, msg string) {
	if n.JSON {
		JSON(n.W, map[string]string{kind: msg})
		return
	}
	fmt.Fprintf(n.W, "%s: %s\n", strings.ToUpper(kind), safetext.Escape(msg))
}

// StoreLines prints the local store's lines, which are Elasticsearch's own
// words ("WARNING: ..." and, after a permission change, a line of
// advice); in JSON each warning and its advice make one object.
func (n *Notes) StoreLines(lines []string) {
	if !n.JSON {
		for _, l := range lines {
			fmt.Fprintln(n.W, safetext.Escape(l)) // a dropped line's key is the file's own text
		}
		return
	}
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			n.Warning(strings.Join(cur, " "))
		}
		cur = nil
	}
	for _, l := range lines {
		if msg, ok := strings.CutPrefix(l, "WARNING: "); ok {
			flush()
			l = msg
		}
		cur = append(cur, l)
	}
	flush()
}

// MetaSkipped says what a token change did not record in the metadata
// file, whose damage never stops a change, and how to fix that file.
// what is what went unrecorded ("" when nothing but the file's upkeep).
func MetaSkipped(e error, path string, line int, write bool, what string) string {
	done := "the token change was made, and " + path + " was left as it is"
	if what != "" {
		done = what + " was not recorded: " + done
	}
	switch {
	case line > 0:
		done += ": fix line " + fmt.Sprint(line) + " (or move the file away: no token depends on it)"
	case write:
		done += ": make it writable (or move it away)"
	default:
		done += ": make it readable (or move it away: no token depends on it)"
	}
	return fmt.Sprintf("%s; %s", e, done)
}
