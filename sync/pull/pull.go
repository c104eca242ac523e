// Package pull copies one node's service_tokens file, or one of its
// backups, to a new local file: how a lost local copy is recovered from
// the cluster, or an old file restored (then pushed as usual).
package pull

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/es-service-tokens/es-service-tokens/internal/atomicfile"
	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/internal/fserr"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/backup"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/remotefile"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// Options are one pull: which node's file (or backup) to copy where, and
// how to reach the node.
type Options struct {
	Node *inventory.Node
	Out  string // a new local file; never overwritten
	// Backup is "" for the node's file, "latest" for its newest backup, or
	// a backup's timestamp.
	Backup string
	Dialer *sshconn.Dialer
}

// Result is what was copied.
type Result struct {
	Path   string // on the node
	SHA256 string
	Tokens int
}

// NotLoadableError is a node file Elasticsearch would not load: copying
// it would only spread the damage.
type NotLoadableError struct {
	Path string
	Err  error
}

func (e *NotLoadableError) Error() string {
	// Only the line and what is wrong: through a link the file read may
	// be any file on the node.
	return fmt.Sprintf("%s is not a file Elasticsearch would load (%s); not copied", e.Path, tokens.Redacted(e.Err))
}

// LocalError is a failure on the local side: the output file.
type LocalError struct {
	Op     string // "create" or "read back"
	Exists bool   // Out exists already: errors.Is(err, fs.ErrExist)
	Err    error
}

func (e *LocalError) Error() string { return e.Err.Error() }
func (e *LocalError) Unwrap() error { return e.Err }

// Is makes an existing output file fs.ErrExist.
func (e *LocalError) Is(target error) bool { return e.Exists && target == fs.ErrExist }

func outExists(out string) error {
	return &LocalError{"create", true, fmt.Errorf("%s already exists; pull never overwrites a file: give a new path", out)}
}

// Run copies the node's file to opts.Out, over one connection, and reads
// the copy back. Node failures carry their failure kind; a local one is a
// *LocalError, a file Elasticsearch would not load a *NotLoadableError.
func Run(ctx context.Context, opts Options) (Result, error) {
	if opts.Dialer == nil || opts.Node == nil {
		return Result{}, errors.New("pull: no node, or no Dialer to reach it")
	}
	if _, err := os.Lstat(opts.Out); err == nil {
		return Result{}, outExists(opts.Out)
	}
	c, err := remotefile.Dial(ctx, opts.Dialer, opts.Node)
	if err != nil {
		return Result{}, err
	}
	defer c.Close()
	p, err := source(c, opts.Node, opts.Backup)
	if err != nil {
		return Result{}, err
	}
	st, err := c.Read(p)
	if err != nil {
		return Result{}, err
	}
	if !st.Exists {
		return Result{}, failure.New(failure.RemoteIO, fmt.Errorf("%s does not exist on the node", p))
	}
	f, err := tokens.Parse(st.Data)
	if err != nil {
		return Result{}, &NotLoadableError{p, err}
	}
	if err := writeCopy(opts.Out, st); err != nil {
		return Result{}, err
	}
	return Result{Path: p, SHA256: st.SHA256, Tokens: f.Len()}, nil
}

// source is the path on the node to copy: its file, or the backup asked.
func source(c *remotefile.Conn, n *inventory.Node, which string) (string, error) {
	if which == "" {
		return n.Path, nil
	}
	stamps, err := backup.List(c, n.Path)
	if err != nil {
		return "", err
	}
	switch {
	case len(stamps) == 0:
		return "", failure.New(failure.RemoteIO, fmt.Errorf("the node has no backup of %s (backups: N in the inventory keeps them)", n.Path))
	case which == "latest":
		return n.Path + "." + stamps[0] + ".bak", nil
	case slices.Contains(stamps, which):
		return n.Path + "." + which + ".bak", nil
	}
	return "", failure.New(failure.RemoteIO, fmt.Errorf("the node has no backup %s of %s; it has %v", which, n.Path, stamps))
}

// writeCopy writes st to a new local file out and reads it back.
func writeCopy(out string, st remotefile.State) error {
	if err := atomicfile.WriteNew(out, st.Data, 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return outExists(out)
		}
		return &LocalError{"create", false, fmt.Errorf("cannot create %s: %v", out, fserr.WithoutPath(err))}
	}
	written, err := os.ReadFile(out)
	if err != nil || digest.SHA256(written) != st.SHA256 {
		os.Remove(out)
		return &LocalError{"read back", false, fmt.Errorf("%s does not read back with sha256:%s; removed it", out, digest.Short(st.SHA256))}
	}
	return nil
}
