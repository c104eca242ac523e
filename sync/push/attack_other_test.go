//go:build !linux

package push

import (
	"errors"
	"syscall"
)

// The swap attack runs against Linux nodes only; elsewhere (macOS admin
// hosts) these tests only compile.

func exchange(a, b string) error { return errors.New("RENAME_EXCHANGE is Linux-only") }

func ctime(st *syscall.Stat_t) syscall.Timespec { return st.Ctimespec }
