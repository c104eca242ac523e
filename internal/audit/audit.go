// Package audit records who changed which token, when, from where, and on
// which nodes it landed: one record per changing run, as one syslog line
// and as one JSON object per line in an append-only file.
//
// Records name tokens and files; they never hold a token's secret or its
// hash. File SHA-256s are recorded: they identify a version of the file
// without revealing anything in it.
package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/syslog"
	"os"
	"strings"
	"syscall"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
)

// Tag is the syslog tag of every record.
const Tag = "es-service-tokens"

// Record is one run that changed something.
type Record struct {
	// Time is when the run ended, RFC 3339 in UTC.
	Time string `json:"time"`
	// User is the login that ran the command; SudoUser is $SUDO_USER, the
	// person behind it when it ran through sudo.
	User     string `json:"user"`
	SudoUser string `json:"sudo_user"`
	Host     string `json:"host"`
	Version  string `json:"version"`
	Command  string `json:"command"`
	// Args are the command's arguments: service account and token name,
	// or a node name. Never a secret: the commands that change something
	// take none on the command line.
	Args []string `json:"args"`
	// Token is the qualified token name create and delete act on.
	Token string `json:"token,omitempty"`
	// Limit is the limit expression that chose the nodes, when given.
	Limit string `json:"limit,omitempty"`
	Force bool   `json:"force,omitempty"`
	// File is the local service_tokens file (for pull, the new file).
	File         string `json:"file"`
	SHA256Before string `json:"sha256_before"`
	SHA256After  string `json:"sha256_after"`
	Nodes        []Node `json:"nodes"`
	// SecretProof is how the proof by secret ended: "accepted by 3 of 3
	// nodes". Never the secret.
	SecretProof string `json:"secret_proof,omitempty"`
	// Consumers are the consumers a secret was delivered to, and how each
	// delivery ended. Never the secret.
	Consumers []Consumer `json:"consumers,omitempty"`
	// RolledBack: the created token was removed again because its secret
	// reached no consumer for sure and no token file holds it;
	// SHA256After is then the local file after the removal.
	RolledBack bool `json:"rolled_back,omitempty"`
	// Rotations are what a rotate run did, token by token.
	Rotations []Rotation `json:"rotations,omitempty"`
	// Outcome is the one-line result: "3 updated, 1 failed".
	Outcome string `json:"outcome"`
	// ExitCode is the run's exit status.
	ExitCode int `json:"exit_code"`
}

// Consumer is how a delivery to one consumer ended.
type Consumer struct {
	Name   string `json:"name"`
	Method string `json:"method"`
	// Result is delivered, stored (not restarted), unhealthy or failed;
	// Store what its store holds: new secret, unchanged or unknown.
	Result string `json:"result"`
	Store  string `json:"store"`
	Reason string `json:"reason,omitempty"`
}

// Node is what one node ended up with.
type Node struct {
	Name   string `json:"name"`
	Result string `json:"result"`
	// SHA256 is of the node's file after the run, when it was read back.
	SHA256 string `json:"sha256,omitempty"`
	// Reason says why a node failed or conflicted, in the words the
	// command printed.
	Reason string `json:"reason,omitempty"`
}

// Rotation is one token's rotation in a run: the token, its successor,
// how the run left it, and each step with its time.
type Rotation struct {
	Token     string         `json:"token"`
	Successor string         `json:"successor,omitempty"`
	Outcome   string         `json:"outcome"`
	Steps     []RotationStep `json:"steps"`
}

// RotationStep is one step of a rotation.
type RotationStep struct {
	Step    string  `json:"step"`
	Seconds float64 `json:"seconds"`
	Result  string  `json:"result"` // "ok", or why it failed
}

// Line is the record as one syslog message:

// Line is the record as one syslog message, with the options it names
// (the limit) in the caller's words:
//
//	create elastic/kibana/kibana-1 by alice (sudo from bob) on admin-1: 3 updated, 1 failed
func (r Record) Line(name remedy.Namer) string {
	var b strings.Builder
	b.WriteString(r.Command)
	if r.Token != "" {
		b.WriteString(" " + r.Token)
	} else if len(r.Args) > 0 {
		b.WriteString(" " + strings.Join(r.Args, " "))
	}
	if r.Limit != "" {
		b.WriteString(remedy.Sprintf(" %v %s", remedy.Limit, r.Limit).Phrase(name))
	}
	fmt.Fprintf(&b, " by %s", r.User)
	if r.SudoUser != "" && r.SudoUser != r.User {
		fmt.Fprintf(&b, " (sudo from %s)", r.SudoUser)
	}
	fmt.Fprintf(&b, " on %s: %s", r.Host, r.Outcome)
	// One record, one line, whatever a name or reason holds.
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, b.String())
}

// Trail is where this run's record goes.
type Trail struct {
	file *os.File
	// path names the file in messages.
	path         string
	syslogSocket string
	// Words spells the options the syslog line names, as the caller's
	// users type them; nil: plain words.
	Words remedy.Namer
}

// Open prepares the trail before anything changes. path is the JSON-lines
// file ("" for none); it is opened for appending, and created with mode
// 0600, now, so that a path that cannot be written stops the run before
// it changes anything. syslogSocket is the syslog daemon's socket
// (normally DefaultSyslogSocket; "" for none); when it does not exist, no
// syslog record is written, as on a host without a syslog daemon.
func Open(path, syslogSocket string) (*Trail, error) {
	t := &Trail{path: path, syslogSocket: syslogSocket}
	if path == "" {
		return t, nil
	}
	f, err := openLog(path)
	if err != nil {
		return nil, err
	}
	t.file = f
	return t, nil
}

// RefusedError is an audit log path that holds something the log must
// not be written through. What says what is there, and the fix.
type RefusedError struct {
	Path string
	What string
}

func (e *RefusedError) Error() string {
	return "cannot open the audit log " + e.Path + ": " + e.What
}

// openLog opens the audit log for appending. O_APPEND: each record is
// one write(2) at the end of the file, so concurrent runs never
// interleave or overwrite each other's lines. The log may sit in a
// directory others can write, and the run is often root: O_NOFOLLOW
// makes the open itself refuse a link swapped in at its name (a look
// at the name beforehand would prove nothing), so root's appends never
// go into another file; O_NONBLOCK makes a FIFO nobody reads fail at
// once instead of hanging the run before it starts (it has no effect
// on a regular file). A device (/dev/null) stays usable.
func openLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o600)
	switch {
	case errors.Is(err, syscall.ELOOP):
		return nil, &RefusedError{Path: path, What: "it is a symbolic link, which this tool does not follow: name the file itself"}
	case errors.Is(err, syscall.ENXIO):
		return nil, &RefusedError{Path: path, What: "it is a FIFO or a socket that nothing reads: name a file"}
	case err != nil:
		return nil, fmt.Errorf("cannot open the audit log: %w", err)
	}
	return f, nil
}

// Write appends the record to the file and sends it to syslog. It tries
// both and reports every failure; the caller warns, since the change the
// record describes has already been made.
func (t *Trail) Write(r Record) error {
	var errs []error
	if t.file != nil {
		b, err := json.Marshal(r)
		if err == nil {
			_, err = t.file.Write(append(b, '\n'))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("audit log %s: %w", t.path, err))
		}
	}
	if err := t.sendSyslog(r.Line(t.Words)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// sendSyslog uses the standard library's log/syslog: it is frozen but does
// exactly this (a local datagram with facility, severity and tag), and
// a third-party client would be a dependency for a dozen lines.
func (t *Trail) sendSyslog(line string) error {
	if t.syslogSocket == "" {
		return nil
	}
	if _, err := os.Stat(t.syslogSocket); err != nil {
		return nil // no syslog daemon on this host
	}
	w, err := syslog.Dial("unixgram", t.syslogSocket, syslog.LOG_AUTHPRIV|syslog.LOG_NOTICE, Tag)
	if err != nil {
		return fmt.Errorf("syslog %s: %w", t.syslogSocket, err)
	}
	defer w.Close()
	if err := w.Notice(line); err != nil {
		return fmt.Errorf("syslog %s: %w", t.syslogSocket, err)
	}
	return nil
}

// Close closes the file.
func (t *Trail) Close() error {
	if t.file == nil {
		return nil
	}
	return t.file.Close()
}
