package tokens

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that no input panics the parser and that every file it
// accepts (and can write) reads back as the same tokens: parse(write(x)) == x.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "a:" + hashStretch + "\n", "# c\r\nb:" + hashBcrypt + "\rc:" + hashPBKDF2,
		"  # x: y\n", "k:{plain}x\nk:" + hashStretch, "\ufeffa:" + hashBcrypt, "no colon",
		"a:{PBKDF2}1000$$", "a:$2a$1", "a:$2b$10$" + strings.Repeat("x", 53),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			return
		}
		out, err := file.Marshal()
		if err != nil {
			return
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("written file does not parse: %v\n%q", err, out)
		}
		if !again.Equal(file) {
			t.Fatalf("round trip changed tokens: %q -> %q", file.Keys(), again.Keys())
		}
		out2, _ := again.Marshal()
		if string(out2) != string(out) {
			t.Fatalf("writing is not stable: %q then %q", out, out2)
		}
	})
}

// FuzzBearer checks that decoding never panics and that every token that
// decodes encodes back to a string that decodes to the same token.
func FuzzBearer(f *testing.F) {
	f.Add("AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyL3Rva2VuMTpzdXBlcnNlY3JldA", "elastic", "fleet-server", "t", "secret-secret")
	f.Add("AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyL3Rva2VuMTpzdXBlcnNlY3JldA==x", "elastic", "kibana", "-x", "a:b")
	f.Add("", "", "", "", "")
	f.Fuzz(func(t *testing.T, bearer, ns, svc, name, secret string) {
		if tok, err := ParseBearer(bearer); err == nil {
			back, err := ParseBearer(tok.Bearer())
			if err != nil || back != tok {
				t.Fatalf("decode(encode(%+v)) = %+v, %v", tok, back, err)
			}
		}
		tok := Token{ns, svc, name, secret}
		if strings.ContainsRune(ns+svc, '/') || strings.ContainsRune(ns+svc+name, ':') || !ValidTokenName(name) ||
			javaIsBlank(ns) || javaIsBlank(svc) || !utf8.ValidString(ns) || !utf8.ValidString(svc) || !utf8.ValidString(secret) {
			return
		}
		back, err := ParseBearer(tok.Bearer())
		if err != nil || back != tok {
			t.Fatalf("decode(encode(%+v)) = %+v, %v", tok, back, err)
		}
	})
}
