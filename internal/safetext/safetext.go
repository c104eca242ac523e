// Package safetext makes untrusted text safe to echo in one line of output:
// a token name from the command line, a node name or a path must not be able
// to start a new log line, move the cursor or hide characters.
package safetext

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Printable reports whether s is shown on a terminal as the characters it
// holds: no control characters, no invisible format characters (BOM,
// zero-width, bidi overrides), no line or paragraph separators, no invalid
// UTF-8. Ordinary spaces are allowed.
func Printable(s string) bool {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return false
			}
		}
		if !unicode.IsPrint(r) && r != ' ' && !unicode.Is(unicode.Zs, r) {
			return false
		}
	}
	return true
}

// Escape returns s with every character that Printable refuses written as
// a Go escape (\n, \t, \x1b, \u200b, \ufeff), and everything else as is, so
// that ordinary names print unchanged. Backslashes are not doubled: they
// cannot start a line, and paths rarely hold them.
func Escape(s string) string {
	if Printable(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		case !unicode.IsPrint(r) && r != ' ' && !unicode.Is(unicode.Zs, r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// BoundedChars is how many characters of user input a message echoes.
const BoundedChars = 64

// Bounded is text from a file or the command line fit to echo in one line
// of a message: its first 64 characters, escaped as Escape does, and when
// there are more, its length in characters (as given, before escaping;
// an invalid byte counts as one). Every echo of user input goes through
// it (or through Input, which formats the same way): a 10,000-character
// name must not fill a screen or a log line.
func Bounded(s string) string {
	head, n := cut(s)
	if len(head) == len(s) {
		return Escape(s)
	}
	return fmt.Sprintf("%s... (%d characters)", Escape(head), n)
}

// Input is text a user gave (on the command line, in an inventory or a
// file) as a message echoes it: with %s or %v it is Bounded; with %q its
// first 64 characters are quoted as %q quotes them, and its length
// follows when it was cut. Wrapping the argument keeps the message's
// format string as it reads:
//
//	fmt.Errorf("%q is not a port (1-65535)", safetext.Input(s))
type Input string

// Format implements fmt.Formatter.
func (in Input) Format(f fmt.State, verb rune) {
	if verb != 'q' {
		io.WriteString(f, Bounded(string(in)))
		return
	}
	head, n := cut(string(in))
	io.WriteString(f, strconv.Quote(head))
	if len(head) < len(in) {
		fmt.Fprintf(f, "... (%d characters)", n)
	}
}

// cut is s's first BoundedChars characters and its length in characters
// (an invalid byte is one).
func cut(s string) (string, int) {
	n, end := 0, len(s)
	for i := range s {
		if n == BoundedChars {
			end = i
		}
		n++
	}
	return s[:end], n
}

// URL returns s, a URL as the user wrote it, fit to echo in an error: a
// password in it is replaced by "xxxxx" (net/url's Redacted), and when s
// does not parse, everything between "://" and the last "@" before the
// host goes, since that is where credentials would be.
func URL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return Escape(u.Redacted())
	}
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		host := rest
		if j := strings.IndexAny(rest, "/?#"); j >= 0 {
			host = rest[:j]
		}
		if at := strings.LastIndexByte(host, '@'); at >= 0 {
			s = s[:i+3] + "xxxxx@" + rest[at+1:]
		}
	}
	return Escape(s)
}

// ShellWord quotes s for a POSIX shell when it needs it, so that a
// command printed as a remedy can be pasted as it is, whatever a path in
// it holds (a space, a quote).
func ShellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./,:@=+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
