package main

import (
	"strings"
	"testing"
)

// Each command's help ends by naming the global options that may be given
// anywhere: every one of them, so that a newcomer reading help push learns
// of --vault-password-file as of -i.
func TestCommandHelpNamesEveryGlobalOption(t *testing.T) {
	app := (&tool{}).app()
	for _, tmpl := range []string{commandHelp, esCommandHelp} {
		_, rest, ok := strings.Cut(tmpl, "Global options (")
		line, _, _ := strings.Cut(rest, ")")
		if !ok {
			t.Fatal("no Global options line in a command help template")
		}
		named := map[string]bool{}
		for _, w := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
			named[strings.TrimLeft(w, "-")] = true
		}
		for _, f := range app.Flags {
			names := f.Names()
			if names[0] == "help" || names[0] == "version" {
				continue
			}
			found := false
			for _, n := range names {
				found = found || named[n]
			}
			if !found {
				t.Errorf("command help's Global options line lacks --%s", names[0])
			}
		}
	}
}
