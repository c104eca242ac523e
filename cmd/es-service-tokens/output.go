package main

// What every command says besides its own report (warnings and notes on
// stderr, through output.Notes), and the output format it was asked for.

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// warn prints a one-line WARNING: on stderr, or {"warning": ...} with
// --format json; each distinct warning once a run, and none with -s.
func (t *tool) warn(c *cli.Context, format string, a ...any) {
	if !c.Bool("silent") {
		t.notes().Warning(fmt.Sprintf(format, a...))
	}
}

// notes are what the run says on stderr besides its report.
func (t *tool) notes() *output.Notes {
	if t.said == nil {
		t.said = &output.Notes{W: t.stderr, JSON: t.jsonOut}
	}
	return t.said
}

func (t *tool) jsonOutput(c *cli.Context) (bool, error) {
	switch c.String("format") {
	case "text":
		return false, nil
	case "json":
		return true, nil
	}
	return false, exit.Fail(exit.Usage, "--format %q: use text or json", safetext.Input(c.String("format")))
}
