// Package exit is how a run of es-service-tokens ends: the exit codes
// (Elasticsearch's, from sysexits.h; docs/exit-codes.md), the error that
// carries one with a message in Elasticsearch's words, and which code the
// libraries' own errors mean, so that the libraries need not know about
// exit codes.
package exit

import (
	"errors"
	"fmt"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/cmdline"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/change"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/esconfig"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// The exit codes, from Elasticsearch's ExitCodes (sysexits.h).
const (
	OK         = 0
	Failed     = 1 // a verify, push or check result, not an error of the tool
	Usage      = 64
	DataError  = 65
	NoUser     = 67
	CodeError  = 70
	CantCreate = 73
	IOError    = 74
	Config     = 78
)

// Error carries an exit code and a message in Elasticsearch's words.
type Error struct {
	Code int
	Msg  string
	// Usage is printed before the error, as Elasticsearch does for 64.
	Usage string
	// Option marks a bad option: Elasticsearch prints joptsimple's message
	// as "ERROR: msg" alone, right after the help, with no exit code.
	Option bool
}

func (e *Error) Error() string { return e.Msg }

// Fail makes an Error; an error or remedy.Message among a is phrased, so
// that the options a library's message names read as flags.
func Fail(code int, format string, a ...any) error {
	args := make([]any, len(a))
	for i, v := range a {
		switch m := v.(type) {
		case error:
			v = output.Phrase(m)
		case remedy.Message:
			v = output.Phrased(m)
		}
		args[i] = v
	}
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Silent ends the run with a code and no message: the output already
// said what happened (a failed verify, nodes that failed a push).
type Silent int

func (s Silent) Error() string { return fmt.Sprintf("exit %d", int(s)) }

// CodeOf is the exit code docs/exit-codes.md documents for err. An Error
// carries its code; the packages' own error types map by kind.
func CodeOf(err error) int {
	if ee, ok := errors.AsType[*Error](err); ok {
		return ee.Code
	}
	if s, ok := errors.AsType[Silent](err); ok {
		return int(s)
	}
	for _, k := range kinds {
		if k.is(err) {
			return k.code
		}
	}
	return Failed
}

// kinds maps the packages' error types to exit codes.
var kinds = []struct {
	is   func(error) bool
	code int
}{
	{isA[*cmdline.UsageError], Usage},
	{isA[*inventory.Error], Config},
	{isA[*sshconn.KeyError], Config},
	{func(err error) bool { return errors.Is(err, tokens.ErrCommentKey) }, DataError},
	{isA[*store.MalformedError], DataError},
	{isA[*store.MisreadError], DataError},
	{isA[*store.IOError], IOError},
	{isA[*change.RemoveError], IOError},
	{isA[*tokens.ParseError], DataError},
	{isA[*esconfig.ConfigError], Config},
	{func(err error) bool { return errors.Is(err, esconfig.ErrNoLocation) }, Config},
	{isA[*esconfig.UsageError], Usage},
}

func isA[E error](err error) bool {
	_, ok := errors.AsType[E](err)
	return ok
}
