package remotefile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/sync/failure"
)

// mkdir makes dir with exactly mode (octal as chmod takes it: 01777 is
// sticky), past the umask.
func mkdir(t *testing.T, dir string, mode uint32) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The directories on the way to the file decide whether anyone but root
// and the session's user can send the write elsewhere.
func TestTrustDir(t *testing.T) {
	c, target := open(t, "", "")
	base := filepath.Dir(target)
	if err := c.TrustDir(base); err != nil {
		t.Fatalf("a directory of the session's own: %v", err)
	}
	// The configuration directory itself may be writable by anyone: it is
	// where the careful writes happen.
	conf := mkdir(t, filepath.Join(base, "open-conf"), 0o777)
	if err := c.TrustDir(conf); err != nil {
		t.Errorf("a world-writable configuration directory in a trusted one: %v", err)
	}
	// But not a directory above it.
	mkdir(t, filepath.Join(base, "shared"), 0o777)
	nested := mkdir(t, filepath.Join(base, "shared", "conf"), 0o755)
	err := c.TrustDir(nested)
	if failure.Of(err) != failure.Refused || !strings.Contains(err.Error(), filepath.Join(base, "shared")+" is writable by others (mode 0777): whoever can write it can replace "+nested+" with a link") {
		t.Errorf("a world-writable parent: %v (%s)", err, failure.Of(err))
	}
	// Sticky, as /tmp: others cannot move an entry they do not own.
	mkdir(t, filepath.Join(base, "tmp"), 0o1777)
	sticky := mkdir(t, filepath.Join(base, "tmp", "conf"), 0o755)
	if err := c.TrustDir(sticky); err != nil {
		t.Errorf("an own directory in a sticky one: %v", err)
	}
	// A link placed in a trusted directory is followed, and its target
	// walked the same way; a link in an untrusted one is not trusted.
	if err := os.Symlink(conf, filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	if err := c.TrustDir(filepath.Join(base, "link")); err != nil {
		t.Errorf("a link in a trusted directory: %v", err)
	}
	if err := os.Symlink("../shared/conf", filepath.Join(base, "tmp", "rel")); err != nil {
		t.Fatal(err)
	}
	if err := c.TrustDir(filepath.Join(base, "tmp", "rel")); err == nil || !strings.Contains(err.Error(), filepath.Join(base, "shared")+" is writable by others") {
		t.Errorf("a relative link into an untrusted directory: %v", err)
	}
	missing := filepath.Join(base, "nope", "conf")
	if err := c.TrustDir(missing); failure.Of(err) != failure.RemoteIO || !strings.Contains(err.Error(), "the directory "+missing+" does not exist on the node") {
		t.Errorf("a missing directory: %v", err)
	}
	os.WriteFile(filepath.Join(base, "file"), nil, 0o644)
	if err := c.TrustDir(filepath.Join(base, "file", "conf")); err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("a file on the way: %v", err)
	}
}

// Read reports the file it opened, and refuses what is not a regular
// file before opening it.
func TestReadRefusesWhatIsNotAFile(t *testing.T) {
	c, target := open(t, "", "")
	os.WriteFile(target+".real", []byte("a:b\n"), 0o640)
	os.Symlink(target+".real", target)
	c.forget() // the look Open took ahead predates the link
	if _, err := c.Read(target); failure.Of(err) != failure.Refused || !strings.Contains(err.Error(), "is a symbolic link") {
		t.Errorf("a link: %v", err)
	}
	os.Remove(target)
	if err := syscall.Mkfifo(target, 0o600); err != nil {
		t.Fatal(err)
	}
	// Opening a FIFO would block the server: it is refused unopened.
	if _, err := c.Read(target); failure.Of(err) != failure.Refused || !strings.Contains(err.Error(), "is not a regular file") {
		t.Errorf("a FIFO: %v", err)
	}
	os.Remove(target)
	os.WriteFile(target, []byte("x\n"), 0o604)
	st, err := c.Read(target)
	if err != nil || !st.Exists || string(st.Data) != "x\n" || st.Mode != 0o604 || st.UID != os.Getuid() {
		t.Errorf("a file: %+v, %v", st, err)
	}
}

// A file the caller takes something from must sit in a directory only
// root and the session's user can write: a sticky one is not enough.
func TestTrustEntry(t *testing.T) {
	c, target := open(t, "", "")
	base := filepath.Dir(target)
	own := filepath.Join(base, "own", "app.env")
	mkdir(t, filepath.Dir(own), 0o755)
	if err := c.TrustEntry(own); err != nil {
		t.Errorf("a directory of the session's own: %v", err)
	}
	for _, tc := range []struct {
		dir  string
		mode uint32
		why  string
	}{
		{"group", 0o770, " is writable by group "},
		{"others", 0o757, " is writable by others (mode 0757)"},
		{"sticky", 0o1777, " is writable by others (mode 0777)"},
	} {
		p := filepath.Join(mkdir(t, filepath.Join(base, tc.dir), tc.mode), "app.env")
		err := c.TrustEntry(p)
		if failure.Of(err) != failure.Refused || !strings.Contains(err.Error(), filepath.Dir(p)+tc.why) ||
			!strings.Contains(err.Error(), "can swap "+p+" for a link to another file") {
			t.Errorf("%s: %v", tc.dir, err)
		}
	}
	if os.Geteuid() == 0 {
		other := filepath.Join(mkdir(t, filepath.Join(base, "nobody"), 0o755), "app.env")
		os.Chown(filepath.Dir(other), 65534, 65534)
		if err := c.TrustEntry(other); err == nil || !strings.Contains(err.Error(), " is owned by ") {
			t.Errorf("a directory of another user: %v", err)
		}
	}
}
