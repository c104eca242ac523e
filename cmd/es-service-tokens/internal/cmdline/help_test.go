package cmdline

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// Each command's help ends by naming the global options that may be given
// anywhere: every one of them, so that a newcomer reading help push learns
// of --vault-password-file as of -i.
func TestCommandHelpNamesEveryGlobalOption(t *testing.T) {
	app := App(Actions{}, nil, nil)
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

// --audit-log's help names every command docs/audit.md says is audited.
func TestAuditLogHelpNamesEveryAuditedCommand(t *testing.T) {
	doc, err := os.ReadFile("../../../../docs/audit.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(doc), "Every run of ")
	sentence, _, _ := strings.Cut(rest, ", with")
	cmds := regexp.MustCompile("`([a-z]+)`").FindAllStringSubmatch(sentence, -1)
	if len(cmds) < 4 {
		t.Fatalf("docs/audit.md: found %d audited commands in %q", len(cmds), sentence)
	}
	var usage string
	for _, f := range App(Actions{}, nil, nil).Flags {
		if sf, ok := f.(*cli.StringFlag); ok && sf.Name == "audit-log" {
			usage = sf.Usage
		}
	}
	for _, m := range cmds {
		if !regexp.MustCompile(`\b` + m[1] + `\b`).MatchString(usage) {
			t.Errorf("--audit-log's help %q does not name %s, which docs/audit.md says is audited", usage, m[1])
		}
	}
}
