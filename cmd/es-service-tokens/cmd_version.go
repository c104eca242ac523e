package main

import (
	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/internal/buildinfo"
)

func (t *tool) versionCommand() *cli.Command {
	return command("version", " ", "Print the version, commit and build date",
		"Example:\n   es-service-tokens version --format json",
		t.version)
}

// version prints which build this is, for pinning and change approval.
func (t *tool) version(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	asJSON, err := t.jsonOutput(c)
	if err != nil {
		return err
	}
	return output.Version(t.stdout, asJSON, buildinfo.Get())
}
