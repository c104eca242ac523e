package main

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// syslogState is a script's stand-in for the syslog daemon.
type syslogState struct{ conn *net.UnixConn }

// syslogdCmd is the script command
//
//	syslogd listen | read
//
// listen opens a datagram socket like /dev/log and points the program's
// audit records at it (TEST_SYSLOG_SOCKET); read prints the messages
// received so far, one per line, for stdout to match. The program has
// exited by then, and a local datagram is queued when its send returns,
// so read takes what is queued without waiting.
func syslogdCmd(ts *testscript.TestScript, neg bool, args []string) {
	st := ts.Value("syslog").(*syslogState)
	if neg || len(args) != 1 {
		ts.Fatalf("usage: syslogd listen|read")
	}
	switch args[0] {
	case "listen":
		dir, err := os.MkdirTemp("", "syslogd") // short: socket paths are limited to 108 bytes
		ts.Check(err)
		ts.Defer(func() { os.RemoveAll(dir) })
		sock := filepath.Join(dir, "log")
		conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
		ts.Check(err)
		ts.Defer(func() { conn.Close() })
		st.conn = conn
		ts.Setenv("TEST_SYSLOG_SOCKET", sock)
	case "read":
		if st.conn == nil {
			ts.Fatalf("syslogd read: run syslogd listen first")
		}
		raw, err := st.conn.SyscallConn()
		ts.Check(err)
		buf := make([]byte, 65536)
		for {
			var n int
			var rerr error
			ts.Check(raw.Read(func(fd uintptr) bool {
				n, _, rerr = syscall.Recvfrom(int(fd), buf, syscall.MSG_DONTWAIT)
				return true
			}))
			if errors.Is(rerr, syscall.EAGAIN) {
				return
			}
			ts.Check(rerr)
			ts.Stdout().Write(append(buf[:n:n], '\n'))
		}
	default:
		ts.Fatalf("usage: syslogd listen|read")
	}
}

// noleakCmd is the script command
//
//	noleak FILE SERVICE_TOKENS [TOKEN_FILE...]
//
// It fails when FILE holds any token's secret (read from the token
// files) or any hash, salt or key from the service_tokens file.
func noleakCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: noleak FILE SERVICE_TOKENS [TOKEN_FILE...]")
	}
	text := ts.ReadFile(args[0])
	var secrets []string
	for _, tf := range args[2:] {
		tok, err := tokens.ParseBearer(strings.TrimSpace(ts.ReadFile(tf)))
		ts.Check(err)
		secrets = append(secrets, tok.Secret)
	}
	for _, line := range strings.Split(ts.ReadFile(args[1]), "\n") {
		_, hash, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		secrets = append(secrets, hash)
		// {PBKDF2_STRETCH}10000$salt$key and the like: each part alone.
		for _, part := range strings.FieldsFunc(hash, func(r rune) bool { return r == '$' || r == '}' }) {
			if len(part) >= 16 {
				secrets = append(secrets, part)
			}
		}
	}
	if len(secrets) == 0 {
		ts.Fatalf("noleak: no secrets or hashes to look for")
	}
	for _, s := range secrets {
		if strings.Contains(text, s) {
			ts.Fatalf("%s holds a secret or hash: %q", args[0], s)
		}
	}
}
