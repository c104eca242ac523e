package rotate

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
)

// A kept secret lives in a private file until forgotten, by file and
// token: two tokens files' rotations never see each other's.
func TestStateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s := StateDir{Dir: dir, File: "/etc/a/service_tokens"}
	if _, ok := s.Held("elastic/kibana/k"); ok {
		t.Fatal("held before kept")
	}
	if err := s.Keep("elastic/kibana/k", "AAEAAsecret"); err != nil {
		t.Fatal(err)
	}
	if b, ok := s.Held("elastic/kibana/k"); !ok || b != "AAEAAsecret" {
		t.Fatalf("Held = %q, %v", b, ok)
	}
	other := StateDir{Dir: dir, File: "/etc/b/service_tokens"}
	if _, ok := other.Held("elastic/kibana/k"); ok {
		t.Fatal("another file's rotation sees the secret")
	}
	fi, _ := os.Stat(dir)
	ents, _ := os.ReadDir(dir)
	if fi.Mode().Perm() != 0o700 || len(ents) != 1 {
		t.Fatalf("dir mode %v, %d entries", fi.Mode().Perm(), len(ents))
	}
	if info, _ := ents[0].Info(); info.Mode().Perm() != 0o600 || strings.Contains(ents[0].Name(), "kibana") {
		t.Fatalf("kept as %s, mode %v", ents[0].Name(), info.Mode().Perm())
	}
	if err := s.Forget("elastic/kibana/k"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Held("elastic/kibana/k"); ok {
		t.Fatal("held after forget")
	}
	if err := s.Forget("elastic/kibana/k"); err != nil {
		t.Fatalf("forgetting twice: %v", err)
	}
}

// A state directory others could read is refused before any secret is
// written there.
func TestStateDirMustBePrivate(t *testing.T) {
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	err := StateDir{Dir: dir, File: "f"}.Keep("elastic/kibana/k", "x")
	if err == nil || !strings.Contains(err.Error(), "chmod 700") {
		t.Fatalf("err = %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatal("a secret was written")
	}
}

// Two runs on one host take turns: the second sees the first's lock.
func TestStateDirLock(t *testing.T) {
	s := StateDir{Dir: filepath.Join(t.TempDir(), "state"), File: "f"}
	unlock, busy, err := s.Lock()
	if err != nil || busy {
		t.Fatalf("first lock: %v %v", busy, err)
	}
	if _, busy, err := s.Lock(); err != nil || !busy {
		t.Fatalf("second lock: busy %v, %v", busy, err)
	}
	unlock()
	u2, busy, err := s.Lock()
	if err != nil || busy {
		t.Fatalf("after unlock: %v %v", busy, err)
	}
	u2()
}

// Where a secret would be kept is refused unless it is this user's own
// private directory: not a link (even to a private directory), not
// another user's (as an attacker would make it in a shared /tmp first).
// The remedy a too-open directory's refusal names works as printed.
func TestStateDirRefusals(t *testing.T) {
	base := t.TempDir()
	own := filepath.Join(base, "own")
	if err := os.Mkdir(own, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	os.Symlink(own, link)
	if err := (StateDir{Dir: link, File: "f"}).Keep("elastic/kibana/k", "x"); err == nil || !strings.Contains(err.Error(), link+" is a symbolic link, not a directory: move it away") {
		t.Errorf("a link to a private directory: %v", err)
	}
	if os.Geteuid() == 0 {
		theirs := filepath.Join(base, "theirs")
		os.Mkdir(theirs, 0o700)
		os.Chown(theirs, 65534, 65534)
		if err := (StateDir{Dir: theirs, File: "f"}).Keep("elastic/kibana/k", "x"); err == nil || !strings.Contains(err.Error(), "belongs to uid 65534, not to this user") {
			t.Errorf("another user's directory: %v", err)
		}
	}
	open := filepath.Join(base, "open dir") // the printed command quotes it
	os.Mkdir(open, 0o755)
	os.Chmod(open, 0o755)
	err := StateDir{Dir: open, File: "f"}.Keep("elastic/kibana/k", "x")
	_, remedy, ok := strings.Cut(fmt.Sprint(err), "; ")
	if !ok || !strings.HasPrefix(remedy, "chmod 700 ") {
		t.Fatalf("a directory others may read: %v", err)
	}
	if out, err := exec.Command("sh", "-c", remedy).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v %s", remedy, err, out)
	}
	if err := (StateDir{Dir: open, File: "f"}).Keep("elastic/kibana/k", "x"); err != nil {
		t.Errorf("after %s: %v", remedy, err)
	}
	for _, d := range []string{own, link} {
		if ents, _ := os.ReadDir(d); len(ents) != 0 {
			t.Errorf("a secret was written in %s", d)
		}
	}
}

// Held reads only what Keep could have written: a link in the kept file's
// place (to another of the user's files), a file others may read, or a
// FIFO (which would hang the run) holds no secret.
func TestHeldRefusesWhatKeepDidNotWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s := StateDir{Dir: dir, File: "/etc/a/service_tokens"}
	if err := s.Keep("elastic/kibana/k", "AAEAAsecret"); err != nil {
		t.Fatal(err)
	}
	p := s.Path("elastic/kibana/k")
	other := filepath.Join(t.TempDir(), "other")
	if err := os.WriteFile(other, []byte("AAEAAother\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, plant := range map[string]func() error{
		"link":     func() error { return os.Symlink(other, p) },
		"readable": func() error { return os.WriteFile(p, []byte("AAEAAsecret\n"), 0o644) },
		"fifo":     func() error { return syscall.Mkfifo(p, 0o600) },
	} {
		os.Remove(p)
		if err := plant(); err != nil {
			t.Fatal(name, err)
		}
		if b, ok := s.Held("elastic/kibana/k"); ok {
			t.Errorf("%s: Held = %q, true", name, b)
		}
	}
}

// The secret a create --deliver kept is reported as unfinished only while
// its token is in the file and is not a rotation's successor in progress
// (the rotation owns it); a kept secret of a token that left the file is
// stale, and nothing is reported for a token with no kept secret.
func TestUnfinished(t *testing.T) {
	s := StateDir{Dir: filepath.Join(t.TempDir(), "state"), File: "/etc/a/service_tokens"}
	const hash = "$2a$10$aSKsqEU.rzoB9vmQbRSpluYXDETfO.M0ncvkFKxadgNPn3zwZDVSW"
	f, err := tokens.Parse([]byte("elastic/kibana/kept:" + hash + "\nelastic/kibana/successor:" + hash + "\nelastic/kibana/plain:" + hash + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	set := meta.NewSet()
	set.Put(meta.Record{Token: "elastic/kibana/successor", Phase: meta.Delivering})
	for _, tok := range []string{"elastic/kibana/kept", "elastic/kibana/successor", "elastic/kibana/gone"} {
		if err := s.Keep(tok, "AAEAA-"+tok); err != nil {
			t.Fatal(err)
		}
	}
	for tok, want := range map[string]bool{
		"elastic/kibana/kept":      true,
		"elastic/kibana/successor": false,
		"elastic/kibana/gone":      false,
		"elastic/kibana/plain":     false,
	} {
		path, ok := s.Unfinished(f, set, tok)
		if ok != want || (ok && path != s.Path(tok)) {
			t.Errorf("Unfinished(%s) = %q, %v; want %v", tok, path, ok, want)
		}
	}
}

// The state directory is judged on what was opened, without following a
// link, and the lock file is opened the same way: a link planted at the
// lock's path (to a file of the user's elsewhere) is not followed, so
// nothing is created or opened there.
func TestStateDirLockRefusesLink(t *testing.T) {
	s := StateDir{Dir: filepath.Join(t.TempDir(), "state"), File: "f"}
	unlock, _, err := s.Lock()
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	lock := strings.TrimSuffix(s.Path(""), ".bearer") + ".lock"
	victim := filepath.Join(t.TempDir(), "victim")
	os.Remove(lock)
	if err := os.Symlink(victim, lock); err != nil {
		t.Fatal(err)
	}
	if unlock, _, err := s.Lock(); err == nil {
		unlock()
		t.Error("a link at the lock's path was followed")
	}
	if _, err := os.Lstat(victim); err == nil {
		t.Error("the link's target was created")
	}
}
