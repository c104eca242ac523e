// Package fserr shapes file-system errors for messages that already name
// the file: "cannot read /etc/x: permission denied", not the path twice.
package fserr

import (
	"errors"
	"io/fs"
)

// WithoutPath is the cause inside a *fs.PathError (its Op and Path
// dropped), or err itself when it holds none.
func WithoutPath(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}
