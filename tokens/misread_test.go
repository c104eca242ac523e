package tokens

import (
	"strings"
	"testing"
)

const testHash = "{PBKDF2_STRETCH}10000$8QN+eThJEaCd18sCP0nfzxJq2D9yhmSZgI20TDooYcE=$+0ELfqW4D2+/SlHvm/885dzv67qO2SMJg32Mv/9epXk="

// Lines Elasticsearch loads under a name other than the one shown are
// reported with their line number; the tokens are still parsed as
// Elasticsearch parses them.
func TestMisread(t *testing.T) {
	cases := []struct {
		file     string
		line     int
		key      string // the key Elasticsearch uses
		contains string
	}{
		{"\ufeffelastic/fleet-server/a:" + testHash + "\n", 1, "\ufeffelastic/fleet-server/a", "starts with a UTF-8 byte order mark"},
		{"elastic/fleet-server/ok:" + testHash + "\nelastic/fleet-server/a :" + testHash + "\n", 2, "elastic/fleet-server/a ", `token "elastic/fleet-server/a ": the name ends with a space`},
		{"  elastic/fleet-server/a\t:" + testHash + "\n", 1, "elastic/fleet-server/a\t", `token "elastic/fleet-server/a\t": the name holds the invisible or control character U+0009`},
		{"elastic/fleet-server/a\u200b:" + testHash + "\n", 1, "elastic/fleet-server/a\u200b", `U+200B`},
		{"elastic/fleet-server/\u00a0a:" + testHash + "\n", 1, "elastic/fleet-server/\u00a0a", `U+00A0`},
		{"\n\n:" + testHash + "\n", 3, "", "a token has an empty name"},
		{"elastic/kibana/x\x1b[8m:" + testHash + "\n", 1, "elastic/kibana/x\x1b[8m", `token "elastic/kibana/x\x1b[8m"`},
	}
	for _, c := range cases {
		f, err := Parse([]byte(c.file))
		if err != nil {
			t.Fatalf("%q: %v", c.file, err)
		}
		if _, ok := f.Hash(c.key); !ok {
			t.Errorf("%q: Elasticsearch's key %q not parsed", c.file, c.key)
		}
		if len(f.Misread) != 1 || f.Misread[0].Line != c.line || !strings.Contains(f.Misread[0].Reason, c.contains) {
			t.Errorf("%q: Misread = %+v, want line %d containing %q", c.file, f.Misread, c.line, c.contains)
		}
	}
	// What reads as it is keyed is not reported: leading spaces and a
	// trailing space after the hash are trimmed by Elasticsearch too, inner
	// spaces are visible, comments and plain lines carry no token.
	for _, ok := range []string{
		"  elastic/fleet-server/a:" + testHash + "   \r\n",
		"elastic/fleet-server/a b:" + testHash + "\n",
		"# comment\u200b\n\nelastic/kibana/x :plain\n",
		"",
	} {
		f, err := Parse([]byte(ok))
		if err != nil || len(f.Misread) != 0 {
			t.Errorf("%q: %v, Misread %+v", ok, err, f.Misread)
		}
	}
	// A BOM before a comment turns it into a line without ':'.
	_, err := Parse([]byte("\ufeff# managed by hand\n"))
	if err == nil || !strings.Contains(err.Error(), "line 1: missing ':' character (the file starts with a UTF-8 byte order mark") {
		t.Errorf("BOM + comment: %v", err)
	}
}
