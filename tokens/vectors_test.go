package tokens

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// vectors.tsv was checked against Elasticsearch's own logic (see its
// header). Every row is used; a row the test cannot interpret fails it.
type vectors struct {
	hashes  [][]string // algorithm, secret, salt, hash
	tokens  [][]string // principal, name, secret, bearer
	secrets [][]string // random16_hex, secret
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	f, err := os.Open("testdata/vectors.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var v vectors
	var section *[][]string
	header := false
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		line := s.Text()
		switch line {
		case "# [hashes]":
			section, header = &v.hashes, true
			continue
		case "# [tokens]":
			section, header = &v.tokens, true
			continue
		case "# [secrets]":
			section, header = &v.secrets, true
			continue
		}
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if header {
			header = false
			continue
		}
		if section == nil {
			t.Fatalf("row before any section: %q", line)
		}
		*section = append(*section, strings.Split(line, "\t"))
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(v.hashes) < 30 || len(v.tokens) < 8 || len(v.secrets) < 6 {
		t.Fatalf("vectors incomplete: %d hashes, %d tokens, %d secrets", len(v.hashes), len(v.tokens), len(v.secrets))
	}
	return v
}

func TestVectorHashWithSalt(t *testing.T) {
	for _, row := range loadVectors(t).hashes {
		alg, secret, saltB64, want := row[0], row[1], row[2], row[3]
		if alg == "ssha256" || strings.HasPrefix(want, "$2b$") || strings.HasPrefix(want, "$2y$") {
			// Elasticsearch never writes these; they are verify-only rows.
			continue
		}
		a, err := ParseAlgorithm(alg)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		var salt []byte
		if strings.HasPrefix(alg, "bcrypt") {
			salt, err = bcryptEncoding.DecodeString(saltB64)
		} else {
			salt, err = base64.StdEncoding.DecodeString(saltB64)
		}
		if err != nil {
			t.Fatalf("%s salt %q: %v", alg, saltB64, err)
		}
		if got := a.HashWithSalt(secret, salt); got != want {
			t.Errorf("%s(%q):\n got %s\nwant %s", alg, secret, got, want)
		}
	}
}

func TestVectorVerify(t *testing.T) {
	for _, row := range loadVectors(t).hashes {
		secret, hash := row[1], row[3]
		ok, err := VerifyHash(secret, hash)
		if err != nil || !ok {
			t.Errorf("VerifyHash(%q, %s) = %v, %v; want true", secret, hash, ok, err)
		}
		wrongs := []string{secret + "x", secret[:len(secret)-1], strings.ToUpper(secret) + "!"}
		if strings.HasPrefix(hash, "$2b$14$") || strings.HasPrefix(hash, "$2a$12$") || strings.HasPrefix(hash, "$2b$12$") || strings.Contains(hash, "}50000$") {
			wrongs = wrongs[:1] // a second each: one wrong secret shows the point
		}
		for _, wrong := range wrongs {
			if ok, _ := VerifyHash(wrong, hash); ok {
				t.Errorf("VerifyHash(%q, %s) accepted a wrong secret", wrong, hash)
			}
		}
	}
}

func TestVectorBearer(t *testing.T) {
	for _, row := range loadVectors(t).tokens {
		principal, name, secret, bearer := row[0], row[1], row[2], row[3]
		ns, svc, _ := strings.Cut(principal, "/")
		tok := Token{Namespace: ns, Service: svc, Name: name, Secret: secret}
		if got := tok.Bearer(); got != bearer {
			t.Errorf("Bearer(%s/%s) = %s, want %s", principal, name, got, bearer)
		}
		back, err := ParseBearer(bearer)
		if err != nil || back != tok {
			t.Errorf("ParseBearer(%s) = %+v, %v; want %+v", bearer, back, err, tok)
		}
	}
}

func TestVectorSecrets(t *testing.T) {
	for _, row := range loadVectors(t).secrets {
		raw, err := hex.DecodeString(row[0])
		if err != nil || len(raw) != 16 {
			t.Fatalf("bad row %v", row)
		}
		var b [16]byte
		copy(b[:], raw)
		if got := SecretFromBytes(b); got != row[1] {
			t.Errorf("SecretFromBytes(%s) = %s, want %s", row[0], got, row[1])
		}
	}
}
