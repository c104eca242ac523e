package main

// What every command prints besides its own report: warnings and notes on
// stderr (text, or one JSON object a line with --format json), and the
// small helpers the reports share.

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// warn prints a one-line WARNING: on stderr, or {"warning": ...} with
// --format json; each distinct warning once a run, and none with -s.
func (t *tool) warn(c *cli.Context, format string, a ...any) {
	if !c.Bool("silent") {
		t.warning(fmt.Sprintf(format, a...))
	}
}

func (t *tool) warning(msg string) {
	t.warnMu.Lock()
	defer t.warnMu.Unlock()
	if t.warned[msg] {
		return
	}
	if t.warned == nil {
		t.warned = map[string]bool{}
	}
	t.warned[msg] = true
	t.notice("warning", msg)
}

// notice prints one line on stderr, "WARNING: msg" for kind "warning", or
// {"warning": msg} with --format json.
func (t *tool) notice(kind, msg string) {
	if t.jsonOut {
		output.JSON(t.stderr, map[string]string{kind: msg})
		return
	}
	fmt.Fprintf(t.stderr, "%s: %s\n", strings.ToUpper(kind), safetext.Escape(msg))
}

// printWarnings prints store's lines, which are Elasticsearch's own words
// ("WARNING: ..." and, after a permission change, a line of advice). They
// are printed even with -s, as Elasticsearch does; with --format json each
// warning and its advice make one object.
func (t *tool) printWarnings(lines []string) {
	if !t.jsonOut {
		for _, l := range lines {
			fmt.Fprintln(t.stderr, safetext.Escape(l)) // a dropped line's key is the file's own text
		}
		return
	}
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			t.warning(strings.Join(cur, " "))
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

func (t *tool) jsonOutput(c *cli.Context) (bool, error) {
	switch c.String("format") {
	case "text":
		return false, nil
	case "json":
		return true, nil
	}
	return false, fail(exitUsage, "--format %q: use text or json", safetext.Input(c.String("format")))
}

// shellWord quotes s for a shell when it needs it, so the printed command
// can be pasted as it is.
func shellWord(s string) string { return safetext.ShellWord(s) }
