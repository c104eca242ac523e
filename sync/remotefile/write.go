package remotefile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"time"

	"github.com/pkg/sftp"

	"github.com/es-service-tokens/es-service-tokens/sync/failure"
)

// Every file this package writes on a node is one it has just created:
// a fresh name opened with O_CREAT|O_EXCL, which fails on anything
// already there (a symbolic link included, even a dangling one), so the
// handle is a new inode nobody else has touched. Its mode, content, owner
// and group are set through that handle (FSETSTAT, writes), never by path:
// whatever a local user of the node swaps in at any name, a change the
// tool makes can only land on its own file. The one operation by path on
// the live name is the rename that puts the new file there, which moves a
// directory entry and follows no link.

// Attrs are what a written file must carry; -1 leaves owner or group as
// the server creates them.
type Attrs struct {
	UID, GID int
	Mode     fs.FileMode
}

// CanSet reports, before anything is written, whether this session may give
// a file these attributes, and if not, how to fix that.
func (c *Conn) CanSet(a Attrs) error {
	if !c.identityKnown || c.uid == 0 {
		return nil // unknown: the chown of the temporary file will tell
	}
	need := ""
	if a.UID >= 0 && a.UID != c.uid {
		need = fmt.Sprintf("owner %s (uid %d)", c.UserName(a.UID), a.UID)
	} else if a.GID >= 0 && !containsInt(c.gids, a.GID) {
		need = fmt.Sprintf("group %s (gid %d)", c.GroupName(a.GID), a.GID)
	}
	if need == "" {
		return nil
	}
	return &Error{"permission", failure.Permission, fmt.Errorf("setting %s needs root on the node, and %s is uid %d: log in as root, or set sudo: true", need, c.node.User, c.uid)}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TempName is the temporary file Replace writes next to target.
func TempName(target string) string {
	var b [6]byte
	rand.Read(b[:])
	dir, base := path.Split(target)
	return dir + "." + base + ".es-service-tokens-" + hex.EncodeToString(b[:]) + ".tmp"
}

// ErrNoPosixRename is a server that cannot replace a file atomically.
var ErrNoPosixRename = errors.New("the node's SFTP server lacks posix-rename@openssh.com, so the file cannot be replaced atomically; refusing to write it non-atomically (use OpenSSH's sftp-server)")

// createExcl makes p, a name that must not exist, and returns its open
// handle: what is written through it lands in a file this run made. need
// is how many bytes will be written, for the message of a full disk.
func (c *Conn) createExcl(p string, need int) (*sftp.File, error) {
	c.forget()
	f, err := c.sftp.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &Error{"write", failure.RemoteIO, missingDir{path.Dir(p), err}}
	}
	if err != nil {
		return nil, &Error{"write", "", fmt.Errorf("create %s: %w%s%s", p, err, c.rootHint(err), c.diagnose(path.Dir(p), need))}
	}
	return f, nil
}

// private proves that f, the file p this run just created, is readable
// by nobody but its owner before a byte is written to it: its handle's
// mode (fstat) has no group or other bits, as privateCreate asked the
// server to create it (0600; narrower does as well: this run writes
// through the handle it already holds, and the final mode comes later).
// Group or other bits mean the server ignored the mode asked for, and
// someone on the node could have opened the file before any chmod, and
// read what would be written next: f is closed and the node refused (the
// caller removes p). On error f is closed.
func (c *Conn) private(f *sftp.File, p string) error {
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return &Error{"write", "", fmt.Errorf("fstat %s: %w", p, err)}
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		f.Close()
		return &Error{"write", failure.Refused, fmt.Errorf("the node's SFTP server created %s with mode %04o, not the 0600 asked for, so someone on the node could have opened it before it was made private; nothing was written to it: use OpenSSH's sftp-server, or have yours honour the mode of OPEN (or start it with a umask of 077)", p, perm)}
	}
	return nil
}

// create makes p, a name that must not exist, and writes data into it:
// proved 0600 before the first byte (private: a hash or a token must
// never be readable by more than the writer), then
// the bytes, alongside the owner and group (a) when they are set: with
// mode 0600 still, the new owner is the only one who could read them. It
// returns the open handle; on failure, made says whether p was created
// (and is the caller's to remove: only a name this run made).
func (c *Conn) create(p string, data []byte, a Attrs) (f *sftp.File, made bool, err error) {
	if f, err = c.createExcl(p, len(data)); err != nil {
		return nil, false, err
	}
	if err := c.private(f, p); err != nil {
		return nil, true, err
	}
	var werr error
	written := make(chan struct{})
	go func() {
		defer close(written)
		_, werr = f.WriteAt(data, 0)
	}()
	cerr := c.chown(f, a)
	<-written
	if werr != nil {
		f.Close()
		return nil, true, &Error{"write", "", fmt.Errorf("write %s: %w%s", p, werr, c.diagnose(path.Dir(p), len(data)))}
	}
	if cerr != nil {
		f.Close()
		return nil, true, cerr
	}
	return f, true, nil
}

// missingDir is a create that failed because the file's directory is not
// there; it is fs.ErrNotExist.
type missingDir struct {
	dir string
	err error
}

func (e missingDir) Error() string {
	return fmt.Sprintf("the directory %s does not exist on the node: is Elasticsearch installed there, and is path right?", e.dir)
}
func (e missingDir) Unwrap() error { return e.err }

// chown gives f the owner and group of a, if it sets either.
func (c *Conn) chown(f *sftp.File, a Attrs) error {
	if a.UID < 0 && a.GID < 0 {
		return nil
	}
	if err := f.Chown(a.UID, a.GID); err != nil {
		return &Error{"write", failure.Permission, fmt.Errorf("chown %s: %w; setting owner and group needs root on the node: log in as root, or set sudo: true", f.Name(), err)}
	}
	return nil
}

// flush makes f's bytes survive a power cut before anything can rename
// it into place.
func (c *Conn) flush(f *sftp.File) error {
	if _, ok := c.sftp.HasExtension("fsync@openssh.com"); ok {
		if err := f.Sync(); err != nil {
			return &Error{"write", "", fmt.Errorf("fsync %s: %w", f.Name(), err)}
		}
	}
	return nil
}

// chmod gives f its final mode, after its owner and group (a chown may
// clear mode bits).
func (c *Conn) chmod(f *sftp.File, a Attrs) error {
	if err := f.Chmod(a.Mode); err != nil {
		return &Error{"write", "", fmt.Errorf("chmod %s: %w", f.Name(), err)}
	}
	return nil
}

// WriteNew creates p, proves it 0600 (private), writes data and closes it: a
// file only this run uses, such as its lock file. It returns the file's
// modification time as its handle gives it (fstat): the node's clock,
// read from the file itself, without a look by name. A missing directory
// is fs.ErrNotExist; a failure says why when the file system is
// read-only or full.
//
// The bytes and the handle's attributes are asked for at once, once mode
// 0600 is proved: the modification time may then be the creation's
// rather than the write's, the same moment to the second SFTP gives (and
// if anything earlier, which makes a lock look older to its own run and
// errs on the side of waiting). The close is not waited for: the bytes
// are written (answered), and nothing that follows reads them through this
// handle; a close that fails leaves the handle to the session's end.
func (c *Conn) WriteNew(p string, data []byte) (time.Time, error) {
	f, err := c.createExcl(p, len(data))
	if err != nil {
		return time.Time{}, err
	}
	if err := c.private(f, p); err != nil {
		c.sftp.Remove(p)
		return time.Time{}, err
	}
	var writeErr error
	written := make(chan struct{})
	go func() { defer close(written); _, writeErr = f.WriteAt(data, 0) }()
	fi, statErr := f.Stat()
	<-written
	switch {
	case writeErr != nil:
		err = &Error{"write", "", fmt.Errorf("write %s: %w%s", p, writeErr, c.diagnose(path.Dir(p), len(data)))}
	case statErr != nil:
		err = &Error{"write", "", fmt.Errorf("fstat %s: %w", p, statErr)}
	}
	if err != nil {
		f.Close()
		c.sftp.Remove(p)
		return time.Time{}, err
	}
	closeLater(f)
	return fi.ModTime(), nil
}

// Replace writes data to tmp (created here), then renames it over
// target. beforeRename, if not nil, runs last and may still call the
// replacement off. On failure Replace removes tmp if it made it and the
// connection still allows; when it reports leftTemp the caller must
// remove tmp over a new connection.
//
// The new file's final mode and its close are sent alongside
// beforeRename's requests, not before them: by then its bytes are
// written and flushed and its owner and group set (each answered), so
// neither changes what it holds or who owns it, and beforeRename's looks
// (at the target, at the lock) do not touch it. The rename waits for all
// of them. After the rename, the directory's flush
// (syncDir) goes on alongside the caller's read-back: Flushed waits for it.
func (c *Conn) Replace(target, tmp string, data []byte, a Attrs, beforeRename func() error) (leftTemp bool, err error) {
	if err := c.CheckAtomic(); err != nil {
		return false, err
	}
	f, made, err := c.create(tmp, data, a)
	if err == nil {
		if err = c.flush(f); err != nil {
			f.Close()
		}
	}
	if err == nil {
		closed := make(chan error, 1)
		go func() {
			err := c.chmod(f, a)
			if cerr := f.Close(); err == nil && cerr != nil {
				err = &Error{"write", "", fmt.Errorf("close %s: %w", tmp, cerr)}
			}
			closed <- err
		}()
		if beforeRename != nil {
			err = beforeRename()
		}
		if cerr := <-closed; err == nil {
			err = cerr
		}
	}
	if err == nil {
		if err = c.sftp.PosixRename(tmp, target); err != nil {
			err = &Error{"write", "", fmt.Errorf("rename %s over %s: %w", tmp, target, err)}
		}
	}
	if err != nil {
		return made && c.Remove(tmp) != nil, err
	}
	flushed := make(chan struct{})
	c.flushed = flushed
	go func() {
		defer close(flushed)
		c.syncDir(path.Dir(target))
	}()
	return false, nil
}

// Flushed waits for the flush of the directory the last Replace started.
// The rename is visible to Elasticsearch before it; the flush makes it
// survive a power cut, and a caller waits for it before it reports the
// file in place. It runs alongside the read-back, which it does not
// change: it opens the directory read-only and syncs it.
func (c *Conn) Flushed() {
	if c.flushed != nil {
		<-c.flushed
		c.flushed = nil
	}
}

// diagnose explains a failed create or write. OpenSSH's sftp-server sends
// a bare "Failure" for a read-only or full file system; statvfs@openssh.com
// tells which.
func (c *Conn) diagnose(dir string, need int) string {
	if _, ok := c.sftp.HasExtension("statvfs@openssh.com"); !ok {
		return ""
	}
	vfs, err := c.sftp.StatVFS(dir)
	if err != nil {
		return ""
	}
	const stRdonly = 1
	switch free := vfs.Frsize * vfs.Bavail; {
	case vfs.Flag&stRdonly != 0:
		return fmt.Sprintf(" (%s is on a read-only file system)", dir)
	case free < uint64(need)+vfs.Frsize:
		return fmt.Sprintf(" (no space left on the node: %d bytes free in %s, %d needed)", free, dir, need)
	case vfs.Favail == 0:
		return fmt.Sprintf(" (no free inodes on the file system of %s)", dir)
	}
	return ""
}

// syncDir flushes the directory so the rename survives a power cut. SFTP
// has no request for it, but OpenSSH's sftp-server opens a directory
// read-only like a file and fsync@openssh.com then syncs it. Best effort:
// the rename is already visible to Elasticsearch.
func (c *Conn) syncDir(dir string) {
	if _, ok := c.sftp.HasExtension("fsync@openssh.com"); !ok {
		return
	}
	d, err := c.sftp.OpenFile(dir, os.O_RDONLY)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// Remove deletes a name, for cleaning up this tool's own files. Unlink
// removes a directory entry and follows no link; what it removes is a
// name in the file's directory, which anyone who could put something
// there could remove too.
func (c *Conn) Remove(p string) error {
	c.forget()
	err := c.sftp.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
