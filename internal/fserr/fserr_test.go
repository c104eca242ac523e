package fserr

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWithoutPath(t *testing.T) {
	_, err := os.Open(filepath.Join(t.TempDir(), "missing"))
	if got := WithoutPath(err); got.Error() != "no such file or directory" || !errors.Is(got, fs.ErrNotExist) {
		t.Errorf("WithoutPath(%v) = %v, want the bare cause", err, got)
	}
	wrapped := fmt.Errorf("loading: %w", err)
	if got := WithoutPath(wrapped); got.Error() != "no such file or directory" {
		t.Errorf("WithoutPath of a wrapped PathError = %v", got)
	}
	plain := errors.New("plain")
	if got := WithoutPath(plain); got != plain {
		t.Errorf("WithoutPath(plain) = %v, want it unchanged", got)
	}
}
