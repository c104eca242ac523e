package tokens

import (
	"errors"
	"fmt"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// BearerFrom takes the token out of the forms people paste: a line as
// create prints it ("SERVICE_TOKEN name = value"), an Authorization header
// value ("Bearer value"), or the bare value.
func BearerFrom(s string) string {
	if strings.HasPrefix(s, "SERVICE_TOKEN ") {
		if _, v, ok := strings.Cut(s, " = "); ok {
			return v
		}
	}
	if len(s) >= 7 && strings.EqualFold(s[:7], "Bearer ") {
		return s[7:]
	}
	return s
}

// ErrSecretMismatch is a known token presented with the wrong secret.
var ErrSecretMismatch = errors.New("the secret does not match the stored hash")

// Authenticate applies ServiceAccountService.authenticateToken's rules to
// a bearer token and a file store, in Elasticsearch's order: the token
// decodes, its namespace is elastic, its account exists, its secret is
// long enough, the file holds it, and the secret matches the stored hash.
//
// It returns the token's qualified name whenever the bearer decodes, and
// nil when Elasticsearch would accept the token; otherwise an error that
// says why in one line, naming the token but never its secret or hash.
// where names the file in that line.
func Authenticate(bearer string, f *File, where string) (qualifiedName string, err error) {
	tok, err := ParseBearer(bearer)
	if err != nil {
		return "", err
	}
	q := tok.QualifiedName()
	if tok.Namespace != "elastic" {
		return q, fmt.Errorf("namespace [%s] is not elastic", safetext.Input(tok.Namespace))
	}
	if _, ok := LookupAccount(tok.Principal()); !ok {
		return q, fmt.Errorf("[%s] is not a service account", safetext.Input(tok.Principal()))
	}
	if n := tok.SecretLength(); n < MinSecretLength {
		return q, fmt.Errorf("the secret is %d characters long; Elasticsearch needs at least %d", n, MinSecretLength)
	}
	stored, ok := f.Hash(q)
	if !ok {
		return q, fmt.Errorf("no such token in %s", where)
	}
	match, err := VerifyHash(tok.Secret, stored)
	if err != nil {
		return q, fmt.Errorf("the stored hash cannot be checked: %w", err)
	}
	if !match {
		return q, ErrSecretMismatch
	}
	return q, nil
}
