package localproc

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// hostID is the machine's hardware UUID and its boot time: macOS has no
// pid namespaces, and a pid means nothing across boots. Of hashes it
// (private): none of it leaves this machine as it is.
func hostID() (string, error) {
	uuid, err := unix.Sysctl("kern.uuid")
	if err != nil {
		return "", err
	}
	boot, err := unix.SysctlTimeval("kern.boottime")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("darwin/%s/%d.%06d", uuid, boot.Sec, boot.Usec), nil
}

// sZomb is p_stat of a process that has exited but is not yet reaped
// (<sys/proc.h>).
const sZomb = 5

// startOf asks the kernel for the process's start time (kern.proc.pid).
func startOf(pid int) (start, error) {
	kp, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil {
		return start{}, err
	}
	if int(kp.Proc.P_pid) != pid {
		return start{}, fmt.Errorf("kern.proc.pid %d: no such process", pid)
	}
	t := kp.Proc.P_starttime
	return start{start: fmt.Sprintf("%d.%06d", t.Sec, t.Usec), zombie: kp.Proc.P_stat == sZomb}, nil
}
