//go:build !darwin

package audit

// DefaultSyslogSocket is where the local syslog daemon listens (journald
// or rsyslog on Linux).
const DefaultSyslogSocket = "/dev/log"
