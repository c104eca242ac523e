package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// runWithClosedStdout runs name with args, its stdout a pipe whose reading
// end is already closed: what `name args | true` does when true has gone
// first. It returns the exit status as a shell reports it (128+N for a
// signal, as 141 for SIGPIPE), so that scripts can assert on it.
// It is the script command "closedstdout" (registered in TestMain, so it
// runs with the script's environment and directory).
func runWithClosedStdout(name string, args ...string) int {
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	r.Close()
	cmd := exec.Command(name, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, w, os.Stderr
	err = cmd.Run()
	w.Close()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	fmt.Fprintln(os.Stderr, err)
	return 2
}

// A reader that goes away before create prints (`create ... | true`):
// the process is not killed by SIGPIPE, the token is taken out of the
// file again, and one line on stderr says so, exit 74. Text and JSON.
func TestCreateIntoClosedPipe(t *testing.T) {
	bin, err := exec.LookPath("es-service-tokens") // testscript.Main put it on PATH
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"text", "json"} {
		dir := t.TempDir()
		file := filepath.Join(dir, "service_tokens")
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		var stderr bytes.Buffer
		cmd := exec.Command(bin, "--file", file, "--format", format, "create", "elastic/fleet-server", "lost")
		cmd.Stdout, cmd.Stderr = w, &stderr
		err = cmd.Run()
		w.Close()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exit.IOError {
			t.Fatalf("%s: %v (%s), want exit %d", format, err, ee, exit.IOError)
		}
		msg := strings.TrimSpace(stderr.String())
		if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "cannot write the token to standard output (broken pipe): nobody received its secret, so [elastic/fleet-server/lost] was removed from "+file+" again") {
			t.Errorf("%s: stderr %q", format, stderr.String())
		}
		snap, err := store.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := snap.File.Hash("elastic/fleet-server/lost"); ok || snap.File.Len() != 0 {
			t.Errorf("%s: the file still holds %d tokens:\n%s", format, snap.File.Len(), snap.Data)
		}
	}
}
