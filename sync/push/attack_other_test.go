//go:build !linux

package push

import "syscall"

// The swap attack runs against Linux nodes only; elsewhere (macOS admin
// hosts) these tests only compile.

func ctime(st *syscall.Stat_t) syscall.Timespec { return st.Ctimespec }
