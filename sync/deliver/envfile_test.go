package deliver

import (
	"errors"
	"strings"
	"testing"
)

// setEnv changes the one assignment of the key and nothing else, byte for
// byte: comments, blank lines, other variables, CRLF endings, a last line
// without newline.
func TestSetEnvKeepsEveryOtherByte(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"replace", "# Kibana\nNODE_OPTIONS=\"--max-old-space-size=2048\"\nTOKEN=old\nOTHER=1\n", "# Kibana\nNODE_OPTIONS=\"--max-old-space-size=2048\"\nTOKEN=new\nOTHER=1\n"},
		{"blanks around", "  TOKEN = old\n", "TOKEN=new\n"},
		{"crlf kept", "A=1\r\nTOKEN=old\r\nB=2\r\n", "A=1\r\nTOKEN=new\r\nB=2\r\n"},
		{"last line without newline", "A=1\nTOKEN=old", "A=1\nTOKEN=new"},
		{"append", "A=1\n", "A=1\nTOKEN=new\n"},
		{"append after a last line without newline", "A=1", "A=1\nTOKEN=new\n"},
		{"new file", "", "TOKEN=new\n"},
		{"comments and prefixes are not assignments", "#TOKEN=x\n; TOKEN=y\nTOKEN_2=z\nMYTOKEN=w\n", "#TOKEN=x\n; TOKEN=y\nTOKEN_2=z\nMYTOKEN=w\nTOKEN=new\n"},
		{"a continued line is not an assignment", "A=a \\\nTOKEN=part of A\nTOKEN=old\n", "A=a \\\nTOKEN=part of A\nTOKEN=new\n"},
		{"trailing blanks and odd bytes elsewhere", "A=1  \n\n\t\nB=\xff\xfe\nTOKEN=old\n", "A=1  \n\n\t\nB=\xff\xfe\nTOKEN=new\n"},
	}
	for _, c := range cases {
		got, err := setEnv([]byte(c.in), "TOKEN", "new")
		if err != nil || string(got) != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}

// A file it cannot edit safely is refused, naming lines by number and
// never quoting them (they may hold secrets).
func TestSetEnvRefuses(t *testing.T) {
	cases := []struct{ in, want string }{
		{"TOKEN=a\nX=1\nTOKEN=secretvalue\n", "TOKEN is assigned on lines 1 and 3"},
		{"X=1\nTOKEN=secretvalue\\\n more\n", "line 2 assigns TOKEN and continues"},
	}
	for _, c := range cases {
		_, err := setEnv([]byte(c.in), "TOKEN", "new")
		if err == nil || !errors.Is(err, errEnvFile) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.in, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "secretvalue") {
			t.Errorf("the error quotes the file: %v", err)
		}
	}
}
