package localproc

import (
	"bytes"
	"fmt"
	"os"
	"strings"
)

// hostID is this kernel's boot (a random id per boot) and the pid
// namespace, with the machine id. A boot id alone already differs between
// machines, even cloned ones. Of hashes it (private): none of it leaves
// this machine as it is.
func hostID() (string, error) {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", err
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return "", err
	}
	machine, err := os.ReadFile("/etc/machine-id")
	if err != nil {
		machine, _ = os.ReadFile("/var/lib/dbus/machine-id")
	}
	return "linux/" + strings.TrimSpace(string(machine)) + "/" + strings.TrimSpace(string(boot)) + "/" + ns, nil
}

// startOf reads field 22 of /proc/PID/stat: the start time in clock ticks
// since boot, and field 3, the state. The command name (field 2) may hold
// spaces and parentheses, so fields are counted after its last ')'.
func startOf(pid int) (start, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return start{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return start{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	// f[0] is field 3 of proc(5), f[19] field 22.
	f := strings.Fields(string(b[i+1:]))
	const state, startTime = 0, 19
	if len(f) <= startTime {
		return start{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	return start{start: f[startTime], zombie: f[state] == "Z" || f[state] == "X"}, nil
}
