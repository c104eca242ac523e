// Package store reads and changes a local service_tokens file without ever
// losing it: the file is parsed with Elasticsearch's strict rules before
// any change, changes are serialised by an advisory lock, and the new
// content replaces the old atomically with the old owner, group and mode.
package store

import (
	"bytes"
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
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
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
	// MetaNotes say what happened to the metadata besides the change
	// itself: records of tokens no longer in the file dropped, two records
	// of one token merged.
	MetaNotes []string
	// MetaSkipped is why the metadata file was neither read nor written
	// (it does not parse, or cannot be read): the token change was made
	// all the same, and that file was left as it is. Nil when it was kept.
	MetaSkipped *MetaError
	// metaBefore are the records before the change, for Undo; nil when
	// the metadata was skipped. metaExisted: there was a metadata file.
	metaBefore  *meta.Set
	metaExisted bool
}

// Update runs fn on the parsed file under an exclusive lock and writes the
// result. If fn returns an error nothing is written. Two Updates on the
// same file, in one process or several, run one after the other. The
// metadata of the tokens fn removes goes with them.
func Update(path string, fn func(*tokens.File) error) (Change, error) {
	return UpdateWithMeta(path, MetaBestEffort, func(f *tokens.File, _ *meta.Set) error { return fn(f) })
}

// MetaMode says what an update does when the metadata file is unusable.
type MetaMode int

const (
	// MetaBestEffort changes the tokens all the same: fn gets an empty
	// set, whose changes are not written, and Change.MetaSkipped says why.
	// Creating and deleting tokens never depends on their metadata.
	MetaBestEffort MetaMode = iota
	// MetaRequired refuses the update with the *MetaError: for changes
	// whose correctness rests on the metadata (a rotation's state).
	MetaRequired
)

// UpdateWithMeta is Update with the metadata file beside path (MetaPath):
// fn changes both, under the same lock, and both are replaced atomically.
// Records of tokens that are in neither the file before nor after the
// change are dropped, with a note.
//
// The two files cannot be replaced in one step, so the order is chosen
// for a crash between any two writes: the metadata is written first with
// the records of every token in the file before or after the change, then
// the tokens file, then the metadata without the records of removed
// tokens. A crash thus leaves at worst a record whose token is not in the
// file, which the next update drops, and never a token the change added
// without its record.
func UpdateWithMeta(path string, mode MetaMode, fn func(*tokens.File, *meta.Set) error) (Change, error) {
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
	m, merr := readMeta(path)
	if merr != nil && mode == MetaRequired {
		return Change{}, merr
	}
	var oldInfo fs.FileInfo
	if before.Exists {
		if oldInfo, err = os.Stat(path); err != nil {
			return Change{}, &IOError{"stat", path, err}
		}
	}
	next, records := before.File.Clone(), m.Set.Clone()
	if err := fn(next, records); err != nil {
		return Change{}, err
	}
	data, err := next.Marshal()
	if err != nil {
		return Change{}, fmt.Errorf("%s: %w", path, err)
	}
	ch := Change{Before: before, After: data, MetaSkipped: merr}
	if merr == nil {
		ch.metaBefore, ch.metaExisted = m.Set.Clone(), m.Exists
	}
	var plan metaPlan
	if merr == nil {
		plan = planMeta(m, records, before.File, next)
		ch.MetaNotes = plan.notes
		if werr := plan.writeFirst(path); werr != nil {
			if mode == MetaRequired {
				return Change{}, werr
			}
			ch.MetaSkipped, plan = werr, metaPlan{}
		}
	}
	if err := writeTokens(path, data, oldInfo); err != nil {
		return Change{}, err
	}
	if werr := plan.writeLast(path); werr != nil {
		if mode == MetaRequired {
			return ch, werr
		}
		ch.MetaSkipped = werr
	}
	ch.Warnings, err = rewriteWarnings(path, before, oldInfo)
	return ch, err
}

// ErrChangedSince is an Undo of a change the file no longer holds: it was
// changed again since, and is left as it is.
var ErrChangedSince = errors.New("the file was changed again since")

// Undo puts the file back as it was before ch, under the same lock as
// Update, when it still holds what ch wrote: a change that no node would
// take is not left behind in the local file. The records of the tokens
// ch removed come back with them; those of the tokens it added go. A file
// ch created is removed. A file changed again since is left as it is
// (ErrChangedSince).
func Undo(path string, ch Change) error {
	unlock, err := lockDir(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer unlock()
	cur, err := os.ReadFile(path)
	if err != nil {
		return &IOError{"read", path, err}
	}
	if !bytes.Equal(cur, ch.After) {
		return ErrChangedSince
	}
	after, err := tokens.Parse(cur)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err) // it is what Update wrote: it parses
	}
	plan, merr := undoMeta(path, ch, after)
	if merr == nil {
		if werr := plan.writeFirst(path); werr != nil {
			plan = metaPlan{}
		}
	}
	if err := restore(path, ch.Before); err != nil {
		return err
	}
	if !ch.Before.Exists && merr == nil && ch.metaBefore != nil && !ch.metaExisted {
		os.Remove(MetaPath(path)) // made by the change undone
		return nil
	}
	plan.writeLast(path)
	return nil
}

// restore puts back the tokens file as it was: its bytes, or no file.
func restore(path string, before Snapshot) error {
	if !before.Exists {
		if err := os.Remove(path); err != nil {
			return &IOError{"remove", path, err}
		}
		return nil
	}
	oldInfo, err := os.Stat(path)
	if err != nil {
		return &IOError{"stat", path, err}
	}
	return writeTokens(path, before.Data, oldInfo)
}

// undoMeta plans the metadata of an Undo: the records of tokens ch
// removed, as they were before it, put back, and the rotations to them
// that their removal ended (planMeta) under way again.
func undoMeta(path string, ch Change, after *tokens.File) (metaPlan, *MetaError) {
	m, merr := readMeta(path)
	if merr != nil || ch.metaBefore == nil {
		return metaPlan{}, merr
	}
	records := m.Set.Clone()
	for _, k := range ch.Before.File.Keys() {
		if _, still := after.Hash(k); still {
			continue
		}
		if r, ok := ch.metaBefore.Get(k); ok {
			records.Put(r)
		}
		for _, t := range ch.metaBefore.Tokens() {
			was, _ := ch.metaBefore.Get(t)
			if now, ok := records.Get(t); ok && was.RotatedTo == k && now.RotatedTo == "" {
				now.RotatedTo = k
				records.Put(now)
			}
		}
	}
	return planMeta(m, records, after, ch.Before.File), nil
}

// writeTokens replaces the tokens file, keeping its attributes.
func writeTokens(path string, data []byte, oldInfo fs.FileInfo) error {
	opt, err := attributesFor(path, oldInfo)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, data, opt); err != nil {
		return &IOError{"write", path, err}
	}
	return nil
}

// rewriteWarnings are the lines the rewrite did not keep and, as
// Elasticsearch's CLI prints them, the attributes that changed anyway.
func rewriteWarnings(path string, before Snapshot, oldInfo fs.FileInfo) ([]string, error) {
	var w []string
	for _, d := range before.File.Dropped {
		w = append(w, droppedWarning(path, d))
	}
	if oldInfo != nil {
		newInfo, err := os.Stat(path)
		if err != nil {
			return w, &IOError{"stat", path, err}
		}
		w = append(w, attributeWarnings(path, oldInfo, newInfo)...)
	}
	return w, nil
}

func droppedWarning(path string, d tokens.Dropped) string {
	if d.Key == "" {
		return fmt.Sprintf("WARNING: %s:%d: %s not kept (Elasticsearch's format has no comments)", path, d.Line, d.Reason)
	}
	return fmt.Sprintf("WARNING: %s:%d: [%s] %s; not kept", path, d.Line, safetext.Input(d.Key), d.Reason)
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
