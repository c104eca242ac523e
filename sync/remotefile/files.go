package remotefile

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"time"

	"github.com/es-service-tokens/es-service-tokens/sync/failure"
)

// These small file operations serve the node lock (sync/nodelock) and the
// sweep of stale temporary files.

// Link makes newname a hard link to oldname (hardlink@openssh.com); it
// fails if newname exists.
func (c *Conn) Link(oldname, newname string) error {
	c.forget()
	return c.sftp.Link(oldname, newname)
}

// Rename replaces newname with oldname atomically (posix-rename@openssh.com).
func (c *Conn) Rename(oldname, newname string) error {
	c.forget()
	return c.sftp.PosixRename(oldname, newname)
}

// ReadFile returns a small regular file's content and modification time.
// It looks before it opens, since opening a FIFO blocks until a writer
// comes, and checks what it opened on the handle, since the name may have
// changed in between: anything but a regular file is a *NotRegularError.
func (c *Conn) ReadFile(p string) ([]byte, time.Time, error) {
	fi, err := c.sftp.Lstat(p)
	if err != nil {
		return nil, time.Time{}, err
	}
	if !fi.Mode().IsRegular() {
		return nil, time.Time{}, &NotRegularError{p, fi.Mode()}
	}
	f, err := c.sftp.Open(p)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer closeLater(f)
	got := readOpen(f, fi.Size(), 1<<20)
	if got.statErr != nil {
		return nil, time.Time{}, got.statErr
	}
	if !got.info.Mode().IsRegular() {
		return nil, time.Time{}, &NotRegularError{p, got.info.Mode()}
	}
	return got.data, got.info.ModTime(), got.readErr
}

// NotRegularError is something other than a regular file where a regular
// file was expected.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string { return e.Path + " is " + e.What() }

// What names what the path is: "a named pipe (FIFO)", "a directory".
func (e *NotRegularError) What() string { return FileType(e.Mode) }

// FileType names the type of a file with mode m, for messages.
func FileType(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "not a regular file"
}

// Entry is a file found next to the target.
type Entry struct {
	Name    string
	ModTime time.Time
}

// tempPattern matches the names TempName makes, and nothing else.
var tempPattern = regexp.MustCompile(`^\..+\.es-service-tokens-[0-9a-f]{12}\.tmp$`)

// IsTempName reports whether name (a base name) is one of this tool's
// temporary files for target.
func IsTempName(target, name string) bool {
	prefix := "." + path.Base(target) + ".es-service-tokens-"
	return tempPattern.MatchString(name) && len(name) > len(prefix) && name[:len(prefix)] == prefix
}

// Siblings lists the regular files next to target whose base names match.
func (c *Conn) Siblings(target string, match func(name string) bool) ([]Entry, error) {
	ents, err := c.readDir(path.Dir(target))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, &Error{"list", "", fmt.Errorf("list %s: %w", path.Dir(target), err)}
	}
	var out []Entry
	for _, e := range ents {
		if e.Mode().IsRegular() && match(e.Name()) {
			out = append(out, Entry{e.Name(), e.ModTime()})
		}
	}
	return out, nil
}

// Exists reports whether p exists (as anything).
func (c *Conn) Exists(p string) bool {
	_, err := c.sftp.Lstat(p)
	return err == nil
}

// CheckAtomic fails when the node's SFTP server cannot replace a file
// atomically, before anything is written to the node.
func (c *Conn) CheckAtomic() error {
	if _, ok := c.sftp.HasExtension("posix-rename@openssh.com"); !ok {
		return &Error{"write", failure.Refused, ErrNoPosixRename}
	}
	return nil
}
