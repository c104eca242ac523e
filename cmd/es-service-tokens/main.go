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
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/output"
	"github.com/es-service-tokens/es-service-tokens/internal/fserr"
	"github.com/es-service-tokens/es-service-tokens/inventory"
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
		return exit.OK
	}
	t.jsonOut = cmdline.FormatJSON(args)
	args, err := cmdline.Normalize(app, args)
	if err == nil {
		err = app.Run(args)
	}
	if out.err != nil && (err == nil || errors.Is(err, out.err)) {
		err = exit.Fail(exit.IOError, "cannot write to standard output: %v", fserr.WithoutPath(out.err))
	}
	code := t.end(err)
	t.finishAudit(err, code)
	return code
}

// end prints the error that ends the run, if any, and is its exit code.
func (t *tool) end(err error) int {
	if err == nil {
		return exit.OK
	}
	if ue, ok := errors.AsType[*cmdline.UsageError](err); ok {
		err = &exit.Error{Code: exit.Usage, Msg: ue.Error(), Usage: ue.Usage(), Option: ue.Option()}
	}
	var s exit.Silent
	if errors.As(err, &s) {
		return int(s)
	}
	code := exit.CodeOf(err)
	var usage string
	var option bool
	if ee, ok := errors.AsType[*exit.Error](err); ok {
		usage, option = ee.Usage, ee.Option
	}
	output.Error(t.stderr, t.jsonOut, err, code, usage, option)
	return code
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
