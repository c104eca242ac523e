package safetext

import (
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
	} {
		if got := Bounded(in); got != want {
			t.Errorf("Bounded(%q) = %q, want %q", in, got, want)
		}
	}
}
