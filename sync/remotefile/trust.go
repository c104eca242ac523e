package remotefile

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/pkg/sftp"

	"github.com/es-service-tokens/es-service-tokens/sync/failure"
)

// maxLinks bounds the symbolic links TrustDir follows, as the kernel's
// ELOOP does.
const maxLinks = 40

// TrustDir proves that nobody but root and this session's user can change
// which directory dir names, before anything is written there: every
// entry on the way from / to dir (each directory, and each symbolic link
// followed, with its target walked the same way) sits in a directory that
// only they can write, or in a sticky one (/tmp) where the entry is
// theirs. dir itself may be writable by anyone (it is the hostile
// territory the rest of this package is careful in), but nobody else can
// swap it, or a directory above it, for a link that would send the
// temporary file, the rename and the lock to another directory (a root
// push renaming a file named service_tokens into /etc/sudoers.d or
// /etc/apt/apt.conf.d).
//
// Once checked this stays true: only root or this user can change those
// directories. The walk costs one lstat per component.
func (c *Conn) TrustDir(dir string) error {
	w := &trustWalk{c: c, todo: components(dir)}
	root, err := c.lstat("/")
	if err != nil {
		return &Error{"trust", "", fmt.Errorf("stat /: %w", err)}
	}
	w.cur, w.curInfo = "/", root
	for len(w.todo) > 0 {
		if err := w.step(dir); err != nil {
			return err
		}
	}
	return nil
}

type trustWalk struct {
	c       *Conn
	cur     string // a real directory: no link on the way to it
	curInfo fs.FileInfo
	todo    []string // components still to walk
	links   int
}

// step walks one component of todo.
func (w *trustWalk) step(dir string) error {
	name := w.todo[0]
	w.todo = w.todo[1:]
	switch name {
	case "", ".":
		return nil
	case "..":
		// cur is real, so its parent is the lexical one.
		return w.enter(path.Dir(w.cur))
	}
	next := path.Join(w.cur, name)
	fi, err := w.c.lstat(next)
	if errors.Is(err, fs.ErrNotExist) {
		return &Error{"trust", failure.RemoteIO, missingDir{dir, err}}
	}
	if err != nil {
		return &Error{"trust", "", fmt.Errorf("stat %s: %w%s", next, err, w.c.rootHint(err))}
	}
	if err := w.c.guarded(w.cur, w.curInfo, next, fi); err != nil {
		return err
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return w.follow(next)
	case !fi.IsDir():
		return &Error{"trust", failure.Refused, fmt.Errorf("%s is not a directory: fix path", next)}
	}
	w.cur, w.curInfo = next, fi
	return nil
}

// follow puts a link's target in front of what is left to walk.
func (w *trustWalk) follow(link string) error {
	if w.links++; w.links > maxLinks {
		return &Error{"trust", failure.Refused, fmt.Errorf("more than %d symbolic links on the way to %s: fix path", maxLinks, link)}
	}
	target, err := w.c.sftp.ReadLink(link)
	if err != nil {
		return &Error{"trust", "", fmt.Errorf("readlink %s: %w", link, err)}
	}
	w.todo = append(components(target), w.todo...)
	if path.IsAbs(target) {
		return w.enter("/")
	}
	return nil
}

// enter makes p, a real directory already walked (or /), the current one.
func (w *trustWalk) enter(p string) error {
	fi, err := w.c.lstat(p)
	if err != nil {
		return &Error{"trust", "", fmt.Errorf("stat %s: %w", p, err)}
	}
	w.cur, w.curInfo = p, fi
	return nil
}

func components(p string) []string { return strings.Split(p, "/") }

// guarded reports whether entry, in parent, can be replaced only by root
// or this session's user: the parent is theirs and writable by nobody
// else, or it is sticky and the entry is theirs.
func (c *Conn) guarded(parent string, pi fs.FileInfo, entry string, ei fs.FileInfo) error {
	pOwner := pi.Sys().(*sftp.FileStat).UID
	if !c.trusted(pOwner) {
		return c.untrusted(parent, pi, entry, "owned by "+c.UserName(int(pOwner)))
	}
	if pi.Mode().Perm()&0o022 == 0 {
		return nil
	}
	if pi.Mode()&fs.ModeSticky != 0 && c.trusted(ei.Sys().(*sftp.FileStat).UID) {
		return nil
	}
	who := "group " + c.GroupName(int(pi.Sys().(*sftp.FileStat).GID))
	if pi.Mode().Perm()&0o002 != 0 {
		who = "others"
	}
	return c.untrusted(parent, pi, entry, "writable by "+who)
}

// trusted: root, or this session's user when known.
func (c *Conn) trusted(uid uint32) bool {
	return uid == 0 || (c.identityKnown && int(uid) == c.uid)
}

func (c *Conn) untrusted(parent string, pi fs.FileInfo, entry, why string) error {
	return &Error{"trust", failure.Refused, fmt.Errorf(
		"%s is %s (mode %s): whoever can write it can replace %s with a link and send this write to another directory; not written: make %s owned by root and writable by nobody else",
		parent, why, Mode(pi.Mode()), entry, parent)}
}

// TrustEntry proves that nobody but root and this session's user can
// put anything at the name p in its directory (a directory TrustDir has
// proved): the directory is theirs and writable by nobody else. Nobody
// else can undo that, so when it holds after a read of p, it held during
// the read.
//
// TrustDir lets the file's own directory be writable by others, because a
// write there only ever puts a new file in place. A caller that takes
// something from the file it read (content it edits, an owner or mode it
// keeps) needs more: in a directory someone else can write, the name can
// be swapped for a link between the lstat and the open (SFTP has no
// O_NOFOLLOW), and what the run takes would be another file's, copied
// into a file that someone else may read (/etc/shadow into an env file
// owned by the service). A sticky directory (/tmp) is no better here:
// its users cannot move a root file, but they can put a name there
// first, and a hard link to a root file looks like that file (SFTP
// reports no link count).
func (c *Conn) TrustEntry(p string) error {
	dir := path.Dir(p)
	di, err := c.sftp.Lstat(dir)
	if err != nil {
		return &Error{"trust", "", fmt.Errorf("stat %s: %w%s", dir, err, c.rootHint(err))}
	}
	owner := di.Sys().(*sftp.FileStat).UID
	why := ""
	switch {
	case !c.trusted(owner):
		why = "owned by " + c.UserName(int(owner))
	case di.Mode().Perm()&0o022 == 0:
		return nil
	case di.Mode().Perm()&0o002 != 0:
		why = "writable by others"
	default:
		why = "writable by group " + c.GroupName(int(di.Sys().(*sftp.FileStat).GID))
	}
	return &Error{"trust", failure.Refused, fmt.Errorf(
		"%s is %s (mode %s): whoever can write it can swap %s for a link to another file while this run reads it, and have that file's content, owner or mode taken into the new one; not written: make %s owned by root and writable by nobody else",
		dir, why, Mode(di.Mode()), p, dir)}
}
