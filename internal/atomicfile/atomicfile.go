// Package atomicfile replaces or creates local files so that a reader sees
// either the old content or the new, never a mix, and a crash leaves no
// partial file behind.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Options says what the new file's attributes are. UID and GID of -1 leave
// the owner or group as the temporary file was created (the caller's).
type Options struct {
	Perm fs.FileMode
	UID  int
	GID  int
	// OwnerBestEffort ignores a failure to set the owner or group, as
	// Elasticsearch's CLI does; the caller compares attributes afterwards.
	OwnerBestEffort bool
}

// Write replaces path with data: a temporary file in the same directory is
// written, flushed to disk, given its owner, group and mode, and renamed
// over path; then the directory is flushed so the rename survives a crash.
func Write(path string, data []byte, opt Options) (err error) {
	dir, tmp, err := temp(path, data)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// Owner before mode: chown may clear set-id bits, and the mode must be
	// exactly what was asked.
	if opt.UID >= 0 || opt.GID >= 0 {
		if cerr := tmp.Chown(opt.UID, opt.GID); cerr != nil && !opt.OwnerBestEffort {
			return fmt.Errorf("set owner of %s: %w", tmp.Name(), cerr)
		}
	}
	if err = tmp.Chmod(opt.Perm); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// WriteNew creates path with data and mode perm, and fails with an error
// satisfying errors.Is(err, fs.ErrExist) if path already exists. The file
// appears complete or not at all: it is written under a temporary name and
// hard-linked into place, which unlike rename never replaces a file.
func WriteNew(path string, data []byte, perm fs.FileMode) (err error) {
	if _, err := os.Lstat(path); err == nil {
		return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
	}
	dir, tmp, err := temp(path, data)
	if err != nil {
		return err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if err = os.Link(tmp.Name(), path); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) && errors.Is(le.Err, fs.ErrExist) {
			return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
		}
		return err
	}
	return syncDir(dir)
}

// temp writes data to a new file (mode 0600) next to path and flushes it
// to disk. The caller removes it if it does not rename or link it.
func temp(path string, data []byte) (dir string, f *os.File, err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err = os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return "", nil, err
	}
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", nil, err
	}
	return dir, f, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("flush directory %s: %w", dir, err)
	}
	return nil
}
