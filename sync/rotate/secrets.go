package rotate

import (
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

	"github.com/es-service-tokens/es-service-tokens/internal/atomicfile"
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
// (0700) if missing. A directory others may read is refused.
func (s StateDir) Keep(token, bearer string) error {
	if err := s.private(); err != nil {
		return err
	}
	p := s.Path(token)
	os.Remove(p) // a stale one from a run that died before its token existed
	if err := atomicfile.WriteNew(p, []byte(bearer+"\n"), 0o600); err != nil {
		return fmt.Errorf("keep the new token's secret in %s: %w", s.Dir, err)
	}
	return nil
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

// Forget removes token's bearer.
func (s StateDir) Forget(token string) error {
	if err := os.Remove(s.Path(token)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove the kept secret of %s: %w", token, err)
	}
	return nil
}

// private makes the directory if needed and checks that only its owner,
// this user, can enter it.
func (s StateDir) private() error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("create the state directory %s: %w", s.Dir, err)
	}
	fi, err := os.Lstat(s.Dir)
	if err != nil {
		return fmt.Errorf("state directory %s: %w", s.Dir, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("state directory %s is not a directory: move it away", s.Dir)
	case ok && int(st.Uid) != os.Geteuid():
		return fmt.Errorf("state directory %s belongs to uid %d, not to this user: give each user their own", s.Dir, st.Uid)
	case fi.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("state directory %s has mode %04o: others could read the secrets kept there; chmod 700 %s", s.Dir, fi.Mode().Perm(), safetext.ShellWord(s.Dir))
	}
	return nil
}

// Lock takes this user's lock on the rotations of the file, so that two
// runs on this host do not deliver or retire at once; busy is true when
// another run holds it. Runs on other hosts are kept apart by the tokens
// file's own lock at every step (each step checks the state it changes).
func (s StateDir) Lock() (unlock func(), busy bool, err error) {
	if err := s.private(); err != nil {
		return nil, false, err
	}
	p := strings.TrimSuffix(s.Path(""), ".bearer") + ".lock"
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", p, err)
	}
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
