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
	fi, err := c.sftp.Lstat(p)
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
	defer closeRead(f)
	opened, err := f.Stat()
	if err != nil {
		return State{}, &Error{"read", "", fmt.Errorf("fstat %s: %w", p, err)}
	}
	if err := readable(p, opened); err != nil {
		return State{}, err
	}
	data, err := readAll(io.LimitReader(f, MaxSize+1), opened.Size())
	if err != nil {
		return State{}, &Error{"read", "", fmt.Errorf("read %s: %w", p, err)}
	}
	if len(data) > MaxSize {
		return State{}, tooLarge(p, int64(len(data)))
	}
	st := opened.Sys().(*sftp.FileStat)
	return State{Exists: true, Data: data, SHA256: digest.SHA256(data), UID: int(st.UID), GID: int(st.GID), Mode: opened.Mode().Perm()}, nil
}

// closeRead closes a file opened only to read it, without waiting for the
// node's answer: nothing that follows depends on it (the bytes and the
// handle's attributes are in), and waiting would cost a round trip. A
// close that fails leaves the handle to the end of the session, which
// closes it.
func closeRead(f io.Closer) { go f.Close() }

// readAll reads the size bytes fstat gave for the opened file: over SFTP
// each Read is a request and a round trip, and io.ReadAll's first buffers
// of 512 bytes and a little more would ask for a 3 KB file in six, then
// once more to find the end. This asks once. What was opened is read as
// large as it was when its handle said so (a file that grows meanwhile is
// read to that size, one that shrinks to its end); with no size to go by,
// to the end.
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
