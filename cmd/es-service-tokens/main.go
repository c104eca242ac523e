// Command es-service-tokens manages Elasticsearch's file-based service
// account tokens like bin/elasticsearch-service-tokens, and copies the
// token file to every node of a cluster over SSH.
package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/cmdline"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/internal/fserr"
	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/change"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/esconfig"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// tool holds what one run of the program works with; nothing is global so
// that tests can run it many times in one process.
type tool struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	random         io.Reader
	// stderrTTY enables the live progress line, stderrWidth (the
	// terminal's columns, 0 when unknown) bounds it.
	stderrTTY   bool
	stderrWidth int
	// now is the clock of the progress line's pace; nil is time.Now.
	now func() time.Time
	// askPassphrase reads a key passphrase from the terminal; nil when the
	// process has none (cron, CI).
	askPassphrase func(prompt string) ([]byte, error)
	// inv is the inventory of this run, loaded once.
	inv *inventory.Inventory
	// jsonOut is --format json: errors and warnings go to stderr as one
	// JSON object each, so a script parses every line it gets.
	jsonOut bool
	// said prints warnings and notes on stderr, each warning once a run.
	said *output.Notes
	// audit is the record of a run that changes something; see audit.go.
	audit        *output.Audit
	syslogSocket string
}

// handleSIGPIPE makes a write to a closed pipe fail with EPIPE instead of
// killing the process: Go's runtime raises SIGPIPE for writes to fd 1 and 2
// unless the program handles it. create must outlive a reader that went
// away (`create ... | true`), to take back the token whose secret nobody
// received. Notify, unlike Ignore, is not inherited by child processes.
var handleSIGPIPE = sync.OnceFunc(func() {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
})

// trackedWriter remembers the first failed write, so that a run whose
// output was lost (a closed pipe, a full disk) does not exit 0.
type trackedWriter struct {
	w   io.Writer
	err error
}

func (t *trackedWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if err != nil && t.err == nil {
		t.err = err
	}
	return n, err
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	handleSIGPIPE()
	out := &trackedWriter{w: stdout}
	t := &tool{stdin: stdin, stdout: out, stderr: stderr, getenv: getenv, random: rand.Reader, syslogSocket: syslogSocket}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		t.stderrTTY = true
		t.stderrWidth, _, _ = term.GetSize(int(f.Fd()))
	}
	if tty, err := os.Open("/dev/tty"); err == nil {
		tty.Close()
		t.askPassphrase = terminalPassphrase
	}
	app := t.app()
	if n := len(args); n > 0 && args[n-1] == "--generate-bash-completion" {
		t.completer(app).Complete(t.stdout, args[1:n-1])
		return exitOK
	}
	t.jsonOut = formatJSON(args)
	args, err := cmdline.Normalize(app, args)
	if err == nil {
		err = app.Run(args)
	}
	if out.err != nil && (err == nil || errors.Is(err, out.err)) {
		err = fail(exitIOError, "cannot write to standard output: %v", fserr.WithoutPath(out.err))
	}
	code := t.exit(err)
	t.finishAudit(err, code)
	return code
}

// exitError carries an exit code and a message in Elasticsearch's words.
type exitError struct {
	code int
	msg  string
	// usage is printed before the error, as Elasticsearch does for 64.
	usage string
	// option marks a bad option: Elasticsearch prints joptsimple's message
	// as "ERROR: msg" alone, right after the help, with no exit code.
	option bool
}

func (e *exitError) Error() string { return e.msg }

// fail makes an error of this package; an error or remedy.Message among
// a is phrased, so that the options a library's message names read as
// flags.
func fail(code int, format string, a ...any) error {
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
	return &exitError{code: code, msg: fmt.Sprintf(format, args...)}
}

// Exit codes, from Elasticsearch's ExitCodes (sysexits.h).
const (
	exitOK         = 0
	exitFailed     = 1 // a verify, push or check result, not an error of the tool
	exitUsage      = 64
	exitDataError  = 65
	exitNoUser     = 67
	exitCodeError  = 70
	exitCantCreate = 73
	exitIOError    = 74
	exitConfig     = 78
)

// silentExit ends the run with a code and no message: the output already
// said what happened (a failed verify, nodes that failed a push).
type silentExit int

func (s silentExit) Error() string { return fmt.Sprintf("exit %d", int(s)) }

// exitCodeOf is the exit code docs/exit-codes.md documents for err. Errors made
// in this package carry their code (exitError); the packages' own error
// types map by kind, so those packages need not know about exit codes.
func exitCodeOf(err error) int {
	if ee, ok := errors.AsType[*exitError](err); ok {
		return ee.code
	}
	for _, k := range errorKinds {
		if k.is(err) {
			return k.code
		}
	}
	return exitFailed
}

// errorKinds maps the packages' error types to exit codes.
var errorKinds = []struct {
	is   func(error) bool
	code int
}{
	{isA[*cmdline.UsageError], exitUsage},
	{isA[*inventory.Error], exitConfig},
	{isA[*sshconn.KeyError], exitConfig},
	{func(err error) bool { return errors.Is(err, tokens.ErrCommentKey) }, exitDataError},
	{isA[*store.MalformedError], exitDataError},
	{isA[*store.MisreadError], exitDataError},
	{isA[*store.IOError], exitIOError},
	{isA[*change.RemoveError], exitIOError},
	{isA[*tokens.ParseError], exitDataError},
	{isA[*esconfig.ConfigError], exitConfig},
	{func(err error) bool { return errors.Is(err, esconfig.ErrNoLocation) }, exitConfig},
	{isA[*esconfig.UsageError], exitUsage},
}

func isA[E error](err error) bool {
	_, ok := errors.AsType[E](err)
	return ok
}

func (t *tool) exit(err error) int {
	if err == nil {
		return exitOK
	}
	if ue, ok := errors.AsType[*cmdline.UsageError](err); ok {
		err = &exitError{code: exitUsage, msg: ue.Error(), usage: ue.Usage(), option: ue.Option()}
	}
	var s silentExit
	if errors.As(err, &s) {
		return int(s)
	}
	code := exitCodeOf(err)
	var usage string
	var option bool
	if ee, ok := errors.AsType[*exitError](err); ok {
		usage, option = ee.usage, ee.option
	}
	output.Error(t.stderr, t.jsonOut, err, code, usage, option)
	return code
}

// formatJSON reports whether the command line asks for --format json,
// wherever the option is; it is known before the line is parsed, so that
// even a parse error comes as JSON.
func formatJSON(args []string) bool {
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return false
		case a == "--format=json" || a == "-format=json":
			return true
		case (a == "--format" || a == "-format") && i+1 < len(args):
			if args[i+1] == "json" {
				return true
			}
			i++
		}
	}
	return false
}

func terminalPassphrase(prompt string) ([]byte, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, errors.New("no terminal to ask for it")
	}
	defer tty.Close()
	fmt.Fprint(tty, prompt)
	pw, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	return pw, err
}
