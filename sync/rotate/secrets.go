package rotate

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
)

// Keeper keeps a new token's bearer (a rotation's successor, or the token
// of a create that delivers) from its creation until it reaches whoever
// uses it (its consumers, or the user), so that a run killed in between
// continues with the secret it made rather than losing it.
type Keeper interface {
	// Keep stores bearer as token's; it is called before the token exists.
	Keep(token, bearer string) error
	// Held returns token's bearer, if kept.
	Held(token string) (string, bool)
	// Forget drops token's bearer; it is not an error if none is kept.
	Forget(token string) error
}

// StateDir keeps bearers in files of mode 0600 in a directory of mode
// 0700 of the user who runs the rotation: outside the tokens file's
// directory, which is often a git checkout shared by several admins, and
// readable by the Elasticsearch group on a node. A bearer lives there
// only while its token is being rotated in, and is removed as soon as it
// has been delivered or handed over. Another host, or another user, does
// not hold it: the rotation then makes a new successor (see Run).
// A create that delivers keeps its token's bearer here too, by the same
// name.
type StateDir struct {
	Dir string
	// File is the tokens file the rotations are of: bearers are kept by
	// file and token, so that two files' rotations never meet.
	File string
}

// Path is the file that keeps token's bearer, for messages: the remedy
// of an interrupted delivery reads it.
func (s StateDir) Path(token string) string {
	abs, err := filepath.Abs(s.File)
	if err != nil {
		abs = s.File
	}
	sum := sha256.Sum256([]byte(abs + "\x00" + token))
	return filepath.Join(s.Dir, "pending-"+hex.EncodeToString(sum[:16])+".bearer")
}

// Keep writes bearer to a new file of mode 0600, in the directory made
// (0700) if missing. A directory others may read is refused. The file is
// made through the directory's handle, so that the directory checked is
// the one written to.
func (s StateDir) Keep(token, bearer string) error {
	d, err := s.open()
	if err != nil {
		return err
	}
	defer d.Close()
	name := filepath.Base(s.Path(token))
	unix.Unlinkat(int(d.Fd()), name, 0) // a stale one from a run that died before its token existed
	if err := writeNewAt(d, name, []byte(bearer+"\n")); err != nil {
		return fmt.Errorf("keep the new token's secret in %s: %w", s.Dir, err)
	}
	return nil
}

// writeNewAt creates name in dir with data, mode 0600: written under a
// temporary name, flushed, then hard-linked into place, so that it
// appears whole or not at all and never replaces a file; nothing on the
// way follows a link.
func writeNewAt(dir *os.File, name string, data []byte) error {
	dfd := int(dir.Fd())
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	tmp := "." + name + ".tmp-" + hex.EncodeToString(rnd[:])
	fd, err := unix.Openat(dfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return &fs.PathError{Op: "create", Path: tmp, Err: err}
	}
	defer unix.Unlinkat(dfd, tmp, 0)
	f := os.NewFile(uintptr(fd), tmp)
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := unix.Linkat(dfd, tmp, dfd, name, 0); err != nil {
		if errors.Is(err, unix.EEXIST) {
			return &fs.PathError{Op: "create", Path: name, Err: fs.ErrExist}
		}
		return &fs.PathError{Op: "link", Path: name, Err: err}
	}
	return dir.Sync()
}

// Held reads token's bearer back: from a regular file of this user that
// nobody else may read, opened without following a link, as checked on
// what was opened; anything else holds no bearer of this run's.
func (s StateDir) Held(token string) (string, bool) {
	// O_NONBLOCK: a FIFO put in the file's place does not hang the run.
	f, err := os.OpenFile(s.Path(token), os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o077 != 0 {
		return "", false
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return "", false
	}
	b, err := io.ReadAll(io.LimitReader(f, maxBearer))
	if err != nil {
		return "", false
	}
	bearer := strings.TrimSpace(string(b))
	return bearer, bearer != ""
}

// maxBearer bounds what Held reads: a bearer is under 200 bytes.
const maxBearer = 4096

// Forget removes token's bearer, through the directory's handle. A
// missing directory keeps nothing.
func (s StateDir) Forget(token string) error {
	if _, err := os.Lstat(s.Dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	d, err := s.open()
	if err != nil {
		return fmt.Errorf("remove the kept secret of %s: %w", token, err)
	}
	defer d.Close()
	if err := unix.Unlinkat(int(d.Fd()), filepath.Base(s.Path(token)), 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove the kept secret of %s: %w", token, err)
	}
	return nil
}

// open makes the directory if needed, opens it without following a link,
// and checks on what it opened (not on the path, which could be swapped
// meanwhile) that it is a directory of this user that nobody else may
// enter. The caller works through the handle and closes it.
func (s StateDir) open() (*os.File, error) {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the state directory %s: %w", s.Dir, err)
	}
	fd, err := unix.Open(s.Dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) && isLink(s.Dir):
		// Linux says ENOTDIR for a link opened O_DIRECTORY|O_NOFOLLOW:
		// the message says what is there; the open decided.
		return nil, fmt.Errorf("state directory %s is a symbolic link, not a directory: move it away", s.Dir)
	case errors.Is(err, unix.ENOTDIR):
		return nil, fmt.Errorf("state directory %s is not a directory: move it away", s.Dir)
	case err != nil:
		return nil, fmt.Errorf("state directory %s: %w", s.Dir, err)
	}
	d := os.NewFile(uintptr(fd), s.Dir)
	fi, err := d.Stat()
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("state directory %s: %w", s.Dir, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case ok && int(st.Uid) != os.Geteuid():
		err = fmt.Errorf("state directory %s belongs to uid %d, not to this user: give each user their own", s.Dir, st.Uid)
	case fi.Mode().Perm()&0o077 != 0:
		err = fmt.Errorf("state directory %s has mode %04o: others could read the secrets kept there; chmod 700 %s", s.Dir, fi.Mode().Perm(), safetext.ShellWord(s.Dir))
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Lock takes this user's lock on the rotations of the file, so that two
// runs on this host do not deliver or retire at once; busy is true when
// another run holds it. Runs on other hosts are kept apart by the tokens
// file's own lock at every step (each step checks the state it changes).
func (s StateDir) Lock() (unlock func(), busy bool, err error) {
	d, err := s.open()
	if err != nil {
		return nil, false, err
	}
	defer d.Close()
	p := strings.TrimSuffix(s.Path(""), ".bearer") + ".lock"
	fd, err := unix.Openat(int(d.Fd()), filepath.Base(p), unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", p, err)
	}
	f := os.NewFile(uintptr(fd), p)
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("lock %s: %w", p, err)
	}
	return func() { f.Close() }, false, nil
}

// Unfinished is the file that keeps the secret of token, a token of f
// that a create which delivers made and did not finish delivering: a
// kept secret whose token is still in f and not a rotation's successor
// (its rotation, run again, goes on with it). A kept secret whose token
// left f is stale: nothing can finish it.
func (s StateDir) Unfinished(f *tokens.File, set *meta.Set, token string) (string, bool) {
	if _, ok := f.Hash(token); !ok {
		return "", false
	}
	if rec, ok := set.Get(token); ok && rec.Phase != meta.Done {
		return "", false
	}
	if _, ok := s.Held(token); !ok {
		return "", false
	}
	return s.Path(token), true
}

func isLink(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode()&fs.ModeSymlink != 0
}
