package tokens

import (
	"bytes"
	"crypto/rand"
	"testing"
)

func TestNewTokenAuthenticatesAgainstItsOwnHash(t *testing.T) {
	acct, _ := LookupAccount("elastic/kibana")
	tok, hash, err := New(acct, "kibana-1", DefaultAlgorithm, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if tok.QualifiedName() != "elastic/kibana/kibana-1" {
		t.Fatalf("qualified name %q", tok.QualifiedName())
	}
	f := NewFile()
	f.Set(tok.QualifiedName(), hash)
	if name, err := Authenticate(tok.Bearer(), f, "service_tokens"); err != nil || name != tok.QualifiedName() {
		t.Fatalf("Authenticate = %q, %v; want %q, nil", name, err, tok.QualifiedName())
	}
	other, _, err := New(acct, "kibana-1", DefaultAlgorithm, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if other.Secret == tok.Secret {
		t.Fatalf("two new tokens share the secret %q", tok.Secret)
	}
}

// The secret comes from the first 16 random bytes, the salt after: the
// order Elasticsearch's tool draws them in.
func TestNewDrawsTheSecretFirst(t *testing.T) {
	var first [16]byte
	copy(first[:], "0123456789abcdef")
	random := bytes.NewReader(append(first[:], bytes.Repeat([]byte{7}, 64)...))
	acct, _ := LookupAccount("elastic/fleet-server")
	tok, _, err := New(acct, "t", DefaultAlgorithm, random)
	if err != nil {
		t.Fatal(err)
	}
	if want := SecretFromBytes(first); tok.Secret != want {
		t.Fatalf("secret %q, want %q", tok.Secret, want)
	}
	if _, _, err := New(acct, "t", DefaultAlgorithm, bytes.NewReader(nil)); err == nil {
		t.Fatal("no random bytes: no error")
	}
}

func TestSplitQualifiedName(t *testing.T) {
	for _, c := range []struct{ key, principal, name string }{
		{"elastic/fleet-server/token1", "elastic/fleet-server", "token1"},
		{"elastic/kibana/", "elastic/kibana", ""},
		{"noslash", "", ""},
		{"/lead", "", ""},
	} {
		p, n, ok := SplitQualifiedName(c.key)
		if p != c.principal || n != c.name || ok != (c.principal != "") {
			t.Errorf("SplitQualifiedName(%q) = %q, %q, %v; want %q, %q", c.key, p, n, ok, c.principal, c.name)
		}
	}
}
