package audit

// DefaultSyslogSocket is where the local syslog daemon listens: macOS's
// syslogd has no /dev/log; its socket passes records to the system log.
const DefaultSyslogSocket = "/var/run/syslog"
