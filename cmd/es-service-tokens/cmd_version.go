package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

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
	info := buildinfo.Get()
	if asJSON {
		return writeJSON(t.stdout, versionJSON(info))
	}
	_, err = fmt.Fprintf(t.stdout, "es-service-tokens %s\ncommit: %s\nbuilt:  %s\ngo:     %s %s\n",
		info.Version, info.Commit, info.Date, info.Go, info.Platform)
	return err
}
