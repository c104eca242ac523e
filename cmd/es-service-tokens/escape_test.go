package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Names and paths from the command line are echoed with control characters
// escaped: a token name holding a newline cannot forge a log line.
func TestEchoedNamesAreEscaped(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "service_tokens")
	cases := []struct {
		args []string
		want string // the one ERROR line
	}{
		{[]string{"create", "elastic/fleet-server", "bad\nERROR: forged, with exit code 0"},
			`ERROR: invalid service token name [bad\nERROR: forged, with exit code 0]. service account token name must have`},
		{[]string{"delete", "elastic/kibana\r\x1b[2Kforged", "t"},
			`ERROR: Unknown service account principal: [elastic/kibana\r\x1b[2Kforged]. Must be one of`},
		{[]string{"-i", filepath.Join(dir, "inv\nERROR: forged.yml"), "nodes"},
			`ERROR: ` + dir + `/inv\nERROR: forged.yml: cannot read inventory: no such file or directory, with exit code 78`},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"es-service-tokens", "--file", file}, c.args...), strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if code == 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], c.want) {
			t.Errorf("%q: exit %d, stderr %q\nwant one line starting %q", c.args, code, stderr.String(), c.want)
		}
	}
}

// A line of the local file that a rewrite drops is named in a WARNING: its
// key is the file's own text, escaped too.
func TestDroppedLineWarningIsEscaped(t *testing.T) {
	file := filepath.Join(t.TempDir(), "service_tokens")
	if err := os.WriteFile(file, []byte("elastic/kibana/x\x1b[2J\u2028WARNING: forged:plain-text\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"es-service-tokens", "--file", file, "create", "elastic/fleet-server", "new"}, strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
	want := `WARNING: ` + file + `:1: [elastic/kibana/x\x1b[2J\u2028WARNING] no hash prefix`
	if code != 0 || !strings.HasPrefix(stderr.String(), want) || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("exit %d, stderr %q, want one line starting %q", code, stderr.String(), want)
	}
}
