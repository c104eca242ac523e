package safetext

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	cases := map[string]string{
		"elastic/fleet-server/a":    "elastic/fleet-server/a",
		"/etc/elasticsearch/x y":    "/etc/elasticsearch/x y",
		"ünïcode-ok":                "ünïcode-ok",
		"a\nERROR: forged":          `a\nERROR: forged`,
		"tab\there":                 `tab\there`,
		"\x1b[31mred":               `\x1b[31mred`,
		"\ufeffelastic/kibana/k":    `\ufeffelastic/kibana/k`,
		"zero\u200bwidth":           `zero\u200bwidth`,
		"rtl\u202eoverride":         `rtl\u202eoverride`,
		"line\u2028sep":             `line\u2028sep`,
		"cr\rreturn":                `cr\rreturn`,
		"del\x7f":                   `del\x7f`,
		"bad\xffutf8":               `bad\xffutf8`,
		"c1\u0085next-line":         `c1\u0085next-line`,
		"nbsp\u00a0is-a-space-here": "nbsp\u00a0is-a-space-here",
	}
	for in, want := range cases {
		got := Escape(in)
		if got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
		if Printable(in) != (in == want) {
			t.Errorf("Printable(%q) = %v", in, Printable(in))
		}
	}
}

// Whatever goes in, what comes out is one printable line.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"a\nb", "\ufeff", "\xff\xfe", "ok"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Escape(s)
		if !Printable(got) || strings.ContainsAny(got, "\r\n") || !utf8.ValidString(got) {
			t.Fatalf("Escape(%q) = %q is not one printable line", s, got)
		}
		if Printable(s) && got != s {
			t.Fatalf("Escape changed printable %q to %q", s, got)
		}
	})
}

// A URL echoed in an error never carries its password, parsed or not.
func TestURLHidesPasswords(t *testing.T) {
	for in, want := range map[string]string{
		"https://elastic:S3cretPass@127.0.0.1:9200":     "https://elastic:xxxxx@127.0.0.1:9200",
		"https://elastic:S3cretPass@127.0.0.1:bad/path": "https://xxxxx@127.0.0.1:bad/path",
		"https://127.0.0.1:9200":                        "https://127.0.0.1:9200",
	} {
		if got := URL(in); got != want || strings.Contains(got, "S3cret") {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBounded(t *testing.T) {
	long := strings.Repeat("é", 70)
	for in, want := range map[string]string{
		"deploy-1": "deploy-1",
		"a\nb":     `a\nb`,
		long:       strings.Repeat("é", 64) + "... (70 characters)",
		// The length is the input's, not its escaped form's; escapes
		// and invalid bytes count as the one character each one is.
		strings.Repeat("\x1b", 100):          strings.Repeat(`\x1b`, 64) + "... (100 characters)",
		strings.Repeat("a", 63) + "\xff\xfe": strings.Repeat("a", 63) + `\xff... (65 characters)`,
		strings.Repeat("x", 10000):           strings.Repeat("x", 64) + "... (10000 characters)",
		strings.Repeat("y", 64):              strings.Repeat("y", 64),
	} {
		if got := Bounded(in); got != want {
			t.Errorf("Bounded(%q) = %q, want %q", in, got, want)
		}
	}
}

// Input formats as Bounded with %s and %v, and as a bounded %q with %q.
func TestInput(t *testing.T) {
	long := strings.Repeat("x", 10000)
	for _, c := range []struct{ format, in, want string }{
		{"%q is not a port", "80a", `"80a" is not a port`},
		{"%q is not a port", long, `"` + strings.Repeat("x", 64) + `"... (10000 characters) is not a port`},
		{"%q", "a\nb\u200b", `"a\nb\u200b"`},
		{"[%s]", long + "!", "[" + strings.Repeat("x", 64) + "... (10001 characters)]"},
		{"%v", "a\x1bb", `a\x1bb`},
	} {
		if got := fmt.Sprintf(c.format, Input(c.in)); got != c.want {
			t.Errorf("Sprintf(%q, Input(%.20q)) = %q, want %q", c.format, c.in, got, c.want)
		}
	}
}

func TestShellWord(t *testing.T) {
	for in, want := range map[string]string{
		"config/service_tokens": "config/service_tokens",
		"my keys/kh":            "'my keys/kh'",
		"it's":                  `'it'\''s'`,
		"":                      "''",
		"$HOME":                 "'$HOME'",
	} {
		if got := ShellWord(in); got != want {
			t.Errorf("ShellWord(%q) = %s, want %s", in, got, want)
		}
	}
}
