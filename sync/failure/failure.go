// Package failure is the one taxonomy of node failures. Every failure that
// push, check or pull reports for a node is one of a few kinds, set where
// the error is made (not guessed from its text later), and described by
// Describe in the same words everywhere: text output, JSON and exit paths.
package failure

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"

	"github.com/pkg/sftp"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
)

// Kind is what went wrong, in one or two words. The words are part of the
// JSON output ("failure") and of every failure line ("KIND: message").
type Kind string

// The kinds.
const (
	Unreachable    Kind = "unreachable"     // no TCP connection or no SSH handshake
	HostKey        Kind = "host key"        // unknown or changed host key
	Auth           Kind = "auth"            // every key refused, or no usable key
	Permission     Kind = "permission"      // the login (or sudo) may not do it
	Timeout        Kind = "timeout"         // the node's time (remedy.Timeout) ran out
	ConnectionLost Kind = "connection lost" // the connection died mid-way
	Interrupted    Kind = "interrupted"     // Ctrl-C or SIGTERM
	Locked         Kind = "locked"          // another run holds the node's lock
	Conflict       Kind = "conflict"        // the node's file is not what this run expected
	RemoteIO       Kind = "remote I/O"      // read-only or full file system, a failed read-back
	Refused        Kind = "refused"         // not a regular file, not a service_tokens file
)

// Error is an error with its kind.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// FailureKind makes Error a Kinder.
func (e *Error) FailureKind() Kind { return e.Kind }

// New wraps err with kind. A nil err stays nil.
func New(kind Kind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: kind, Err: err}
}

// Kinder is implemented by errors that know their kind (this package's
// Error, sshconn's and remotefile's errors).
type Kinder interface{ FailureKind() Kind }

// Of is the kind of err: the outermost kind set on it, else a lost
// connection recognised by its sentinel errors, else RemoteIO.
func Of(err error) Kind {
	var k Kinder
	if errors.As(err, &k) {
		if kind := k.FailureKind(); kind != "" {
			return kind
		}
	}
	if Lost(err) {
		return ConnectionLost
	}
	if errors.Is(err, os.ErrPermission) {
		return Permission
	}
	return RemoteIO
}

// Lost reports an error of a request whose connection died. These are
// sentinels of the SFTP and SSH libraries, not message text.
func Lost(err error) bool {
	return errors.Is(err, sftp.ErrSSHFxConnectionLost) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// Classify is the kind of err seen under ctx: a run interrupted or a node
// out of time is that, whatever the request that noticed it says (the
// closed connection is how the deadline interrupts it).
func Classify(ctx context.Context, err error) Kind {
	// Waiting for another run's lock is why the time ran out: say so.
	if k := Of(err); k == Locked && !errors.Is(ctx.Err(), context.Canceled) {
		return Locked
	}
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return Interrupted
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return Timeout
	case errors.Is(err, context.Canceled):
		return Interrupted
	}
	return Of(err)
}

// Describe is the one-line account of a failure, starting with its kind:
// "KIND: message". A message that already starts with its kind's word is
// not prefixed again ("auth 10.0.0.1:22: ...", "locked by ...", not
// "auth: auth 10.0.0.1:22: ..."). It is a remedy.Message: the errors it
// quotes may name the caller's options, which the caller phrases.
func Describe(ctx context.Context, err error) (Kind, remedy.Message) {
	kind := Classify(ctx, err)
	msg := remedy.Sprintf("%v", err)
	// A deadline with a cause (fleet gives each node one) says which
	// deadline ran out, instead of a bare "context deadline exceeded".
	if cause := context.Cause(ctx); kind == Timeout && cause != nil && cause != ctx.Err() {
		if err.Error() == ctx.Err().Error() {
			msg = remedy.Sprintf("%v", cause)
		} else {
			msg = remedy.Sprintf("%v: %v", cause, err)
		}
	}
	return kind, Format(kind, msg)
}

// Format is "KIND: msg" on one line, without a repeated kind word.
func Format(kind Kind, msg remedy.Message) remedy.Message {
	plain := strings.Join(strings.Fields(msg.String()), " ")
	if rest, ok := strings.CutPrefix(plain, string(kind)); ok && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, ":")) {
		return msg.OneLine()
	}
	return remedy.Sprintf("%s: %v", kind, msg.OneLine())
}
