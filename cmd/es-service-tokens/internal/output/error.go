package output

import (
	"fmt"
	"io"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// Error prints the error that ends a run, with its exit code, as
// Elasticsearch's CLI does: the usage line first when there is one (for
// a usage error), then "ERROR: msg, with exit code N" after an empty line
// (8.4 and later), or for a bad option joptsimple's "ERROR: msg" alone.
// In JSON it is one object, with the usage line but not a list of
// commands, which is for people.
func Error(w io.Writer, asJSON bool, err error, code int, usage string, option bool) {
	msg := Phrase(err)
	if asJSON {
		doc := struct {
			Error    string `json:"error"`
			ExitCode int    `json:"exit_code"`
			Usage    string `json:"usage,omitempty"`
		}{Error: msg, ExitCode: code}
		if !strings.Contains(usage, "\n") {
			doc.Usage = usage
		}
		JSON(w, doc)
		return
	}
	if usage != "" {
		fmt.Fprintln(w, usage)
	}
	// Names and paths in the message may come from argv or files:
	// escaped, they cannot forge a second line.
	if option {
		fmt.Fprintf(w, "ERROR: %s\n", safetext.Escape(msg))
		return
	}
	fmt.Fprintf(w, "\nERROR: %s, with exit code %d\n", safetext.Escape(msg), code)
}
