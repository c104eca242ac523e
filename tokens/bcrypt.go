package tokens

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"

	//lint:ignore SA1019 bcrypt is built on Blowfish; Elasticsearch's hashes need it.
	"golang.org/x/crypto/blowfish"
)

// bcrypt is implemented here on top of x/crypto/blowfish rather than taken
// from x/crypto/bcrypt because the tool must hash with a given salt (to
// check itself against Elasticsearch's vectors) and verify exactly as
// jBCrypt does, and x/crypto/bcrypt exposes neither.

var bcryptEncoding = base64.NewEncoding("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789").WithPadding(base64.NoPadding)

var bcryptMagic = []byte("OrpheanBeholderScryDoubt")

const (
	bcryptSaltLen    = 16
	bcryptEncSaltLen = 22
)

// bcryptHash returns the jBCrypt string for secret with the given cost and
// 16-byte salt, with minor version 'a' as Elasticsearch's gensalt writes.
func bcryptHash(secret string, cost int, salt []byte) string {
	return bcryptWithMinor(secret, 'a', cost, salt)
}

func bcryptWithMinor(secret string, minor byte, cost int, salt []byte) string {
	// jBCrypt appends a NUL to the key for minor versions >= 'a'.
	key := append([]byte(secret), 0)
	c, err := blowfish.NewSaltedCipher(key, salt)
	if err != nil {
		panic(err) // unreachable: the key is never empty
	}
	rounds := uint64(1) << uint(cost)
	for i := uint64(0); i < rounds; i++ {
		blowfish.ExpandKey(key, c)
		blowfish.ExpandKey(salt, c)
	}
	data := append([]byte(nil), bcryptMagic...)
	for i := 0; i < len(data); i += 8 {
		for j := 0; j < 64; j++ {
			c.Encrypt(data[i:i+8], data[i:i+8])
		}
	}
	return fmt.Sprintf("$2%c$%02d$%s%s", minor, cost,
		bcryptEncoding.EncodeToString(salt), bcryptEncoding.EncodeToString(data[:23]))
}

// bcryptVerify is jBCrypt's checkpw: recompute with the salt and cost found
// in the stored string and compare the whole strings.
func bcryptVerify(secret, stored string) bool {
	if len(stored) < 7 || stored[0] != '$' || stored[1] != '2' || stored[3] != '$' {
		return false
	}
	minor := stored[2]
	if minor != 'a' && minor != 'b' && minor != 'y' {
		return false
	}
	if stored[6] > '$' { // jBCrypt: "Missing salt rounds"
		return false
	}
	cost, err := javaParseInt(stored[4:6])
	if err != nil || cost < 4 || cost > 30 {
		return false
	}
	if len(stored) < 7+bcryptEncSaltLen {
		return false
	}
	salt, err := bcryptEncoding.DecodeString(stored[7 : 7+bcryptEncSaltLen])
	if err != nil || len(salt) != bcryptSaltLen {
		return false
	}
	if cost > 20 {
		// Refuse work factors far beyond what Elasticsearch allows (4-14):
		// a crafted line must not turn verify into a denial of service.
		return false
	}
	got := bcryptWithMinor(secret, minor, cost, salt)
	return subtle.ConstantTimeCompare([]byte(got), []byte(stored)) == 1
}
