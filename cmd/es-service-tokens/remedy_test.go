package main

import (
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
)

// appFlagNames are every option the app defines, global or a command's, by
// each of its names.
func appFlagNames() map[string]bool {
	app := (&tool{}).app()
	names := map[string]bool{}
	add := func(flags []cli.Flag) {
		for _, f := range flags {
			for _, n := range f.Names() {
				names[n] = true
			}
		}
	}
	add(app.Flags)
	for _, c := range app.Commands {
		add(c.Flags)
	}
	return names
}

// Every option a library can name is phrased as one of the app's flags,
// so no message sends the user to an option that does not exist.
func TestFlagWordsAreFlags(t *testing.T) {
	names := appFlagNames()
	for _, k := range remedy.Kinds() {
		w := flagWords[k]
		if !strings.HasPrefix(w, "--") || !names[strings.TrimPrefix(w, "--")] {
			t.Errorf("remedy kind %v is phrased %q, which is not a flag of the app", k, w)
		}
	}
}
