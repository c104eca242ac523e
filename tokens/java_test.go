package tokens

import (
	"strings"
	"testing"
)

// The examples of the Unicode standard (15.0, §3.9, Tables 3-8 to 3-11),
// which Java's UTF-8 decoder follows: one U+FFFD per maximal subpart.
func TestJavaDecodeUTF8MaximalSubparts(t *testing.T) {
	const r = "\uFFFD"
	for _, c := range []struct{ in, want string }{
		{"\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", "a" + r + r + r + "b" + r + "c" + r + r + "d"},
		{"\xC0\xAF\xE0\x80\xBF\xF0\x81\x82\x41", strings.Repeat(r, 8) + "A"},
		{"\xED\xA0\x80\xED\xBF\xBF\xED\xAF\x41", strings.Repeat(r, 8) + "A"},
		{"\xF4\x91\x92\x93\xFF\x41\x80\xBF\x42", strings.Repeat(r, 5) + "A" + r + r + "B"},
		{"\xE1\x80\xE2\xF0\x91\x92\xF1\xBF\x41", strings.Repeat(r, 4) + "A"},
		{"ok \xE2\x82\xAC \xF0\x9F\x98\x80", "ok € 😀"},
		{"end\xF0\x9F\x98", "end" + r},
	} {
		if got := javaDecodeUTF8([]byte(c.in)); got != c.want {
			t.Errorf("javaDecodeUTF8(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSecretLengthIsUTF16(t *testing.T) {
	for _, c := range []struct {
		secret string
		want   int
	}{{"abcdefghij", 10}, {"😀😀😀😀😀", 10}, {"ééééé", 5}, {"😀x", 3}} {
		if got := (Token{Secret: c.secret}).SecretLength(); got != c.want {
			t.Errorf("SecretLength(%q) = %d, want %d", c.secret, got, c.want)
		}
	}
}
