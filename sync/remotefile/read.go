package remotefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/pkg/sftp"

	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
)

// State is a file as found on the node.
type State struct {
	Exists bool
	Data   []byte
	SHA256 string
	UID    int
	GID    int
	Mode   fs.FileMode
}

// rootHint names the remedy for a permission denied to a login that is
// neither root nor using sudo: Elasticsearch's config directory is
// root:elasticsearch 2750 on every package, so only root can write there.
func (c *Conn) rootHint(err error) string {
	if !errors.Is(err, fs.ErrPermission) || c.node.Sudo || (c.identityKnown && c.uid == 0) || c.node.User == "root" {
		return ""
	}
	return fmt.Sprintf(" (%s is not root): log in as root or set sudo: true", c.node.User)
}

// Read reads path. A missing file is State{Exists: false}; anything but a
// regular file is an error, as replacing it could destroy something else.
//
// Whoever can write the directory can swap the name between the lstat
// and the open (SFTP has no O_NOFOLLOW), so the lstat only keeps the open
// away from what is there now (a FIFO would block it). Everything the
// State says comes from what was opened: the handle's own attributes
// (fstat) and its bytes, one file, whatever the name pointed at. Callers
// never echo Data: through a link it may be any file the session can read.
func (c *Conn) Read(p string) (State, error) {
	fi, err := c.lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return State{}, &Error{"read", "", fmt.Errorf("stat %s: %w%s", p, err, c.rootHint(err))}
	}
	if err := readable(p, fi); err != nil {
		return State{}, err
	}
	f, err := c.sftp.Open(p)
	if err != nil {
		return State{}, &Error{"read", "", fmt.Errorf("open %s: %w%s", p, err, c.rootHint(err))}
	}
	defer closeLater(f)
	got := readOpen(f, fi.Size(), MaxSize+1)
	if got.statErr != nil {
		return State{}, &Error{"read", "", fmt.Errorf("fstat %s: %w", p, got.statErr)}
	}
	opened, data := got.info, got.data
	if err := readable(p, opened); err != nil {
		return State{}, err
	}
	if got.readErr != nil {
		return State{}, &Error{"read", "", fmt.Errorf("read %s: %w", p, got.readErr)}
	}
	if len(data) > MaxSize {
		return State{}, tooLarge(p, int64(len(data)))
	}
	st := opened.Sys().(*sftp.FileStat)
	return State{Exists: true, Data: data, SHA256: digest.SHA256(data), UID: int(st.UID), GID: int(st.GID), Mode: opened.Mode().Perm()}, nil
}

// closeLater closes a file without waiting for the node's answer, once
// nothing that follows depends on it (what was read through it is in, or
// what was written through it answered): waiting would cost a round trip.
// A close that fails leaves the handle to the end of the session, which
// closes it.
func closeLater(f io.Closer) { go f.Close() }

// opened is what readOpen found: the handle's attributes (fstat) and
// the bytes read through it. data means nothing unless info is a regular
// file.
type opened struct {
	info             fs.FileInfo
	data             []byte
	statErr, readErr error
}

// readOpen reads the file f opened, which a look by name (lstat) just
// found to be a regular file of size looked, at most limit bytes.
//
// Over SFTP each request waits for its answer, so the handle's
// attributes and the bytes are asked for at once: the read is sized by
// the look, and what the handle says decides what is kept. The attributes
// still decide everything: a handle that is not a regular file makes the
// caller refuse, and its bytes are never used. What was opened is read as
// large as its handle says it is (a file that grows meanwhile is read to
// that size, one that shrinks to its end): when the name was swapped for
// a larger file between the look and the open, the rest is read after.
// With no size to go by (an empty look), it asks for the attributes
// first and reads to the end, as a file that reports no size may still
// hold bytes.
//
// The one thing the read alongside the attributes changes is what a
// special file swapped in between the look and the open could do: the
// read goes to it before its attributes refuse it. It writes nothing and
// its bytes are dropped (OpenSSH's sftp-server seeks before it reads,
// which fails at once on a FIFO; docs/push.md states the residual).
func readOpen(f *sftp.File, looked, limit int64) opened {
	var o opened
	if looked <= 0 || looked > limit {
		if o.info, o.statErr = f.Stat(); o.statErr == nil && o.info.Mode().IsRegular() {
			o.data, o.readErr = readAll(io.LimitReader(f, limit), o.info.Size())
		}
		return o
	}
	buf := make([]byte, looked)
	var n int
	read := make(chan struct{})
	go func() {
		defer close(read)
		n, o.readErr = f.ReadAt(buf, 0)
		if o.readErr == io.EOF {
			o.readErr = nil
		}
	}()
	o.info, o.statErr = f.Stat()
	<-read
	if o.statErr != nil || !o.info.Mode().IsRegular() || o.readErr != nil {
		return o
	}
	size := min(o.info.Size(), limit)
	switch {
	case int64(n) > size: // it shrank: as large as the handle said
		n = int(size)
	case int64(n) < size: // larger than the look saw, or grew after the read
		more := make([]byte, size-int64(n))
		m, err := f.ReadAt(more, int64(n))
		if err != nil && err != io.EOF {
			o.readErr = err
			return o
		}
		buf = append(buf[:n], more[:m]...)
		n += m
	}
	o.data = buf[:n]
	return o
}

// readAll reads the size bytes fstat gave for the opened file: over SFTP
// each Read is a request and a round trip, and io.ReadAll's first buffers
// of 512 bytes and a little more would ask for a 3 KB file in six, then
// once more to find the end. This asks once. With no size to go by, it
// reads to the end.
func readAll(r io.Reader, size int64) ([]byte, error) {
	if size <= 0 {
		return io.ReadAll(r)
	}
	b := make([]byte, size)
	n, err := io.ReadFull(r, b)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return b[:n], err
}

// readable refuses what Read must not read as the file: anything but a
// regular file, or one larger than any service_tokens file.
func readable(p string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		kind := "not a regular file"
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			kind = "a symbolic link"
		case fi.IsDir():
			kind = "a directory"
		}
		return &Error{"read", failure.Refused, fmt.Errorf("%s is %s; refusing to replace it (point path at the real file)", p, kind)}
	}
	if fi.Size() > MaxSize {
		return tooLarge(p, fi.Size())
	}
	return nil
}

func tooLarge(p string, size int64) error {
	return &Error{"read", failure.Refused, fmt.Errorf("%s is %d bytes, larger than any service_tokens file: point path at the service_tokens file", p, size)}
}
