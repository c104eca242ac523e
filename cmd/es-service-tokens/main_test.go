package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/urfave/cli/v2"
)

func TestMain(m *testing.M) {
	// Audit records reach syslog only through a script's own socket
	// (syslogd listen), never this machine's /dev/log.
	syslogSocket = os.Getenv("TEST_SYSLOG_SOCKET")
	testscript.Main(m, map[string]func(){
		"es-service-tokens": func() {
			killAfterRotateStep(os.Getenv("ROTATE_KILL_AFTER"))
			os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr, os.Getenv))
		},
		"closedstdout": func() { os.Exit(runWithClosedStdout(os.Args[1], os.Args[2:]...)) },
	})
}

// TestScripts runs every scenario in testdata/script: one file per
// behaviour, each readable as an example of the command line.
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			// Scripts choose the file explicitly; the developer's own
			// environment must not leak in.
			e.Setenv("ES_PATH_CONF", "")
			e.Setenv("ES_HOME", "")
			e.Setenv("SSH_AUTH_SOCK", "")
			// create --deliver and rotate keep new secrets in the state
			// directory: in the script's own, never under testscript's
			// HOME (/no-home, which root could create).
			e.Setenv("XDG_STATE_HOME", filepath.Join(e.WorkDir, ".state"))
			e.Setenv("EXAMPLES", examples)
			e.Values["state"] = &scriptState{t: e.T()}
			e.Values["syslog"] = &syslogState{}
			return nil
		},
		Cmds: scriptCmds(),
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "root":
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}

func scriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		// exits CODE CMD ARGS...: run CMD and require exit status CODE.
		"exits": func(ts *testscript.TestScript, neg bool, args []string) {
			if neg || len(args) < 2 {
				ts.Fatalf("usage: exits CODE COMMAND [ARGS...]")
			}
			want, err := strconv.Atoi(args[0])
			ts.Check(err)
			got := 0
			if err := ts.Exec(args[1], args[2:]...); err != nil {
				var ee *exec.ExitError
				if !errors.As(err, &ee) {
					ts.Fatalf("%s: %v", args[1], err)
				}
				got = ee.ExitCode()
			}
			if got != want {
				ts.Fatalf("%s exited %d, want %d", args[1], got, want)
			}
		},
		"cluster":     clusterCmd,
		"escluster":   esClusterCmd,
		"es":          esCmd,
		"syslogd":     syslogdCmd,
		"noleak":      noleakCmd,
		"consumers":   consumersCmd,
		"append":      appendCmd,
		"secret":      secretCmd,
		"nosecret":    nosecretCmd,
		"expand":      expandCmd,
		"node":        nodeCmd,
		"nodelog":     nodeLogCmd,
		"connections": connectionsCmd,
		"waitfile":    waitFileCmd,
		"gone":        goneCmd,
		"stall":       stallCmd,
		"unstall":     unstallCmd,
		"waitfor":     waitforCmd,
		// mksocket PATH: a Unix socket file at PATH, nobody listening.
		"mksocket": func(ts *testscript.TestScript, neg bool, args []string) {
			if neg || len(args) != 1 {
				ts.Fatalf("usage: mksocket PATH")
			}
			l, err := net.ListenUnix("unix", &net.UnixAddr{Name: ts.MkAbs(args[0]), Net: "unix"})
			ts.Check(err)
			l.SetUnlinkOnClose(false)
			l.Close()
		},
		// filemode PATH MODE: the file's permission bits are MODE (octal).
		"filemode": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 2 {
				ts.Fatalf("usage: filemode PATH MODE")
			}
			st, err := os.Stat(ts.MkAbs(args[0]))
			ts.Check(err)
			want, err := strconv.ParseUint(args[1], 8, 32)
			ts.Check(err)
			if got := uint64(st.Mode().Perm()); (got == want) == neg {
				ts.Fatalf("%s has mode %04o, want %s%04o", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
			}
		},
		// fileowner PATH USER:GROUP: the file's owner and group, by name.
		"fileowner": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 2 {
				ts.Fatalf("usage: fileowner PATH USER:GROUP")
			}
			st, err := os.Stat(ts.MkAbs(args[0]))
			ts.Check(err)
			sys := st.Sys().(*syscall.Stat_t)
			got := nameOfUID(sys.Uid) + ":" + nameOfGID(sys.Gid)
			if (got == args[1]) == neg {
				ts.Fatalf("%s is owned by %s, want %s", args[0], got, args[1])
			}
		},
	}
}

func nameOfUID(uid uint32) string {
	if u, err := user.LookupId(fmt.Sprint(uid)); err == nil {
		return u.Username
	}
	return fmt.Sprint(uid)
}

func nameOfGID(gid uint32) string {
	if g, err := user.LookupGroupId(fmt.Sprint(gid)); err == nil {
		return g.Name
	}
	return fmt.Sprint(gid)
}

// The progress line redraws in place on a terminal, with the pace so far
// and the time left while nodes remain (a rollout's batch counted from its
// own start, not across the gate before it), fits the terminal's width,
// and clears itself at the end, so the report that follows starts on a
// clean line.
func TestProgressLine(t *testing.T) {
	var buf strings.Builder
	clock := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	tick := func() time.Time { clock = clock.Add(2 * time.Second); return clock }
	tl := &tool{stderr: &buf, stderrTTY: true, now: tick}
	app := &cli.App{Flags: []cli.Flag{&cli.BoolFlag{Name: "silent"}}, Action: func(c *cli.Context) error {
		p := tl.progress(c)
		p(1, 4, "es-1", "updated") // 2s in: 0.5 nodes/s, 3 left
		p(2, 4, "es-2", "failed")  // 4s in
		tl.stderrWidth = 20
		p = tl.progress(c) // a terminal of 20 columns
		p(3, 4, "es-3", "updated")
		p(4, 4, "es-4", "unchanged")
		tl.stderrWidth = 0
		p = tl.progress(c) // a rollout: batches of 3 nodes, a gate between
		p(1, 3, "es-1", "updated")
		p(2, 3, "es-2", "updated")
		clock = clock.Add(time.Hour) // the gate: not the next batch's pace
		p(1, 3, "es-4", "updated")
		p(2, 3, "es-5", "updated")
		p(3, 3, "es-6", "updated")
		return nil
	}}
	if err := app.Run([]string{"x"}); err != nil {
		t.Fatal(err)
	}
	want := "\r\033[K[1/4] es-1 updated; 0.5 nodes/s, about 6s left" +
		"\r\033[K[2/4] es-2 failed; 0.5 nodes/s, about 4s left" +
		"\r\033[K[3/4] es-3 updated;" + // 19 columns of 20
		"\r\033[K[4/4] es-4 unchange\r\033[K" +
		"\r\033[K[1/3] es-1 updated; 0.5 nodes/s, about 4s left" +
		"\r\033[K[2/3] es-2 updated; 0.5 nodes/s, about 2s left" +
		"\r\033[K[1/3] es-4 updated" +
		"\r\033[K[2/3] es-5 updated; 0.5 nodes/s, about 2s left" +
		"\r\033[K[3/3] es-6 updated\r\033[K"
	if buf.String() != want {
		t.Errorf("progress = %q, want %q", buf.String(), want)
	}
	tl.stderrTTY = false
	app.Action = func(c *cli.Context) error {
		if tl.progress(c) != nil {
			t.Error("progress line on a non-terminal")
		}
		return nil
	}
	app.Run([]string{"x"})
}
