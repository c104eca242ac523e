package tokens

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestParseBearerLikeJava(t *testing.T) {
	const good = "AAEAAWVsYXN0aWMvZmxlZXQtc2VydmVyL3Rva2VuMTpzdXBlcnNlY3JldA"
	want := Token{"elastic", "fleet-server", "token1", "supersecret"}
	for _, in := range []string{good, good + "==", good + "==trailing-garbage!"} {
		if got, err := ParseBearer(in); err != nil || got != want {
			t.Errorf("ParseBearer(%q) = %+v, %v", in, got, err)
		}
	}
	bad := []string{
		"", "AAEA", good + "=", "=" + good, good[:10] + " " + good[10:],
		strings.ReplaceAll(good, "Y", "-"), good + "xyz", // one dangling character
		"ZWxhc3RpYw", // no prefix
		Token{"elastic", "fleet-server", "_bad", "s"}.Bearer(),
		Token{"elastic", "a/b", "n", "s"}.Bearer(),
		Token{" ", "fleet-server", "n", "s"}.Bearer(),
	}
	for _, in := range bad {
		if _, err := ParseBearer(in); !errors.Is(err, ErrNotServiceToken) {
			t.Errorf("ParseBearer(%q) error = %v, want ErrNotServiceToken", in, err)
		}
	}
	// The secret may contain ':'.
	tok := Token{"elastic", "kibana", "n", "a:b:c"}
	if got, err := ParseBearer(tok.Bearer()); err != nil || got != tok {
		t.Errorf("secret with colons: %+v, %v", got, err)
	}
}

func TestNewSecretShape(t *testing.T) {
	for i := 0; i < 200; i++ {
		s, err := NewSecret(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != 22 || !strings.ContainsRune("QRST", rune(s[8])) ||
			!strings.ContainsRune("CGKOSWaeimquy26-", rune(s[10])) || !strings.ContainsRune("AQgw", rune(s[21])) {
			t.Fatalf("secret %q lacks the UUIDv4 bits", s)
		}
	}
	if _, err := NewSecret(bytes.NewReader(nil)); err == nil {
		t.Error("NewSecret succeeded without randomness")
	}
}

func TestTokenNames(t *testing.T) {
	for _, n := range []string{"a", "-lead", "A_b-9", strings.Repeat("x", 256)} {
		if !ValidTokenName(n) {
			t.Errorf("%q rejected", n)
		}
	}
	for _, n := range []string{"", "_lead", "a.b", "a b", strings.Repeat("x", 257), "é"} {
		if ValidTokenName(n) {
			t.Errorf("%q accepted", n)
		}
	}
}

func TestParseAlgorithm(t *testing.T) {
	for _, v := range []string{"PBKDF2_STRETCH", "bcrypt", "BCrypt14", "pbkdf2_1000000", "pbkdf2_stretch_10000", "bcrypt4"} {
		if _, err := ParseAlgorithm(v); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
	_, err := ParseAlgorithm("ssha256")
	want := "Invalid algorithm: ssha256. Valid values for password hashing are [bcrypt, bcrypt4, bcrypt5, bcrypt6, bcrypt7, bcrypt8, bcrypt9, bcrypt10, bcrypt11, bcrypt12, bcrypt13, bcrypt14, pbkdf2, pbkdf2_1000, pbkdf2_10000, pbkdf2_50000, pbkdf2_100000, pbkdf2_500000, pbkdf2_1000000, pbkdf2_stretch, pbkdf2_stretch_1000, pbkdf2_stretch_10000, pbkdf2_stretch_50000, pbkdf2_stretch_100000, pbkdf2_stretch_500000, pbkdf2_stretch_1000000]"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
	for _, v := range []string{"bcrypt3", "bcrypt15", "pbkdf2_2000", ""} {
		if _, err := ParseAlgorithm(v); err == nil {
			t.Errorf("%q accepted", v)
		}
	}
}

func TestEveryAlgorithmRoundTrips(t *testing.T) {
	for _, name := range AlgorithmNames() {
		a, _ := ParseAlgorithm(name)
		if a.cost >= 100000 || (a.family == familyBcrypt && a.cost >= 12) {
			continue // seconds each; TestAlgorithmCosts checks their costs, the cheaper ones the same code
		}
		h, err := a.Hash("s3cr3t-s3cr3t", rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse([]byte("k:" + h + "\n")); err != nil {
			t.Errorf("%s: Elasticsearch would reject %s: %v", name, h, err)
		}
		if ok, err := VerifyHash("s3cr3t-s3cr3t", h); !ok || err != nil {
			t.Errorf("%s: own hash does not verify: %v", name, err)
		}
	}
}

// Every allowed name maps to the cost it spells, with Elasticsearch's
// defaults for the bare names.
func TestAlgorithmCosts(t *testing.T) {
	for _, name := range AlgorithmNames() {
		a, _ := ParseAlgorithm(name)
		want := 10000
		if strings.HasPrefix(name, "bcrypt") {
			want = 10
		}
		if i := strings.LastIndexAny(name, "t_"); i >= 0 && i+1 < len(name) && name[i+1] >= '0' && name[i+1] <= '9' {
			want, _ = strconv.Atoi(name[i+1:])
		}
		if a.cost != want {
			t.Errorf("%s: cost %d, want %d", name, a.cost, want)
		}
	}
}

func TestAccounts(t *testing.T) {
	if got := UnknownPrincipalMessage("elastic/x"); got != "Unknown service account principal: [elastic/x]. Must be one of [elastic/fleet-server,elastic/fleet-server-remote,elastic/auto-ops,elastic/kibana,elastic/enterprise-search-server]" {
		t.Errorf("message = %s", got)
	}
	a, ok := LookupAccount("elastic/enterprise-search-server")
	if !ok || !strings.Contains(a.VersionNote(), "8.1 to 8.19") {
		t.Errorf("enterprise-search note = %q", a.VersionNote())
	}
	if a, _ := LookupAccount("elastic/fleet-server"); a.VersionNote() != "" {
		t.Errorf("fleet-server has a note: %q", a.VersionNote())
	}
	if _, ok := LookupAccount("elastic/Kibana"); ok {
		t.Error("principal lookup ignores case")
	}
}
