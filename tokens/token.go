package tokens

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// Token is a service account token: its qualified name and its secret.
type Token struct {
	Namespace string
	Service   string
	Name      string
	Secret    string
}

// Principal is namespace/service, e.g. elastic/fleet-server.
func (t Token) Principal() string { return t.Namespace + "/" + t.Service }

// QualifiedName is namespace/service/name, the key in service_tokens.
func (t Token) QualifiedName() string { return t.Principal() + "/" + t.Name }

// SplitQualifiedName splits a key of the file, namespace/service/name,
// into its principal (namespace/service) and token name, at the last '/';
// ok is false when the key has none past its first character.
func SplitQualifiedName(key string) (principal, name string, ok bool) {
	i := strings.LastIndexByte(key, '/')
	if i <= 0 {
		return "", "", false
	}
	return key[:i], key[i+1:], true
}

var bearerPrefix = []byte{0, 1, 0, 1} // magic, token type, reserved, format version

// Bearer returns the string a client sends as "Authorization: Bearer ...".
func (t Token) Bearer() string {
	raw := append(append([]byte(nil), bearerPrefix...), t.QualifiedName()+":"+t.Secret...)
	return base64.RawStdEncoding.EncodeToString(raw)
}

// ErrNotServiceToken is returned for a bearer string that does not decode
// to a service account token at all.
var ErrNotServiceToken = errors.New("not a service account token")

// ParseBearer decodes a bearer string as ServiceAccountToken.fromBearerString
// does, including its leniency: padding is optional and anything after
// valid padding is ignored.
func ParseBearer(s string) (Token, error) {
	raw, err := javaStreamDecodeBase64([]byte(s))
	if err != nil {
		return Token{}, fmt.Errorf("%w: %v", ErrNotServiceToken, err)
	}
	if len(raw) < 4 || !bytes.Equal(raw[:4], bearerPrefix) {
		return Token{}, fmt.Errorf("%w: it does not start with the service token prefix (AAEAA)", ErrNotServiceToken)
	}
	// Java decodes with replacement, so malformed UTF-8 is not an error.
	content := javaDecodeUTF8(raw[4:])
	colon := strings.IndexByte(content, ':')
	if colon < 0 {
		return Token{}, fmt.Errorf("%w: no ':' between name and secret", ErrNotServiceToken)
	}
	parts := strings.Split(content[:colon], "/")
	if len(parts) != 3 {
		return Token{}, fmt.Errorf("%w: name %q is not namespace/service/token", ErrNotServiceToken, safetext.Input(content[:colon]))
	}
	t := Token{Namespace: parts[0], Service: parts[1], Name: parts[2], Secret: content[colon+1:]}
	if javaIsBlank(t.Namespace) || javaIsBlank(t.Service) {
		return Token{}, fmt.Errorf("%w: empty namespace or service in %q", ErrNotServiceToken, safetext.Input(content[:colon]))
	}
	if !ValidTokenName(t.Name) {
		return Token{}, fmt.Errorf("%w: %s", ErrNotServiceToken, InvalidTokenNameMessage(t.Name))
	}
	return t, nil
}

var tokenNameRE = regexp.MustCompile(`^[a-zA-Z0-9-][a-zA-Z0-9_-]{0,255}$`)

// ValidTokenName is Validation.isValidServiceAccountTokenName.
func ValidTokenName(name string) bool { return tokenNameRE.MatchString(name) }

// InvalidTokenNameMessage is Elasticsearch's error text for a bad name.
func InvalidTokenNameMessage(name string) string {
	return "invalid service token name [" + safetext.Bounded(name) + "]. service account token name must have at least 1 character " +
		"and at most 256 characters that are alphanumeric (A-Z, a-z, 0-9) or hyphen (-) or underscore (_). " +
		"It must not begin with an underscore (_)."
}

// MinSecretLength is the shortest secret Elasticsearch will authenticate,
// in UTF-16 code units (see SecretLength).
const MinSecretLength = 10

// SecretLength is the secret's length as Elasticsearch measures it
// (SecureString.length(), a char count): UTF-16 code units, so a
// character above U+FFFF, such as an emoji, counts twice.
func (t Token) SecretLength() int { return utf16Len(t.Secret) }

// NewSecret draws a secret as UUIDs.randomBase64UUIDSecureString does.
func NewSecret(random io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	return SecretFromBytes(b), nil
}

// New makes a token named name for acct, with a fresh secret drawn from
// random, and the hash of that secret as alg stores it in the file.
func New(acct Account, name string, alg Algorithm, random io.Reader) (Token, string, error) {
	ns, svc, _ := strings.Cut(acct.Principal, "/")
	secret, err := NewSecret(random)
	if err != nil {
		return Token{}, "", err
	}
	hash, err := alg.Hash(secret, random)
	if err != nil {
		return Token{}, "", err
	}
	return Token{Namespace: ns, Service: svc, Name: name, Secret: secret}, hash, nil
}

// SecretFromBytes derives the 22-character secret from 16 random bytes:
// the UUID version-4 and variant bits are set, then base64url without
// padding.
func SecretFromBytes(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return base64.RawURLEncoding.EncodeToString(b[:])
}
