package push

import "syscall"

// ctime is the inode's change time: any chown or chmod of the victim moves it.
func ctime(st *syscall.Stat_t) syscall.Timespec { return st.Ctim }
