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
	cmds := auditedCommands(t)
	var usage string
	for _, f := range App(Actions{}, nil, nil).Flags {
		if sf, ok := f.(*cli.StringFlag); ok && sf.Name == "audit-log" {
			usage = sf.Usage
		}
	}
	for _, c := range cmds {
		if !regexp.MustCompile(`\b` + c + `\b`).MatchString(usage) {
			t.Errorf("--audit-log's help %q does not name %s, which docs/audit.md says is audited", usage, c)
		}
	}
}

// auditedCommands are the commands docs/audit.md's first sentence names.
func auditedCommands(t *testing.T) []string {
	doc, err := os.ReadFile("../../../../docs/audit.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(doc), "Every run of ")
	sentence, _, _ := strings.Cut(rest, ", with")
	var out []string
	for _, m := range regexp.MustCompile("`([a-z]+)`").FindAllStringSubmatch(sentence, -1) {
		out = append(out, m[1])
	}
	if len(out) < 4 {
		t.Fatalf("docs/audit.md: found %d audited commands in %q", len(out), sentence)
	}
	return out
}

// The page's ENVIRONMENT, FILES and AUDIT TRAIL name what the tool reads
// and writes beyond its options: every environment variable it reads,
// the files beside the local file and its own state, and every command
// that docs/audit.md says is audited.
func TestManPageNamesEnvironmentFilesAndAudit(t *testing.T) {
	page, err := ManPage(App(Actions{}, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	section := func(name string) string {
		_, rest, _ := strings.Cut(page, "\n.SH "+name+"\n")
		s, _, _ := strings.Cut(rest, "\n.SH ")
		return s
	}
	for sec, words := range map[string][]string{
		"ENVIRONMENT": {"ES_PATH_CONF", "ES_HOME", "ES_API_KEY", "ES_USERNAME", "ES_PASSWORD", "SSH_AUTH_SOCK",
			"ANSIBLE_VAULT_PASSWORD_FILE", "ANSIBLE_CONFIG", "XDG_STATE_HOME"},
		"FILES":       {"service_tokens.meta", "es-service-tokens/pending-"},
		"AUDIT TRAIL": auditedCommands(t),
	} {
		text := section(sec)
		for _, w := range words {
			if !strings.Contains(text, w) {
				t.Errorf("the man page's %s section does not name %s", sec, w)
			}
		}
	}
}

// fish completes file names for the options that take a path (--file,
// -i, --token-file, --out...), and not for the others (--format).
func TestFishCompletesPathsWherePathsGo(t *testing.T) {
	fish, err := App(Actions{}, nil, nil).ToFishCompletion()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(fish, "\n") {
		for _, name := range []string{"file", "inventory", "token-file", "out", "es-ca", "against", "prometheus-textfile", "vault-password-file"} {
			if strings.Contains(l, " -l "+name+" ") && strings.Contains(l, " -f -l ") {
				t.Errorf("fish forbids file names after --%s: %s", name, l)
			}
		}
		if strings.Contains(l, " -l format ") && !strings.Contains(l, " -f -l ") {
			t.Errorf("fish offers file names after --format: %s", l)
		}
	}
}
