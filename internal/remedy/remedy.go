// Package remedy lets a library say what went wrong and which of its
// caller's options changes the outcome, without knowing how the caller
// spells that option. A library writes its message with a Kind where the
// option belongs ("use %v to replace it", remedy.Force); the caller, which
// owns the command line, phrases it with its own words (the flag). Read
// as it is (Error, String), a message names the option in plain words.
//
// This keeps CLI flag names out of the libraries (a test in cmd enforces
// it) while every message keeps its remedy in the place it reads best,
// as filippo.io/age's errorWithHint keeps hints in its command.
package remedy

import (
	"errors"
	"fmt"
	"strings"
)

// Kind is an option of the caller's that a message names: the way out of
// a failure (Force, BreakLock), or the option whose value was refused
// (Canary, Limit).
type Kind int

// The kinds. Add one when a library needs to name a new option; the
// caller's table of words must then name it too (cmd's test checks).
const (
	Force             Kind = iota + 1 // overwrite what the library refused to touch
	BreakLock                         // take over a lock another run holds
	Timeout                           // the time one node may take
	ConnectTimeout                    // the time one connection attempt may take
	Limit                             // the choice of nodes
	Canary                            // the nodes written and confirmed first
	Batch                             // the nodes written together after the canary
	DryRun                            // show what would change, write nothing
	ConfirmTimeout                    // how long to wait for Elasticsearch's confirmation
	ESURL                             // the cluster's address
	ESCA                              // the cluster's CA
	ESInsecureHTTP                    // allow plain http to the cluster
	File                              // the local service_tokens file
	PathConf                          // the Elasticsearch config directory
	ESHome                            // the Elasticsearch home directory
	VaultPasswordFile                 // a file or script giving the Ansible Vault password
	VaultID                           // an Ansible vault ID and its password's source
	kinds
)

// words are the kinds in plain words, for messages read without a caller
// to phrase them (a library's own tests, a Go program's logs).
var words = [kinds]string{
	Force: "force", BreakLock: "break lock", Timeout: "timeout", ConnectTimeout: "connect timeout",
	Limit: "limit", Canary: "canary", Batch: "batch", DryRun: "dry run",
	ConfirmTimeout: "confirm timeout", ESURL: "elasticsearch URL", ESCA: "elasticsearch CA",
	ESInsecureHTTP: "insecure http", File: "file", PathConf: "path conf", ESHome: "es home",
	VaultPasswordFile: "vault password file", VaultID: "vault ID",
}

// String is the kind in plain words.
func (k Kind) String() string {
	if k > 0 && k < kinds {
		return words[k]
	}
	return fmt.Sprintf("remedy.Kind(%d)", int(k))
}

// Kinds lists every kind, for a caller's test that it phrases them all.
func Kinds() []Kind {
	out := make([]Kind, 0, kinds-1)
	for k := Force; k < kinds; k++ {
		out = append(out, k)
	}
	return out
}

// Namer is a caller's words for the kinds (a command line's flags); ""
// keeps the plain words.
type Namer func(Kind) string

// Message is text that may name options: a format and its arguments, in
// which a Kind stands for the option, and an error or Message argument is
// phrased in turn. The zero Message is empty.
type Message struct {
	format string
	args   []any
}

// Sprintf makes a Message, as fmt.Sprintf would a string; %w may wrap an
// error (Errorf's Unwrap finds it).
func Sprintf(format string, a ...any) Message { return Message{format, a} }

// Text is a Message of plain text.
func Text(s string) Message {
	if s == "" {
		return Message{}
	}
	return Message{"%s", []any{s}}
}

// Append is m followed by more text, as a string's += would be.
func (m Message) Append(format string, a ...any) Message {
	if m.IsZero() {
		return Sprintf(format, a...)
	}
	return Sprintf("%v"+format, append([]any{m}, a...)...)
}

// OneLine is m with its white space, once phrased, collapsed to single
// spaces: a message quoting a node's or a library's words stays one line.
func (m Message) OneLine() Message {
	if m.IsZero() {
		return m
	}
	return Message{"%v", []any{oneLine{m}}}
}

// oneLine is a Message collapsed to one line when phrased.
type oneLine struct{ m Message }

// IsZero reports whether m is the empty Message.
func (m Message) IsZero() bool { return m.format == "" }

// String is the message in plain words.
func (m Message) String() string { return m.Phrase(nil) }

// Phrase is the message in the caller's words.
func (m Message) Phrase(name Namer) string {
	if m.IsZero() {
		return ""
	}
	args := make([]any, len(m.args))
	for i, a := range m.args {
		switch a := a.(type) {
		case Kind:
			args[i] = a.in(name)
		case Message:
			args[i] = a.Phrase(name)
		case oneLine:
			args[i] = strings.Join(strings.Fields(a.m.Phrase(name)), " ")
		case error:
			args[i] = Phrase(a, name)
		default:
			args[i] = a
		}
	}
	return fmt.Sprintf(strings.ReplaceAll(m.format, "%w", "%v"), args...)
}

func (k Kind) in(name Namer) string {
	if name != nil {
		if w := name(k); w != "" {
			return w
		}
	}
	return k.String()
}

// Error is a failure whose message names an option: Kind is the one that
// matters most (the remedy, or the option whose value was refused), so a
// Go caller can act on it without reading text.
type Error struct {
	Kind Kind
	Msg  Message
}

// Errorf makes an *Error; kind is the option the message is about, and is
// usually among the arguments too, where the message names it.
func Errorf(kind Kind, format string, a ...any) error {
	return &Error{Kind: kind, Msg: Sprintf(format, a...)}
}

// Error is the message in plain words.
func (e *Error) Error() string { return e.Msg.String() }

// Phrase is the message in the caller's words.
func (e *Error) Phrase(name Namer) string { return e.Msg.Phrase(name) }

// Phraser is an error that names options: *Error, or a library's own
// error type that keeps a Message. Phrase finds every one in a chain.
type Phraser interface {
	error
	Phrase(Namer) string
}

// Unwrap returns the errors the message wraps with %w.
func (e *Error) Unwrap() []error {
	if !strings.Contains(e.Msg.format, "%w") {
		return nil
	}
	var out []error
	for _, a := range e.Msg.args {
		if err, ok := a.(error); ok {
			out = append(out, err)
		}
	}
	return out
}

// KindOf is the kind of the first *Error in err's chain, 0 for none.
func KindOf(err error) Kind {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Kind
	}
	return 0
}

// Phrase is err's text with every *Error in its chain in the caller's
// words, however it was wrapped: each one's plain text, which the
// wrappers copied, is replaced by its phrased text.
func Phrase(err error, name Namer) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	if name == nil {
		return msg
	}
	for _, e := range found(err) {
		msg = strings.Replace(msg, e.Error(), e.Phrase(name), 1)
	}
	return msg
}

// found lists the Phrasers in err's tree, outermost first.
func found(err error) []Phraser {
	var out []Phraser
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if e, ok := err.(Phraser); ok {
			out = append(out, e)
			return // its Phrase phrases what it wraps
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}
