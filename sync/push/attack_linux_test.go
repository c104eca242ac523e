package push

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// exchange swaps two names atomically: renameat2(RENAME_EXCHANGE), the
// swap attacker's move.
func exchange(a, b string) error {
	return unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
}

// ctime is the inode's change time: any chown or chmod of the victim moves it.
func ctime(st *syscall.Stat_t) syscall.Timespec { return st.Ctim }
