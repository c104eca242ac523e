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

// create makes p, a name that must not exist, and writes data into it:
// mode 0600 before the first byte (the server creates it with its own
// umask, and a hash must never be readable by more than the writer), then
// the bytes. It returns the open handle; on failure, made says whether p
// was created (and is the caller's to remove: only a name this run made).
func (c *Conn) create(p string, data []byte) (f *sftp.File, made bool, err error) {
	f, err = c.sftp.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, &Error{"write", failure.RemoteIO, missingDir{path.Dir(p), err}}
	}
	if err != nil {
		return nil, false, &Error{"write", "", fmt.Errorf("create %s: %w%s%s", p, err, c.rootHint(err), c.diagnose(path.Dir(p), len(data)))}
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, true, &Error{"write", "", fmt.Errorf("chmod %s: %w", p, err)}
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, true, &Error{"write", "", fmt.Errorf("write %s: %w%s", p, err, c.diagnose(path.Dir(p), len(data)))}
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

func (c *Conn) setAttrs(f *sftp.File, a Attrs) error {
	p := f.Name()
	if _, ok := c.sftp.HasExtension("fsync@openssh.com"); ok {
		if err := f.Sync(); err != nil {
			return &Error{"write", "", fmt.Errorf("fsync %s: %w", p, err)}
		}
	}
	if a.UID >= 0 || a.GID >= 0 {
		if err := f.Chown(a.UID, a.GID); err != nil {
			return &Error{"write", failure.Permission, fmt.Errorf("chown %s: %w; setting owner and group needs root on the node: log in as root, or set sudo: true", p, err)}
		}
	}
	// After chown, which may clear mode bits.
	if err := f.Chmod(a.Mode); err != nil {
		return &Error{"write", "", fmt.Errorf("chmod %s: %w", p, err)}
	}
	return nil
}

// WriteNew creates p (mode 0600), writes data and closes it: a file only
// this run uses, such as its lock file. It returns the file's
// modification time as its handle gives it after the write (fstat): the
// node's clock, read from the file itself, without a look by name. A
// missing directory is fs.ErrNotExist; a failure says why when the file
// system is read-only or full.
func (c *Conn) WriteNew(p string, data []byte) (time.Time, error) {
	f, made, err := c.create(p, data)
	var mtime time.Time
	if err == nil {
		var fi fs.FileInfo
		if fi, err = f.Stat(); err != nil {
			err = &Error{"write", "", fmt.Errorf("fstat %s: %w", p, err)}
		} else {
			mtime = fi.ModTime()
		}
		if cerr := f.Close(); err == nil && cerr != nil {
			err = &Error{"write", "", fmt.Errorf("close %s: %w", p, cerr)}
		}
	}
	if err != nil && made {
		c.sftp.Remove(p)
	}
	return mtime, err
}

// Replace writes data to tmp (created here), then renames it over
// target. beforeRename, if not nil, runs last and may still call the
// replacement off. On failure Replace removes tmp if it made it and the
// connection still allows; when it reports leftTemp the caller must
// remove tmp over a new connection.
//
// The new file's close is sent alongside beforeRename's requests, not
// before them: by then its bytes are written and flushed and its owner,
// group and mode set (each answered), so the close changes nothing in
// it, and beforeRename's looks (at the target, at the lock) do not touch
// it. The rename waits for both. After the rename, the directory's flush
// (syncDir) goes on alongside the caller's read-back: Flushed waits for it.
func (c *Conn) Replace(target, tmp string, data []byte, a Attrs, beforeRename func() error) (leftTemp bool, err error) {
	if err := c.CheckAtomic(); err != nil {
		return false, err
	}
	f, made, err := c.create(tmp, data)
	if err == nil {
		if err = c.setAttrs(f, a); err != nil {
			f.Close()
		}
	}
	if err == nil {
		closed := make(chan error, 1)
		go func() { closed <- f.Close() }()
		if beforeRename != nil {
			err = beforeRename()
		}
		if cerr := <-closed; err == nil && cerr != nil {
			err = &Error{"write", "", fmt.Errorf("close %s: %w", tmp, cerr)}
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
	err := c.sftp.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
