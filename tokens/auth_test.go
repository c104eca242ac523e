package tokens

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func TestBearerFrom(t *testing.T) {
	const v = "AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyL3Rva2VuMTpzdXBlcnNlY3JldA"
	for _, in := range []string{v, "Bearer " + v, "bearer " + v, "SERVICE_TOKEN elastic/fleet-server/token1 = " + v} {
		if got := BearerFrom(in); got != v {
			t.Errorf("BearerFrom(%q) = %q, want the bare token", in, got)
		}
	}
	// Nothing else is cut: a token is never guessed out of other text.
	for _, in := range []string{"SERVICE_TOKEN " + v, "Basic " + v, " Bearer " + v} {
		if got := BearerFrom(in); got != in {
			t.Errorf("BearerFrom(%q) = %q, want it unchanged", in, got)
		}
	}
}

// Each rule of ServiceAccountService.authenticateToken, with the token's
// name reported whenever the bearer decodes and the secret never shown.
func TestAuthenticate(t *testing.T) {
	alg, err := ParseAlgorithm("pbkdf2_stretch_1000")
	if err != nil {
		t.Fatal(err)
	}
	const secret = "r5wdbdboQSe9vGOKwaJGAw"
	h, err := alg.Hash(secret, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f := NewFile()
	f.Set("elastic/fleet-server/token1", h)
	f.Set("elastic/kibana/broken", "{PBKDF2_STRETCH}not-a-hash")

	tok := func(ns, svc, name, secret string) string { return Token{ns, svc, name, secret}.Bearer() }
	for _, c := range []struct {
		bearer, name, reason string
	}{
		{tok("elastic", "fleet-server", "token1", secret), "elastic/fleet-server/token1", ""},
		{tok("elastic", "fleet-server", "token1", secret[:21]+"x"), "elastic/fleet-server/token1", "the secret does not match the stored hash"},
		{tok("elastic", "fleet-server", "token2", secret), "elastic/fleet-server/token2", "no such token in the file"},
		{tok("other", "fleet-server", "token1", secret), "other/fleet-server/token1", "namespace [other] is not elastic"},
		{tok("elastic", "fleet", "token1", secret), "elastic/fleet/token1", "[elastic/fleet] is not a service account"},
		{tok("elastic", "fleet-server", "token1", "supersel"), "elastic/fleet-server/token1", "the secret is 8 characters long; Elasticsearch needs at least 10"},
		{tok("elastic", "kibana", "broken", secret), "elastic/kibana/broken", "the stored hash cannot be checked: "},
		{"not a token", "", "not a service account token: "},
	} {
		name, err := Authenticate(c.bearer, f, "the file")
		reason := ""
		if err != nil {
			reason = err.Error()
		}
		if name != c.name || !strings.HasPrefix(reason, c.reason) || (c.reason == "") != (err == nil) {
			t.Errorf("Authenticate(%s) = %q, %q; want %q, %q", c.name, name, reason, c.name, c.reason)
		}
		if strings.Contains(reason, secret) || strings.Contains(reason, h) {
			t.Errorf("Authenticate(%s) shows the secret or hash: %s", c.name, reason)
		}
	}
	if _, err := Authenticate(tok("elastic", "fleet-server", "token1", "wrong-secret"), f, "x"); !errors.Is(err, ErrSecretMismatch) {
		t.Errorf("wrong secret: %v, want ErrSecretMismatch", err)
	}
}
