// Package store reads and changes a local service_tokens file without ever
// losing it: the file is parsed with Elasticsearch's strict rules before
// any change, changes are serialised by an advisory lock, and the new
// content replaces the old atomically with the old owner, group and mode.
package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/es-service-tokens/es-service-tokens/internal/atomicfile"
	"github.com/es-service-tokens/es-service-tokens/internal/fserr"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// NewFileMode is the mode of a file the tool creates. Elasticsearch's CLI
// creates 0600 owned by the caller, which a node running as another user
// cannot read (elastic/elasticsearch#81378, #124771).
const NewFileMode fs.FileMode = 0o660

// MalformedError is a file Elasticsearch would refuse to load.
type MalformedError struct {
	Path string
	Err  *tokens.ParseError
}

func (e *MalformedError) Error() string {
	return fmt.Sprintf("%s:%d: %s; Elasticsearch would refuse this file, fix the line and retry", e.Path, e.Err.Line, e.Err.Msg)
}

// MisreadError is a file Elasticsearch would load, but with a token under
// a name other than the one shown (see tokens.Misread). It is refused like
// a malformed file: pushing or rewriting it would spread a token that
// never authenticates as the name everyone sees.
type MisreadError struct {
	Path    string
	Misread tokens.Misread
}

func (e *MisreadError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.Path, e.Misread.Line, e.Misread.Reason)
}

// IOError is a file or directory that cannot be read or written.
type IOError struct {
	Op   string
	Path string
	Err  error
}

func (e *IOError) Error() string {
	return fmt.Sprintf("cannot %s %s: %v", e.Op, e.Path, fserr.WithoutPath(e.Err))
}
func (e *IOError) Unwrap() error { return e.Err }

// Snapshot is the file as read at one moment.
type Snapshot struct {
	File   *tokens.File
	Data   []byte
	Exists bool
}

// Load reads and strictly parses the file at path. A missing file is an
// empty one, as for Elasticsearch.
func Load(path string) (Snapshot, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Snapshot{File: tokens.NewFile()}, nil
	}
	if err != nil {
		return Snapshot{}, &IOError{"read", path, err}
	}
	f, err := tokens.Parse(data)
	if err != nil {
		var pe *tokens.ParseError
		errors.As(err, &pe)
		return Snapshot{}, &MalformedError{path, pe}
	}
	if len(f.Misread) > 0 {
		return Snapshot{}, &MisreadError{path, f.Misread[0]}
	}
	return Snapshot{File: f, Data: data, Exists: true}, nil
}

// Change is the outcome of Update.
type Change struct {
	Before Snapshot
	After  []byte
	// Warnings are Elasticsearch's attribute-change lines and notes about
	// lines the rewrite did not keep.
	Warnings []string
}

// Update runs fn on the parsed file under an exclusive lock and writes the
// result. If fn returns an error nothing is written. Two Updates on the
// same file, in one process or several, run one after the other.
func Update(path string, fn func(*tokens.File) error) (Change, error) {
	unlock, err := lockDir(filepath.Dir(path))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// No directory, no file and nobody to race with: fn still decides
		// (a delete reports the missing token), the write then fails.
	case err != nil:
		return Change{}, err
	default:
		defer unlock()
	}

	before, err := Load(path)
	if err != nil {
		return Change{}, err
	}
	var oldInfo fs.FileInfo
	if before.Exists {
		if oldInfo, err = os.Stat(path); err != nil {
			return Change{}, &IOError{"stat", path, err}
		}
	}
	next := before.File.Clone()
	if err := fn(next); err != nil {
		return Change{}, err
	}
	data, err := next.Marshal()
	if err != nil {
		return Change{}, fmt.Errorf("%s: %w", path, err)
	}
	opt, err := attributesFor(path, oldInfo)
	if err != nil {
		return Change{}, err
	}
	if err := atomicfile.Write(path, data, opt); err != nil {
		return Change{}, &IOError{"write", path, err}
	}
	ch := Change{Before: before, After: data}
	for _, d := range before.File.Dropped {
		ch.Warnings = append(ch.Warnings, droppedWarning(path, d))
	}
	if oldInfo != nil {
		newInfo, err := os.Stat(path)
		if err != nil {
			return ch, &IOError{"stat", path, err}
		}
		ch.Warnings = append(ch.Warnings, attributeWarnings(path, oldInfo, newInfo)...)
	}
	return ch, nil
}

func droppedWarning(path string, d tokens.Dropped) string {
	if d.Key == "" {
		return fmt.Sprintf("WARNING: %s:%d: %s not kept (Elasticsearch's format has no comments)", path, d.Line, d.Reason)
	}
	return fmt.Sprintf("WARNING: %s:%d: [%s] %s; not kept", path, d.Line, d.Key, d.Reason)
}

// attributesFor keeps an existing file's mode, owner and group, and gives
// a new file NewFileMode and the group of its directory.
func attributesFor(path string, old fs.FileInfo) (atomicfile.Options, error) {
	if old != nil {
		st := old.Sys().(*syscall.Stat_t)
		return atomicfile.Options{Perm: old.Mode().Perm(), UID: int(st.Uid), GID: int(st.Gid), OwnerBestEffort: true}, nil
	}
	dir := filepath.Dir(path)
	di, err := os.Stat(dir)
	if err != nil {
		return atomicfile.Options{}, &IOError{"use directory", dir, err}
	}
	gid := int(di.Sys().(*syscall.Stat_t).Gid)
	return atomicfile.Options{Perm: NewFileMode, UID: -1, GID: gid, OwnerBestEffort: true}, nil
}

// attributeWarnings are FileAttributesChecker's lines, word for word.
func attributeWarnings(path string, old, cur fs.FileInfo) []string {
	var w []string
	if old.Mode().Perm() != cur.Mode().Perm() {
		w = append(w, fmt.Sprintf("WARNING: The file permissions of [%s] have changed from [%s] to [%s]", path, permString(old.Mode()), permString(cur.Mode())),
			"Please ensure that the user account running Elasticsearch has read access to this file!")
	}
	was, now := old.Sys().(*syscall.Stat_t), cur.Sys().(*syscall.Stat_t)
	if was.Uid != now.Uid {
		w = append(w, fmt.Sprintf("WARNING: Owner of file [%s] used to be [%s], but now is [%s]", path, userName(was.Uid), userName(now.Uid)))
	}
	if was.Gid != now.Gid {
		w = append(w, fmt.Sprintf("WARNING: Group of file [%s] used to be [%s], but now is [%s]", path, groupName(was.Gid), groupName(now.Gid)))
	}
	return w
}

func permString(m fs.FileMode) string { return m.Perm().String()[1:] }

func userName(uid uint32) string {
	if u, err := user.LookupId(strconv.Itoa(int(uid))); err == nil {
		return u.Username
	}
	return strconv.Itoa(int(uid))
}

func groupName(gid uint32) string {
	if g, err := user.LookupGroupId(strconv.Itoa(int(gid))); err == nil {
		return g.Name
	}
	return strconv.Itoa(int(gid))
}

// lockDir takes an exclusive flock on the file's directory. Locking the
// directory rather than the file survives the rename that replaces the
// file, and leaves no lock file behind.
func lockDir(dir string) (func(), error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, &IOError{"open directory", dir, err}
	}
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX); err != nil {
		d.Close()
		return nil, &IOError{"lock directory", dir, err}
	}
	return func() {
		syscall.Flock(int(d.Fd()), syscall.LOCK_UN)
		d.Close()
	}, nil
}
