// Package localproc tells whether a process that once ran on this machine
// has provably ended, so that a lock it left behind can be taken at once
// rather than after its lease.
//
// A process is named by three things: its host, its pid and its start
// time. The host is the running kernel and pid namespace, not the host
// name: two containers from one image share a host name and even
// /etc/machine-id, but not a pid namespace, and a pid means nothing
// across them. The start time tells a pid that was reused by a new
// process from the process that held it.
//
// Only "ended" is ever proved. Everything else (another host, a system
// this package cannot question, a process it may not look at) is
// Unknown, and a lock held by an unknown process waits for its lease.
package localproc

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
)

// Process names a process for later questions about it.
type Process struct {
	// HostID is the kernel instance and pid namespace the pid belongs to;
	// empty where this system cannot tell.
	HostID string
	PID    int
	// Start is the process's start time as the kernel keeps it (an opaque
	// string, only ever compared); empty where this system cannot tell.
	Start string
}

// Of names a running process of this host, as Self names this one.
func Of(pid int) (Process, error) {
	raw, err := hostID()
	if err != nil {
		return Process{}, err
	}
	host := private(raw)
	st, err := startOf(pid)
	if err != nil {
		return Process{}, err
	}
	return Process{HostID: host, PID: pid, Start: st.start}, nil
}

// Self is this process, with empty HostID and Start where this system
// cannot tell (then no lock it holds can be proved abandoned, and it
// waits for leases like any run on another host).
var Self = sync.OnceValue(func() Process {
	p, err := Of(os.Getpid())
	if err != nil {
		return Process{PID: os.Getpid()}
	}
	return p
})

// Verdict is what this machine knows of a process.
type Verdict int

// The verdicts.
const (
	// Unknown: it may be running (another host, or this system cannot
	// question it).
	Unknown Verdict = iota
	// Running: its pid is a process started when it was.
	Running
	// Ended: no process has its pid, or a process started at another
	// time has it now, or it is a zombie.
	Ended
)

// Check tells whether p is still running, with the reason in words for a
// message ("no process 4242 on this host").
func Check(p Process) (Verdict, string) {
	self := Self()
	switch {
	case self.HostID == "":
		return Unknown, "this system cannot tell whether it is still running"
	case p.HostID == "" || p.Start == "" || p.PID <= 0:
		return Unknown, "its lock does not say which process it is"
	case p.HostID != self.HostID && !hashed(p.HostID):
		return Unknown, "its lock was written by an older version of this tool, whose host ids this one does not compare"
	case p.HostID != self.HostID:
		return Unknown, "it ran on another host (or container), where this run cannot look"
	}
	if !exists(p.PID) {
		return Ended, fmt.Sprintf("no process %d on this host", p.PID)
	}
	st, err := startOf(p.PID)
	if err != nil {
		if !exists(p.PID) { // it ended between the two looks
			return Ended, fmt.Sprintf("no process %d on this host", p.PID)
		}
		return Unknown, fmt.Sprintf("process %d cannot be looked at (%v)", p.PID, err)
	}
	switch {
	case st.start != p.Start:
		return Ended, fmt.Sprintf("pid %d is now another process", p.PID)
	case st.zombie:
		return Ended, fmt.Sprintf("process %d has exited", p.PID)
	}
	return Running, fmt.Sprintf("process %d is still running on this host", p.PID)
}

// start is what the kernel says of a live pid.
type start struct {
	start  string
	zombie bool // ended, not yet reaped by its parent
}

// hostKey keys private's hash: fixed, and this application's own, as
// machine-id(5) asks of anyone who needs an id tied to the machine.
const hostKey = "es-service-tokens host id v1"

// private is the host as the lock file on every node carries it: a keyed
// hash of what identifies this host (its machine id or hardware UUID, its
// boot, its pid namespace), which compares as the whole does but shows
// none of it. machine-id(5): the id "should be considered
// "confidential", and must not be exposed in untrusted environments";
// the lock's holder is named for people by its host name instead.
func private(raw string) string {
	system, _, _ := strings.Cut(raw, "/") // "linux", "darwin": kept, for people reading a lock
	m := hmac.New(sha256.New, []byte(hostKey))
	m.Write([]byte(raw))
	return system + "/" + hex.EncodeToString(m.Sum(nil)[:16])
}

// hashed reports whether a host id is in private's form, "system/" and 32
// hex digits; older versions wrote the raw id there.
func hashed(id string) bool {
	_, h, ok := strings.Cut(id, "/")
	if !ok || len(h) != 32 {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil
}
