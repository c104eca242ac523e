package tokens

import (
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// HashingSetting is the Elasticsearch setting that chooses the algorithm
// for new service token hashes.
const HashingSetting = "xpack.security.authc.service_token_hashing.algorithm"

type family int

const (
	familyBcrypt family = iota
	familyPBKDF2
	familyPBKDF2Stretch
)

// Algorithm is one allowed value of HashingSetting.
type Algorithm struct {
	name   string
	family family
	cost   int
}

// algorithms lists the allowed values in the order of Elasticsearch's
// Hasher enum, which is the order its error message prints them in.
var algorithms = func() []Algorithm {
	var list []Algorithm
	list = append(list, Algorithm{"bcrypt", familyBcrypt, 10})
	for c := 4; c <= 14; c++ {
		list = append(list, Algorithm{"bcrypt" + strconv.Itoa(c), familyBcrypt, c})
	}
	list = append(list, Algorithm{"pbkdf2", familyPBKDF2, 10000})
	for _, c := range pbkdf2Costs {
		list = append(list, Algorithm{"pbkdf2_" + strconv.Itoa(c), familyPBKDF2, c})
	}
	list = append(list, Algorithm{"pbkdf2_stretch", familyPBKDF2Stretch, 10000})
	for _, c := range pbkdf2Costs {
		list = append(list, Algorithm{"pbkdf2_stretch_" + strconv.Itoa(c), familyPBKDF2Stretch, c})
	}
	return list
}()

var pbkdf2Costs = []int{1000, 10000, 50000, 100000, 500000, 1000000}

// DefaultAlgorithm is Elasticsearch's default for HashingSetting.
var DefaultAlgorithm = Algorithm{"pbkdf2_stretch", familyPBKDF2Stretch, 10000}

// AlgorithmNames returns the allowed values of HashingSetting.
func AlgorithmNames() []string {
	names := make([]string, len(algorithms))
	for i, a := range algorithms {
		names[i] = a.name
	}
	return names
}

// ParseAlgorithm resolves a value of HashingSetting, ignoring case as
// Elasticsearch does. The error text is Elasticsearch's.
func ParseAlgorithm(value string) (Algorithm, error) {
	lower := strings.ToLower(value)
	for _, a := range algorithms {
		if a.name == lower {
			return a, nil
		}
	}
	//lint:ignore ST1005 this is Elasticsearch's message, word for word.
	return Algorithm{}, fmt.Errorf("Invalid algorithm: %s. Valid values for password hashing are [%s]",
		safetext.Input(value), strings.Join(AlgorithmNames(), ", "))
}

func (a Algorithm) String() string { return a.name }

// Hash hashes secret with a fresh random salt read from random.
func (a Algorithm) Hash(secret string, random io.Reader) (string, error) {
	n := 32
	if a.family == familyBcrypt {
		n = bcryptSaltLen
	}
	salt := make([]byte, n)
	if _, err := io.ReadFull(random, salt); err != nil {
		return "", fmt.Errorf("read random salt: %w", err)
	}
	return a.HashWithSalt(secret, salt), nil
}

// HashWithSalt hashes secret with the given salt (32 bytes for PBKDF2, 16
// for bcrypt). The output is byte for byte what Elasticsearch writes.
func (a Algorithm) HashWithSalt(secret string, salt []byte) string {
	switch a.family {
	case familyBcrypt:
		return bcryptHash(secret, a.cost, salt)
	case familyPBKDF2Stretch:
		return pbkdf2String(stretch(secret), salt, a.cost, pbkdf2StretchPrefix)
	default:
		return pbkdf2String(secret, salt, a.cost, pbkdf2Prefix)
	}
}

const (
	pbkdf2Prefix        = "{PBKDF2}"
	pbkdf2StretchPrefix = "{PBKDF2_STRETCH}"
	sha1Prefix          = "{SHA}"
	md5Prefix           = "{MD5}"
	ssha256Prefix       = "{SSHA256}"
)

// stretch is the PBKDF2_STRETCH pre-hash: the lower-case hex text of
// SHA-512, whose 128 ASCII bytes become the PBKDF2 password.
func stretch(secret string) string {
	sum := sha512.Sum512([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func pbkdf2Key(password string, salt []byte, cost, keyLen int) []byte {
	key, err := pbkdf2.Key(sha512.New, password, salt, cost, keyLen)
	if err != nil {
		panic(err) // unreachable: only FIPS-mode limits make it fail
	}
	return key
}

func pbkdf2String(password string, salt []byte, cost int, prefix string) string {
	key := pbkdf2Key(password, salt, cost, 32)
	return prefix + strconv.Itoa(cost) + "$" + base64.StdEncoding.EncodeToString(salt) + "$" + base64.StdEncoding.EncodeToString(key)
}

// HashKind is how Elasticsearch verifies a stored hash, decided from its
// prefix when the file is read.
type HashKind string

const (
	KindBcrypt        HashKind = "bcrypt"
	KindPBKDF2        HashKind = "pbkdf2"
	KindPBKDF2Stretch HashKind = "pbkdf2_stretch"
	KindSHA1          HashKind = "sha1"
	KindMD5           HashKind = "md5"
	KindSSHA256       HashKind = "ssha256"
	// KindPlain means no known prefix: Elasticsearch skips the line.
	KindPlain HashKind = "plain"
)

// StoredHash is what Hasher.resolveFromHash makes of a stored hash string.
type StoredHash struct {
	Kind HashKind
	Cost int // iterations or bcrypt cost; 0 for the unsalted kinds
}

// ResolveStoredHash applies Hasher.resolveFromHash as every Elasticsearch
// version from 7.13 to 9.x does it. An error means that at least one of
// those versions refuses the whole file because of this hash.
func ResolveStoredHash(h string) (StoredHash, error) {
	switch {
	case isBcryptPrefix(h):
		// Arrays.copyOfRange(hash, 4, hash.length - 54)
		n := utf16Len(h)
		digits, ok := javaSubstring(h, 4, n-54)
		if !ok {
			return StoredHash{}, fmt.Errorf("bcrypt hash is %d characters long, expected 60", n)
		}
		cost, err := javaParseInt(digits)
		if err != nil {
			return StoredHash{}, fmt.Errorf("bcrypt cost %q is not a number", safetext.Input(digits))
		}
		if cost < 4 || cost > 14 {
			return StoredHash{}, fmt.Errorf("bcrypt cost %d is not allowed (Elasticsearch accepts 4 to 14)", cost)
		}
		return StoredHash{Kind: KindBcrypt, Cost: cost}, nil
	case strings.HasPrefix(h, pbkdf2StretchPrefix):
		cost, err := pbkdf2Iterations(h, pbkdf2StretchPrefix)
		return StoredHash{Kind: KindPBKDF2Stretch, Cost: cost}, err
	case strings.HasPrefix(h, pbkdf2Prefix):
		cost, err := pbkdf2Iterations(h, pbkdf2Prefix)
		return StoredHash{Kind: KindPBKDF2, Cost: cost}, err
	case strings.HasPrefix(h, sha1Prefix):
		return StoredHash{Kind: KindSHA1}, nil
	case strings.HasPrefix(h, md5Prefix):
		return StoredHash{Kind: KindMD5}, nil
	case strings.HasPrefix(h, ssha256Prefix):
		return StoredHash{Kind: KindSSHA256}, nil
	}
	return StoredHash{Kind: KindPlain}, nil
}

// hashFamily names the kind of a hash ResolveStoredHash refused, in this
// package's words (not the hash's): bcrypt or PBKDF2.
func hashFamily(h string) string {
	if isBcryptPrefix(h) {
		return "bcrypt"
	}
	return "PBKDF2"
}

func isBcryptPrefix(h string) bool {
	return len(h) >= 4 && h[0] == '$' && h[1] == '2' && h[3] == '$' &&
		(h[2] == 'a' || h[2] == 'b' || h[2] == 'y')
}

// pbkdf2Iterations reads the iteration count both ways Elasticsearch has
// done it: since 8.7, the digits before the first '$'; before that, the
// characters between the prefix and the last 90 (a 44-character salt and
// key). The two agree on every hash Elasticsearch writes.
func pbkdf2Iterations(h string, prefix string) (int, error) {
	rest := h[len(prefix):]
	dollar := strings.IndexByte(rest, '$')
	if dollar < 0 {
		return 0, fmt.Errorf("the number of iterations could not be determined from the PBKDF2 hash (no '$' after %s)", prefix)
	}
	cost, err := javaParseInt(rest[:dollar])
	if err != nil {
		return 0, fmt.Errorf("the number of iterations %q in the PBKDF2 hash is not a number", safetext.Input(rest[:dollar]))
	}
	if !validPBKDF2Cost(cost) {
		return 0, fmt.Errorf("PBKDF2 iteration count %d is not allowed (Elasticsearch accepts %s)", cost, joinInts(pbkdf2Costs))
	}
	oldDigits, ok := javaSubstring(h, len(prefix), utf16Len(h)-90)
	if !ok {
		return 0, fmt.Errorf("PBKDF2 hash is too short for Elasticsearch 7.13 to 8.6, which expect a 44-character salt and key")
	}
	oldCost, err := javaParseInt(oldDigits)
	if err != nil || oldCost != cost {
		return 0, fmt.Errorf("PBKDF2 salt or key is not 44 characters long: Elasticsearch 7.13 to 8.6 cannot read this hash")
	}
	return cost, nil
}

func validPBKDF2Cost(c int) bool {
	for _, v := range pbkdf2Costs {
		if v == c {
			return true
		}
	}
	return false
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// VerifyHash reports whether secret matches the stored hash, as
// Hasher.verifyHash does in current Elasticsearch versions. An error means
// Elasticsearch would fail the authentication with an exception rather
// than a mismatch (a malformed salt or key length, say).
func VerifyHash(secret, stored string) (bool, error) {
	sh, err := ResolveStoredHash(stored)
	if err != nil {
		return false, err
	}
	switch sh.Kind {
	case KindBcrypt:
		return bcryptVerify(secret, stored), nil
	case KindPBKDF2:
		return verifyPBKDF2(secret, stored, sh.Cost, pbkdf2Prefix)
	case KindPBKDF2Stretch:
		return verifyPBKDF2(stretch(secret), stored, sh.Cost, pbkdf2StretchPrefix)
	case KindSHA1:
		sum := sha1.Sum([]byte(secret))
		return constantTimeEqual(base64.StdEncoding.EncodeToString(sum[:]), stored[len(sha1Prefix):]), nil
	case KindMD5:
		sum := md5.Sum([]byte(secret))
		return constantTimeEqual(base64.StdEncoding.EncodeToString(sum[:]), stored[len(md5Prefix):]), nil
	case KindSSHA256:
		return verifySSHA256(secret, stored)
	}
	// Elasticsearch skips plain-text lines when it reads the file, so no
	// token can ever match one.
	return false, nil
}

func verifyPBKDF2(password, stored string, cost int, prefix string) (bool, error) {
	start := len(prefix) + len(strconv.Itoa(cost))
	if start > len(stored) {
		return false, nil
	}
	s1 := strings.IndexByte(stored[start:], '$')
	if s1 < 0 {
		return false, nil
	}
	s1 += start
	s2 := strings.IndexByte(stored[s1+1:], '$')
	if s2 < 0 {
		return false, nil
	}
	s2 += s1 + 1
	saltB64, keyB64 := stored[s1+1:s2], stored[s2+1:]
	keyBits := utf16Len(keyB64) * 3 / 64 * 128
	if keyBits <= 0 || keyBits%128 != 0 {
		return false, fmt.Errorf("PBKDF2 key length must be positive and multiple of [128 bits]")
	}
	salt, err := javaDecodeBase64(saltB64)
	if err != nil {
		return false, fmt.Errorf("PBKDF2 salt is not valid base64: %v", err)
	}
	if len(salt) < 8 {
		return false, fmt.Errorf("PBKDF2 salt must be at least [8 bytes] long")
	}
	key := pbkdf2Key(password, salt, cost, keyBits/8)
	return constantTimeEqual(base64.StdEncoding.EncodeToString(key), keyB64), nil
}

func verifySSHA256(secret, stored string) (bool, error) {
	rest := stored[len(ssha256Prefix):]
	if len(rest) < 12 {
		return false, fmt.Errorf("SSHA256 hash is too short")
	}
	salt, err := javaDecodeBase64(rest[:12])
	if err != nil {
		return false, fmt.Errorf("SSHA256 salt is not valid base64: %v", err)
	}
	h := sha256.New()
	h.Write([]byte(secret))
	h.Write(salt)
	return constantTimeEqual(base64.StdEncoding.EncodeToString(h.Sum(nil)), rest[12:]), nil
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
