package remotefile

import (
	"errors"
	"fmt"
	"io"
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
func (c *Conn) Link(oldname, newname string) error { return c.sftp.Link(oldname, newname) }

// Rename replaces newname with oldname atomically (posix-rename@openssh.com).
func (c *Conn) Rename(oldname, newname string) error { return c.sftp.PosixRename(oldname, newname) }

// ReadFile returns a small file's content and modification time.
func (c *Conn) ReadFile(p string) ([]byte, time.Time, error) {
	f, err := c.sftp.Open(p)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, time.Time{}, err
	}
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	return b, fi.ModTime(), err
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
	ents, err := c.sftp.ReadDir(path.Dir(target))
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
