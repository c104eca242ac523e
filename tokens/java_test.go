package tokens

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf16"
)

// testdata/java_utf8.tsv was written by the JDK itself (testdata/JavaUTF8.java
// on testdata/java_utf8.in): the bytes, and the UTF-16 code units
// StandardCharsets.UTF_8.decode returns for them, the call Elasticsearch
// decodes a bearer token's content with. The rows include Unicode's own
// examples, encoded surrogates (where the JDK and Unicode's maximal-subpart
// rule part ways) and random strings over the bytes that end a sequence.
func TestJavaDecodeUTF8MatchesJDK(t *testing.T) {
	f, err := os.Open("testdata/java_utf8.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := 0
	for s := bufio.NewScanner(f); s.Scan(); {
		line := s.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		in, want, ok := strings.Cut(line, "\t")
		b, err := hex.DecodeString(in)
		if !ok || err != nil {
			t.Fatalf("bad row %q", line)
		}
		if got := utf16Hex(javaDecodeUTF8(b)); got != want {
			t.Errorf("javaDecodeUTF8(%s) = [%s], the JDK gives [%s]", in, got, want)
		}
		rows++
	}
	if rows < 400 {
		t.Fatalf("only %d rows in testdata/java_utf8.tsv", rows)
	}
}

func utf16Hex(s string) string {
	var units []string
	for _, u := range utf16.Encode([]rune(s)) {
		units = append(units, fmt.Sprintf("%04x", u))
	}
	return strings.Join(units, " ")
}

// A bearer whose secret ends in an encoded surrogate: Elasticsearch reads
// ED A0 80 as one U+FFFD, so the secret is one char longer than its ASCII
// part, not three. Both verdicts that depend on it follow the JDK.
func TestBearerWithEncodedSurrogate(t *testing.T) {
	bearer := func(secret string) string {
		return Token{Namespace: "elastic", Service: "fleet-server", Name: "t", Secret: secret}.Bearer()
	}
	// 8 ASCII chars + one U+FFFD = 9 < 10: too short for Elasticsearch
	// (the maximal-subpart rule would count 11 and let it through).
	tok, err := ParseBearer(bearer("abcdefgh\xed\xa0\x80"))
	if err != nil {
		t.Fatal(err)
	}
	if n := tok.SecretLength(); n != 9 {
		t.Errorf("SecretLength = %d, want 9 as the JDK decodes it", n)
	}
	// The hash Elasticsearch checks is of "abcdefghij\uFFFD".
	f := NewFile()
	f.Set("elastic/fleet-server/t", DefaultAlgorithm.HashWithSalt("abcdefghij\uFFFD", make([]byte, 32)))
	if _, err := Authenticate(bearer("abcdefghij\xed\xa0\x80"), f, "the file"); err != nil {
		t.Errorf("secret with ED A0 80: %v; Elasticsearch accepts it", err)
	}
	if _, err := Authenticate(bearer("abcdefghij\ufffd\ufffd\ufffd"), f, "the file"); err == nil {
		t.Error("three U+FFFD accepted; Elasticsearch sees one")
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
