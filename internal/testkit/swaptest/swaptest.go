// Package swaptest is the attacker of a hostile machine: a local user who
// can write a directory that a privileged run works in swaps a name there,
// again and again, between an object of its own (a file with chosen
// content, or a directory) and a symbolic link to a victim, with
// renameat2(RENAME_EXCHANGE), which makes each swap atomic. Tests run it
// against real sshd nodes and consumer machines and assert, after every
// run of the tool, that the victim never changed. Or, as the reader
// (Spec.Snoop), a local user who may only read such a directory opens
// every new file there the moment it appears, to read what is written
// into it after; Snooped says what it got.
//
// The attacker is the test binary itself, started again as the attacking
// user: a test package that uses Start calls Main first in its TestMain.
package swaptest

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// env carries the Spec to the attacking process.
const env = "ES_SERVICE_TOKENS_SWAPTEST"

// Spec is one attack.
type Spec struct {
	// Live is the name the attacked run uses; Other is where the attacker
	// keeps the other object, in the same directory (a rename moves only
	// within one file system).
	Live, Other string
	// Victim is what the link points at.
	Victim string
	// Dir makes the attacker's own object a directory; otherwise it is a
	// regular file holding Content with mode Mode.
	Dir     bool
	Content []byte
	Mode    os.FileMode
	// Snoop, when set, makes this attacker the reader instead: it swaps
	// nothing, and opens every file created in the directory Snoop the
	// moment its name appears (snoop). Stop then returns what it read.
	Snoop string
}

// Main runs the attacker when this process was started as one, and does
// nothing otherwise. Call it first in TestMain.
func Main() {
	s := os.Getenv(env)
	if s == "" {
		return
	}
	var spec Spec
	if err := json.Unmarshal([]byte(s), &spec); err != nil {
		fmt.Println("bad spec:", err)
		os.Exit(2)
	}
	if spec.Snoop != "" {
		os.Exit(snoop(spec.Snoop))
	}
	os.Exit(attack(spec))
}

// attack swaps until SIGTERM. It prints "ready" once armed, and its
// counts when it stops.
func attack(s Spec) int {
	var stop atomic.Bool
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	go func() { <-sig; stop.Store(true) }()
	swaps, rearms, loot := 0, 0, 0
	for ready := false; !stop.Load(); {
		if !s.armed() {
			if err := s.rearm(&loot); err != nil {
				fmt.Println("rearm:", err)
				return 2
			}
			rearms++
		}
		if !ready {
			fmt.Println("ready")
			ready = true
		}
		if exchange(s.Live, s.Other) == nil {
			swaps++
		}
	}
	fmt.Printf("swaps %d rearms %d loot %d\n", swaps, rearms, loot)
	return 0
}

// armed reports whether one name is the attacker's own object and the
// other its link to the victim: an attacked run that renames over one of
// them, or removes one, disarms it.
func (s Spec) armed() bool {
	return (s.isLink(s.Live) && s.isOwn(s.Other)) || (s.isOwn(s.Live) && s.isLink(s.Other))
}

func (s Spec) isLink(p string) bool { t, err := os.Readlink(p); return err == nil && t == s.Victim }

func (s Spec) isOwn(p string) bool {
	fi, err := os.Lstat(p)
	if err != nil || int(fi.Sys().(*syscall.Stat_t).Uid) != os.Getuid() {
		return false
	}
	if s.Dir {
		return fi.IsDir()
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != s.Mode.Perm() {
		return false
	}
	// Its content too: a file the attacked run wrote may have the same
	// owner and mode, and is loot, not the attacker's bait.
	b, err := os.ReadFile(p)
	return err == nil && string(b) == string(s.Content)
}

// rearm keeps what the attacked run left at the names (a file it wrote:
// the loot, as a real attacker would keep it, in .swaptest-loot-N beside
// them, for the test to look into), then makes a new own object and a new
// link beside the names and renames them over the names.
func (s Spec) rearm(loot *int) error {
	dir := filepath.Dir(s.Live)
	for _, p := range []string{s.Live, s.Other} {
		if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && !s.isOwn(p) {
			*loot++
			os.Rename(p, filepath.Join(dir, fmt.Sprintf(".swaptest-loot-%d", *loot)))
		}
	}
	own, ln := filepath.Join(dir, ".swaptest-own"), filepath.Join(dir, ".swaptest-link")
	os.RemoveAll(own)
	os.Remove(ln)
	if s.Dir {
		os.RemoveAll(s.Live) // a rename cannot replace a non-empty directory
		os.RemoveAll(s.Other)
		if err := os.Mkdir(own, 0o755); err != nil {
			return err
		}
	} else {
		if err := os.WriteFile(own, s.Content, s.Mode); err != nil {
			return err
		}
		if err := os.Chmod(own, s.Mode); err != nil { // past the umask
			return err
		}
	}
	if err := os.Symlink(s.Victim, ln); err != nil {
		return err
	}
	if err := os.Rename(own, s.Live); err != nil {
		return err
	}
	return os.Rename(ln, s.Other)
}

// Attacker is who attacks, and where.
type Attacker struct {
	UID, GID int
	// Dir holds a copy of this test binary, which the attacker runs: a
	// directory that user can reach.
	Dir string
	// NamespacePID, when not 0, is a process whose mount namespace the
	// attacker enters (nsenter), where the names are the node's own (an
	// sshdtest node's /etc/elasticsearch).
	NamespacePID int
}

// Start runs the attacker until the test ends. It returns once the
// attacker is armed; stop ends it and returns its counts.
func Start(t testing.TB, spec Spec, a Attacker) (stop func() string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(a.Dir, "swaptest-attacker")
	if err := copyExecutable(self, bin); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	if a.NamespacePID != 0 {
		cmd = exec.Command("nsenter", "-t", strconv.Itoa(a.NamespacePID), "-m", "-S", strconv.Itoa(a.UID), "-G", strconv.Itoa(a.GID), "--", bin)
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(a.UID), Gid: uint32(a.GID)}}
	}
	cmd.Dir = "/"
	cmd.Env = []string{env + "=" + string(b)}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	if !lines.Scan() || lines.Text() != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the attacker did not start: %q", lines.Text())
	}
	stopped := false
	stop = func() string {
		if stopped {
			return ""
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		lines.Scan()
		counts := lines.Text()
		io.Copy(io.Discard, out)
		cmd.Wait()
		return counts
	}
	t.Cleanup(func() { stop() })
	return stop
}

func copyExecutable(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		return err
	}
	return os.Chmod(to, 0o755)
}

// Snoop is what a reader's stop returned: how many new names it tried to
// open, how many it opened, how many refused it for want of permission,
// and every byte it read through the ones it opened.
type Snoop struct {
	Tried, Opened, Denied int
	Read                  []byte
}

// Snooped parses what a reader's stop returned.
func Snooped(counts string) (Snoop, error) {
	var s Snoop
	rest, h, _ := strings.Cut(counts, " loot ")
	if _, err := fmt.Sscanf(rest+" ", "tried %d opened %d denied %d ", &s.Tried, &s.Opened, &s.Denied); err != nil {
		return s, fmt.Errorf("the reader's counts %q: %w", counts, err)
	}
	var err error
	s.Read, err = hex.DecodeString(strings.TrimSpace(h))
	return s, err
}
