package vault

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The files in testdata were made by ansible-core 2.14's ansible-vault
// with the password in pass.txt: encrypt (1.1), encrypt --vault-id
// prod@pass.txt (1.2), encrypt_string (an inline value), and files of 17
// and 0 bytes (padding edges). The differential test in inventory/ runs
// ansible-vault itself where it is installed.

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func password(t *testing.T) []byte {
	return bytes.TrimRight(read(t, "pass.txt"), "\n")
}

func TestDecryptWhatAnsibleWrote(t *testing.T) {
	plain := read(t, "plain.yml")
	for _, tc := range []struct {
		file, id string
		want     []byte
	}{
		{"v11.yml", DefaultID, plain},
		{"v12.yml", "prod", plain},
		{"v12.yml", DefaultID, plain}, // a password for another ID is still tried
		{"odd.vault", DefaultID, []byte("seventeen bytes!!")},
		{"empty.vault", DefaultID, []byte{}},
	} {
		got, id, err := Decrypt(read(t, tc.file), []Secret{{ID: tc.id, Password: password(t)}})
		if err != nil || !bytes.Equal(got, tc.want) || id != tc.id {
			t.Errorf("%s with ID %s: %q, %q, %v; want %q", tc.file, tc.id, got, id, err, tc.want)
		}
	}
}

func TestInlineValue(t *testing.T) {
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(read(t, "inline.yml"), &doc); err != nil {
		t.Fatal(err)
	}
	n := doc["inline"]
	if n.Tag != "!vault" {
		t.Fatalf("tag %q", n.Tag)
	}
	got, _, err := Decrypt([]byte(n.Value), []Secret{{ID: DefaultID, Password: password(t)}})
	if err != nil || string(got) != `inline value: with "quotes" and ünïcode` {
		t.Errorf("inline: %q, %v", got, err)
	}
}

func TestEnvelope(t *testing.T) {
	e, err := Open(read(t, "v12.yml"))
	if err != nil || e.Version != "1.2" || e.Cipher != "AES256" || e.ID != "prod" {
		t.Errorf("v12: %+v, %v", e, err)
	}
	if !IsEncrypted(read(t, "v11.yml")) || IsEncrypted(read(t, "plain.yml")) || !IsEncrypted([]byte("\ufeff\n $ANSIBLE_VAULT;1.1;AES256\n")) {
		t.Error("IsEncrypted")
	}
}

func TestWrongPasswordAndTampering(t *testing.T) {
	data := read(t, "v11.yml")
	if _, _, err := Decrypt(data, []Secret{{ID: DefaultID, Password: []byte("wrong")}}); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong password: %v", err)
	}
	if _, _, err := Decrypt(data, nil); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("no password: %v", err)
	}
	// A flipped byte of ciphertext fails the HMAC: nothing is decrypted.
	lines := strings.Split(string(data), "\n")
	last := []byte(lines[len(lines)-2])
	last[3] ^= 1 // still hex: '0'<->'1', '2'<->'3'...
	lines[len(lines)-2] = string(last)
	if _, _, err := Decrypt([]byte(strings.Join(lines, "\n")), []Secret{{ID: DefaultID, Password: password(t)}}); err == nil {
		t.Error("a tampered vault decrypted")
	}
	// The right password after a wrong one still works.
	if _, id, err := Decrypt(data, []Secret{{ID: "a", Password: []byte("wrong")}, {ID: "b", Password: password(t)}}); err != nil || id != "b" {
		t.Errorf("second secret: %q, %v", id, err)
	}
}

func TestMalformed(t *testing.T) {
	for _, bad := range []string{
		"$ANSIBLE_VAULT;1.0;AES\n00\n",
		"$ANSIBLE_VAULT;1.1;AES128\n00\n",
		"$ANSIBLE_VAULT;1.2;AES256\n00\n",
		"$ANSIBLE_VAULT;1.1;AES256\nnot hex\n",
		"$ANSIBLE_VAULT;1.1;AES256\n616263\n",
		"plain: yaml\n",
	} {
		if _, _, err := Decrypt([]byte(bad), []Secret{{Password: []byte("x")}}); !errors.Is(err, ErrFormat) {
			t.Errorf("%q: %v, want ErrFormat", bad, err)
		}
	}
}

// Secrets given for the data's vault ID are tried first, then the others
// in order, as Ansible does.
func TestOrder(t *testing.T) {
	s := []Secret{{ID: "a"}, {ID: "prod"}, {ID: "b"}, {ID: "prod", Password: []byte("2")}}
	var got []string
	for _, x := range ordered(s, "prod") {
		got = append(got, x.ID+string(x.Password))
	}
	if strings.Join(got, " ") != "prod prod2 a b" {
		t.Errorf("order %v", got)
	}
}
