package audit

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
)

func sample() Record {
	return Record{
		Time: "2026-11-29T21:30:00Z", User: "root", SudoUser: "bob", Host: "admin-1", Version: "1.0.0",
		Command: "create", Args: []string{"elastic/kibana", "kibana-1"}, Token: "elastic/kibana/kibana-1",
		File: "/etc/elasticsearch/service_tokens", SHA256Before: strings.Repeat("a", 64), SHA256After: strings.Repeat("b", 64),
		Nodes: []Node{
			{Name: "es-1", Result: "updated", SHA256: strings.Repeat("b", 64)},
			{Name: "es-2", Result: "failed", Reason: "connect 127.0.0.2:22: connection refused"},
		},
		Outcome: "1 updated, 1 failed", ExitCode: 1,
	}
}

// flags spells the limit as a command line does.
func flags(k remedy.Kind) string { return map[remedy.Kind]string{remedy.Limit: "--limit"}[k] }

func TestLine(t *testing.T) {
	r := sample()
	want := "create elastic/kibana/kibana-1 by root (sudo from bob) on admin-1: 1 updated, 1 failed"
	if got := r.Line(flags); got != want {
		t.Errorf("Line() = %q, want %q", got, want)
	}
	r = Record{Command: "push", User: "alice", Host: "h", Limit: "hot", Outcome: "3 unchanged"}
	if got, want := r.Line(flags), "push --limit hot by alice on h: 3 unchanged"; got != want {
		t.Errorf("Line() = %q, want %q", got, want)
	}
	r = Record{Command: "pull", Args: []string{"es-1"}, User: "alice", SudoUser: "alice", Host: "h", Outcome: "copied\nto x"}
	if got, want := r.Line(flags), "pull es-1 by alice on h: copied to x"; got != want {
		t.Errorf("Line() = %q, want %q (one line, no sudo note for the same user)", got, want)
	}
}

// The file is created 0600 and each run appends one line, keeping what
// was there.
func TestFileAppendsOneLinePerRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	for i := 0; i < 2; i++ {
		tr, err := Open(path, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Write(sample()); err != nil {
			t.Fatal(err)
		}
		tr.Close()
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", st.Mode().Perm())
	}
	// A third run appends to what is there.
	tr, err := Open(path, "")
	if err != nil {
		t.Fatal(err)
	}
	r := sample()
	r.Command = "delete"
	tr.Write(r)
	tr.Close()
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 3 || !strings.Contains(lines[2], `"command":"delete"`) {
		t.Fatalf("%d lines, want 3, the last for delete:\n%s", len(lines), data)
	}
	var got Record
	if err := json.Unmarshal([]byte(lines[1]), &got); err != nil {
		t.Fatal(err)
	}
	if got.Nodes[1].Result != "failed" || got.SudoUser != "bob" || got.Token != "elastic/kibana/kibana-1" {
		t.Errorf("record read back as %+v", got)
	}
	for _, key := range []string{"time", "user", "sudo_user", "host", "command", "args", "file", "sha256_before", "sha256_after", "nodes", "outcome"} {
		if !strings.Contains(lines[0], `"`+key+`":`) {
			t.Errorf("no %q in %s", key, lines[0])
		}
	}
}

func TestOpenFailsBeforeAnyChange(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "missing-dir", "audit.jsonl"), "")
	if err == nil || !strings.Contains(err.Error(), "cannot open the audit log") {
		t.Errorf("Open in a missing directory: %v", err)
	}
}

// Whoever can write the log's directory cannot send a root run's records
// into another file with a link, nor hang the run with a FIFO nobody
// reads: both fail at Open, before anything changes, and the link's
// target is untouched.
func TestOpenRefusesWhatIsNotTheLogFile(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("root's file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.jsonl")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.jsonl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		link: "is a symbolic link, which this tool does not follow: name the file itself",
		fifo: "a FIFO or a socket that nothing reads: name a file",
	} {
		tr, err := Open(path, "")
		if err == nil {
			tr.Write(Record{Command: "create"})
			t.Errorf("Open(%s) succeeded", filepath.Base(path))
		} else if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("Open(%s): %v; want it to name the path and say %q", filepath.Base(path), err, want)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "root's file\n" {
		t.Errorf("the link's target changed: %q", b)
	}
}

// A record that cannot be written is reported, and the other destination
// still gets it.
func TestWriteFailureIsReportedAndSyslogStillSent(t *testing.T) {
	sock, conn := listen(t)
	tr, err := Open(filepath.Join(t.TempDir(), "audit.jsonl"), sock)
	if err != nil {
		t.Fatal(err)
	}
	tr.file.Close() // the disk "fails"
	err = tr.Write(sample())
	if err == nil || !strings.Contains(err.Error(), "audit log ") {
		t.Errorf("Write to a closed file: %v", err)
	}
	if got := receive(t, conn); !strings.Contains(got, "create elastic/kibana/kibana-1") {
		t.Errorf("syslog got %q", got)
	}
}

// Syslog gets facility authpriv, severity notice, the tag and the line,
// through the socket the caller names.
func TestSyslog(t *testing.T) {
	sock, conn := listen(t)
	tr, err := Open("", sock)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Write(sample()); err != nil {
		t.Fatal(err)
	}
	got := receive(t, conn)
	// <85> = authpriv (10) * 8 + notice (5).
	re := regexp.MustCompile(`^<85>\w{3} [ \d]\d \d\d:\d\d:\d\d es-service-tokens\[\d+\]: create elastic/kibana/kibana-1 by root \(sudo from bob\) on admin-1: 1 updated, 1 failed\n$`)
	if !re.MatchString(got) {
		t.Errorf("syslog datagram %q does not match %s", got, re)
	}
}

func TestNoSyslogDaemon(t *testing.T) {
	tr, err := Open("", filepath.Join(t.TempDir(), "no-such-socket"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Write(sample()); err != nil {
		t.Errorf("Write without a syslog daemon: %v", err)
	}
}

func listen(t *testing.T) (string, *net.UnixConn) {
	t.Helper()
	// A short directory: socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "audit")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "log")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return sock, conn
}

// receive reads the datagram Write has already sent (a local datagram is
// in the receiver's buffer when the send returns).
func receive(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}
