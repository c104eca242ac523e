// Package vault decrypts Ansible Vault data: whole files and inline
// "!vault" values, format 1.1 and 1.2 (with a vault ID), cipher AES256,
// as ansible-core's VaultLib and VaultAES256 do.
//
// It is hand-written because no Go module the proxy serves here does it
// (github.com/sosedoff/ansible-vault-go, the one known, is refused by the
// proxy), and the format is small: PBKDF2-HMAC-SHA256 (10,000 rounds) of
// the password and a 32-byte salt gives 80 bytes, an AES-256 key, an
// HMAC-SHA256 key and a CTR counter; the HMAC of the ciphertext is checked
// in constant time before anything is decrypted. Everything is Go's
// standard crypto (crypto/pbkdf2, crypto/aes, crypto/cipher, crypto/hmac),
// which golang.org/x/crypto's own pbkdf2 now defers to.
//
// The package holds no password longer than a call and never puts one,
// or a decrypted byte, into an error.
package vault

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// header starts every vault text: "$ANSIBLE_VAULT;1.1;AES256" or
// "$ANSIBLE_VAULT;1.2;AES256;label".
const header = "$ANSIBLE_VAULT"

// DefaultID is the vault ID of a password given without one, and of data
// encrypted without one (format 1.1), as Ansible names it.
const DefaultID = "default"

// Secret is one vault password and the vault ID it was given for.
type Secret struct {
	ID       string // DefaultID when none was given
	Password []byte
}

// IsEncrypted reports whether data is vault text (leading white space and
// a byte order mark aside, as Ansible's is_encrypted allows).
func IsEncrypted(data []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n\ufeff"), []byte(header+";"))
}

// Envelope is vault text's header and its decoded body.
type Envelope struct {
	Version               string // "1.1" or "1.2"
	Cipher                string // "AES256"
	ID                    string // the vault ID of format 1.2; "" for 1.1
	salt, mac, ciphertext []byte
}

// ErrFormat is vault text that is not well formed.
var ErrFormat = errors.New("not valid ansible-vault data")

// ErrWrongPassword: none of the passwords tried decrypts the data.
var ErrWrongPassword = errors.New("the vault password does not decrypt it")

// Open reads vault text: a header line, then the hex of
// "hex(salt)\nhex(hmac)\nhex(ciphertext)" over any number of lines.
func Open(data []byte) (Envelope, error) {
	text := strings.TrimLeft(string(data), " \t\r\n\ufeff")
	first, body, _ := strings.Cut(text, "\n")
	fields := strings.Split(strings.TrimSpace(first), ";")
	if len(fields) < 3 || fields[0] != header {
		return Envelope{}, fmt.Errorf("%w: no $ANSIBLE_VAULT header", ErrFormat)
	}
	e := Envelope{Version: fields[1], Cipher: strings.TrimSpace(fields[2])}
	switch {
	case e.Version == "1.1" && len(fields) == 3:
	case e.Version == "1.2" && len(fields) == 4 && fields[3] != "":
		e.ID = fields[3]
	default:
		return Envelope{}, fmt.Errorf("%w: format %q is not 1.1 or 1.2", ErrFormat, safetext.Input(e.Version))
	}
	if e.Cipher != "AES256" {
		return Envelope{}, fmt.Errorf("%w: cipher %q is not AES256, the only one Ansible writes", ErrFormat, safetext.Input(e.Cipher))
	}
	inner, err := hex.DecodeString(strings.Join(strings.Fields(body), ""))
	if err != nil {
		return Envelope{}, fmt.Errorf("%w: the body is not hex", ErrFormat)
	}
	parts := strings.Split(string(inner), "\n")
	if len(parts) != 3 {
		return Envelope{}, fmt.Errorf("%w: the body is not salt, HMAC and ciphertext", ErrFormat)
	}
	var decoded [3][]byte
	for i, p := range parts {
		if decoded[i], err = hex.DecodeString(p); err != nil {
			return Envelope{}, fmt.Errorf("%w: the body is not salt, HMAC and ciphertext", ErrFormat)
		}
	}
	e.salt, e.mac, e.ciphertext = decoded[0], decoded[1], decoded[2]
	if len(e.ciphertext) == 0 || len(e.ciphertext)%aes.BlockSize != 0 || len(e.mac) != sha256.Size {
		return Envelope{}, fmt.Errorf("%w: the ciphertext or the HMAC has the wrong length", ErrFormat)
	}
	return e, nil
}

// Decrypt opens data and decrypts it with the first secret that fits,
// trying those given for its vault ID first and then every other one, in
// order, as Ansible does (DEFAULT_VAULT_ID_MATCH off). It returns the ID
// of the secret that worked.
func Decrypt(data []byte, secrets []Secret) (plain []byte, id string, err error) {
	e, err := Open(data)
	if err != nil {
		return nil, "", err
	}
	for _, s := range ordered(secrets, e.ID) {
		if plain, ok := e.decrypt(s.Password); ok {
			return plain, s.ID, nil
		}
	}
	return nil, "", ErrWrongPassword
}

// ordered puts the secrets given for id first.
func ordered(secrets []Secret, id string) []Secret {
	out := make([]Secret, 0, len(secrets))
	for _, s := range secrets {
		if id != "" && s.ID == id {
			out = append(out, s)
		}
	}
	for _, s := range secrets {
		if id == "" || s.ID != id {
			out = append(out, s)
		}
	}
	return out
}

// decrypt is VaultAES256.decrypt: derive, check the HMAC, then decrypt.
func (e Envelope) decrypt(password []byte) ([]byte, bool) {
	keys, err := pbkdf2.Key(sha256.New, string(password), e.salt, 10000, 2*32+aes.BlockSize)
	if err != nil {
		return nil, false
	}
	aesKey, macKey, iv := keys[:32], keys[32:64], keys[64:]
	m := hmac.New(sha256.New, macKey)
	m.Write(e.ciphertext)
	if !hmac.Equal(m.Sum(nil), e.mac) { // constant time
		return nil, false
	}
	block, err := aes.NewCipher(aesKey)
	if err != nil {
		return nil, false
	}
	plain := make([]byte, len(e.ciphertext))
	cipher.NewCTR(block, iv).XORKeyStream(plain, e.ciphertext)
	return unpad(plain)
}

// unpad removes PKCS#7 padding; padding that is wrong after a good HMAC
// means data Ansible did not write.
func unpad(b []byte) ([]byte, bool) {
	n := int(b[len(b)-1])
	if n == 0 || n > aes.BlockSize || n > len(b) {
		return nil, false
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			return nil, false
		}
	}
	return b[:len(b)-n], true
}
