// Command es-service-tokens manages Elasticsearch's file-based service
// account tokens like bin/elasticsearch-service-tokens, and copies the
// token file to every node of a cluster over SSH.
package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

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
	// stderrTTY enables the live progress line.
	stderrTTY bool
	// askPassphrase reads a key passphrase from the terminal; nil when the
	// process has none (cron, CI).
	askPassphrase func(prompt string) ([]byte, error)
	// inv is the inventory of this run, loaded once.
	inv *inventory.Inventory
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	t := &tool{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, random: rand.Reader}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		t.stderrTTY = true
	}
	if tty, err := os.Open("/dev/tty"); err == nil {
		tty.Close()
		t.askPassphrase = terminalPassphrase
	}
	app := t.app()
	args, err := normalizeArgs(app, args)
	if err == nil {
		err = app.Run(args)
	}
	return t.exit(err)
}

// exitError carries an exit code and a message in Elasticsearch's words.
type exitError struct {
	code int
	msg  string
	// usage is printed before the error, as Elasticsearch does for 64.
	usage string
}

func (e *exitError) Error() string { return e.msg }

func fail(code int, format string, a ...any) error {
	return &exitError{code: code, msg: fmt.Sprintf(format, a...)}
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

func (t *tool) exit(err error) int {
	if err == nil {
		return exitOK
	}
	var s silentExit
	if errors.As(err, &s) {
		return int(s)
	}
	code := exitCodeOf(err)
	var ee *exitError
	if errors.As(err, &ee) && ee.usage != "" {
		fmt.Fprintln(t.stderr, ee.usage)
	}
	// Elasticsearch 8.4 and later print an empty line, then this.
	fmt.Fprintf(t.stderr, "\nERROR: %s, with exit code %d\n", err.Error(), code)
	return code
}

// writeJSON prints one JSON document on one line.
func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
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

// normalizeArgs lets options appear anywhere, as they may for
// Elasticsearch's CLI: global options move before the command, the
// command's options before its arguments, and everything after "--" stays
// an argument (so a token name may start with '-').
func normalizeArgs(app *cli.App, args []string) ([]string, error) {
	if len(args) > 0 && args[len(args)-1] == "--generate-bash-completion" {
		return args, nil
	}
	globals := flagArity(app.Flags)
	var global, local, positional []string
	var cmd *cli.Command
	cmdName := ""
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if len(a) > 1 && a[0] == '-' {
			name := strings.TrimLeft(a, "-")
			name, _, hasValue := strings.Cut(name, "=")
			dst, table := &global, globals
			if cmd != nil {
				if _, isLocal := flagArity(cmd.Flags)[name]; isLocal {
					dst, table = &local, flagArity(cmd.Flags)
				} else if _, isGlobal := globals[name]; !isGlobal {
					dst = &local // unknown: let the command report it
				}
			}
			*dst = append(*dst, a)
			if table[name] && !hasValue && i+1 < len(args) {
				i++
				*dst = append(*dst, args[i])
			}
			continue
		}
		if cmd == nil {
			cmdName = a
			if cmd = app.Command(a); cmd == nil {
				return nil, &exitError{code: exitUsage, msg: fmt.Sprintf("Unknown command [%s]", a), usage: commandList(app)}
			}
			continue
		}
		positional = append(positional, a)
	}
	out := append([]string{args[0]}, global...)
	if cmd == nil {
		if hasHelp(global) {
			return out, nil
		}
		if hasFlag(global, "version") {
			return append(out, "version"), nil
		}
		return nil, &exitError{code: exitUsage, msg: "Missing required command", usage: commandList(app)}
	}
	out = append(out, cmdName)
	out = append(out, local...)
	out = append(out, "--")
	return append(out, positional...), nil
}

func hasHelp(flags []string) bool {
	for _, f := range flags {
		if f == "-h" || f == "--help" || f == "-help" {
			return true
		}
	}
	return false
}

func hasFlag(flags []string, name string) bool {
	for _, f := range flags {
		if f == "--"+name || f == "-"+name {
			return true
		}
	}
	return false
}

// flagArity maps each flag name to whether it takes a value.
func flagArity(flags []cli.Flag) map[string]bool {
	m := map[string]bool{"h": false, "help": false}
	for _, f := range flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			m[n] = !isBool
		}
	}
	return m
}

func commandList(app *cli.App) string {
	var b strings.Builder
	b.WriteString(app.Usage + "\n\nCommands\n--------\n")
	for _, c := range app.Commands {
		if !c.Hidden {
			fmt.Fprintf(&b, "%-10s %s\n", c.Name, c.Usage)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
