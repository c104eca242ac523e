// Package libtext is the one place where this tool recognises a failure of
// code it does not own by its words: the text of a message that its source
// builds with fmt.Errorf or writes on stderr, or a string field of an error
// type that several failures share. Failures with a type or a sentinel of
// their own (x509's errors, context's, fs.ErrNotExist) are tested where they
// are used, as Go intends.
//
// Keeping the words in one function means that a library upgrade that
// rewords a message breaks one test (libtext_test.go produces every kind
// from the real library or program), not a user's diagnosis at 3 a.m.
package libtext

import (
	"crypto/tls"
	"errors"
	"net/http"
	"regexp"
	"strconv"

	"golang.org/x/crypto/ssh"
)

// Kind is a failure that another library or program reports in words only.
type Kind int

const (
	// Unknown: none of the kinds below.
	Unknown Kind = iota
	// SSHNoAcceptedKey: golang.org/x/crypto/ssh's client tried every
	// authentication method it was given and the server accepted none:
	// "ssh: unable to authenticate, attempted methods [none publickey],
	// no supported methods remain".
	SSHNoAcceptedKey
	// SSHNoCommonHostKeyAlgorithm: the server offers no host key of the
	// types the client asked for (an ssh.AlgorithmNegotiationError whose
	// What is "host key"); for this tool, which asks for the types known
	// for the host, a changed key in disguise.
	SSHNoCommonHostKeyAlgorithm
	// TLSFingerprintMismatch: elastic-transport-go's CertificateFingerprint
	// check found no certificate of the server's chain with that SHA-256:
	// "fingerprint mismatch, provided: <hex>".
	TLSFingerprintMismatch
	// HTTPResponseToHTTPS: an https:// address answered in plain HTTP.
	// net/http's Client says http.ErrSchemeMismatch; a bare RoundTripper
	// (elastic-transport-go uses one) leaves the tls.RecordHeaderError
	// holding the "HTTP/" the server sent, which is what the Client tests.
	HTTPResponseToHTTPS
	// SudoCommandNotFound: sudo(8) found no such command (as root, so the
	// path is wrong for everyone): "sudo: /usr/lib/x: command not found".
	SudoCommandNotFound
	// FlagParseError: Go's flag package (under urfave/cli) could not parse
	// an option's value: `invalid value "soon" for flag -timeout: parse error`.
	// Match.Flag and Match.Value say which option and what was given.
	FlagParseError
)

// Match is what Of recognised.
type Match struct {
	Kind Kind
	// Flag and Value are the option's name (without dashes) and the value
	// given, for FlagParseError; empty otherwise.
	Flag, Value string
}

// texts holds each kind's words, as its source writes them. The first
// pattern that matches wins.
var texts = []struct {
	kind Kind
	re   *regexp.Regexp
}{
	{SSHNoAcceptedKey, regexp.MustCompile(`ssh: unable to authenticate, attempted methods \[`)},
	{TLSFingerprintMismatch, regexp.MustCompile(`fingerprint mismatch, provided: `)},
	{SudoCommandNotFound, regexp.MustCompile(`(?m)^sudo: .*: command not found$`)},
	{FlagParseError, regexp.MustCompile(`^invalid value ("(?:[^"\\]|\\.)*") for flag -([^ :]+): parse error$`)},
}

// Of recognises err: the one function in this module that reads another
// library's or program's words to decide what happened.
func Of(err error) Match {
	if err == nil {
		return Match{}
	}
	var alg *ssh.AlgorithmNegotiationError
	if errors.As(err, &alg) && alg.What == "host key" {
		return Match{Kind: SSHNoCommonHostKeyAlgorithm}
	}
	var rec tls.RecordHeaderError
	if errors.Is(err, http.ErrSchemeMismatch) || errors.As(err, &rec) && string(rec.RecordHeader[:]) == "HTTP/" {
		return Match{Kind: HTTPResponseToHTTPS}
	}
	msg := err.Error()
	for _, t := range texts {
		m := t.re.FindStringSubmatch(msg)
		if m == nil {
			continue
		}
		if t.kind != FlagParseError {
			return Match{Kind: t.kind}
		}
		value, uerr := strconv.Unquote(m[1])
		if uerr != nil {
			return Match{}
		}
		return Match{Kind: t.kind, Flag: m[2], Value: value}
	}
	return Match{}
}
