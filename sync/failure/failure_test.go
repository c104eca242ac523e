package failure_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/pkg/sftp"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/remotefile"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
)

// Every failure is described as "KIND: message" with the kind set where
// the error was made, whatever the message's words.
func TestDescribe(t *testing.T) {
	bg := context.Background()
	cancelled, cancel := context.WithCancel(bg)
	cancel()
	expired, cancel2 := context.WithDeadline(bg, time.Unix(0, 0))
	defer cancel2()
	cases := []struct {
		ctx  context.Context
		err  error
		kind failure.Kind
		msg  string
	}{
		{bg, &sshconn.Error{Step: "host key", Addr: "a:22", Err: errors.New("HOST KEY CHANGED")}, failure.HostKey, "host key a:22: HOST KEY CHANGED"},
		{bg, &sshconn.Error{Step: "auth", Addr: "a:22", Err: errors.New("refused every key")}, failure.Auth, "auth a:22: refused every key"},
		{bg, &sshconn.Error{Step: "connect", Addr: "a:22", Err: errors.New("connection refused")}, failure.Unreachable, "unreachable: connect a:22: connection refused"},
		{bg, &sshconn.Error{Step: "handshake", Addr: "a:22", Err: errors.New("no SSH handshake within 1s")}, failure.Unreachable, "unreachable: handshake a:22: no SSH handshake within 1s"},
		{bg, fmt.Errorf("bastion: %w", &sshconn.Error{Step: "host key", Addr: "b:22", Err: errors.New("x")}), failure.HostKey, "host key: bastion: host key b:22: x"},
		// The words "sudo" or "permission" in a message decide nothing.
		{bg, &remotefile.Error{Step: "sudo", Kind: failure.ConnectionLost, Err: errors.New("sudo: permission")}, failure.ConnectionLost, "connection lost: sudo: sudo: permission"},
		{bg, &remotefile.Error{Step: "permission", Kind: failure.Permission, Err: errors.New("setting owner root needs root")}, failure.Permission, "permission: setting owner root needs root"},
		{bg, &remotefile.Error{Step: "read", Err: fmt.Errorf("stat x: %w", sftp.ErrSSHFxConnectionLost)}, failure.ConnectionLost, "connection lost: read: stat x: connection lost"},
		{bg, &remotefile.Error{Step: "write", Err: fmt.Errorf("create x: %w", os.ErrPermission)}, failure.Permission, "permission: write: create x: permission denied"},
		{bg, &remotefile.Error{Step: "write", Err: errors.New("Failure (read-only file system)")}, failure.RemoteIO, "remote I/O: write: Failure (read-only file system)"},
		{bg, fmt.Errorf("read-back: %w", io.ErrUnexpectedEOF), failure.ConnectionLost, "connection lost: read-back: unexpected EOF"},
		{bg, failure.New(failure.Locked, errors.New("locked by a@b (pid 1)")), failure.Locked, "locked by a@b (pid 1)"},
		{bg, errors.New("two\nlines"), failure.RemoteIO, "remote I/O: two lines"},
		// The run's end wins over what the interrupted request saw.
		{cancelled, &sshconn.Error{Step: "connect", Addr: "a:22", Err: errors.New("closed")}, failure.Interrupted, "interrupted: connect a:22: closed"},
		{expired, &remotefile.Error{Step: "read", Err: sftp.ErrSSHFxConnectionLost}, failure.Timeout, "timeout: read: connection lost"},
	}
	node, cancel3 := context.WithDeadlineCause(bg, time.Unix(0, 0), remedy.Errorf(remedy.Timeout, "no result within 1m0s (%v)", remedy.Timeout))
	defer cancel3()
	cases = append(cases, struct {
		ctx  context.Context
		err  error
		kind failure.Kind
		msg  string
	}{node, node.Err(), failure.Timeout, "timeout: no result within 1m0s (-T)"})
	// The caller phrases the options a message names (here -T).
	words := func(k remedy.Kind) string { return map[remedy.Kind]string{remedy.Timeout: "-T"}[k] }
	for _, c := range cases {
		kind, msg := failure.Describe(c.ctx, c.err)
		if got := msg.Phrase(words); kind != c.kind || got != c.msg {
			t.Errorf("Describe(%v) = %q, %q; want %q, %q", c.err, kind, got, c.kind, c.msg)
		}
	}
}

func TestNewKeepsNil(t *testing.T) {
	if failure.New(failure.Locked, nil) != nil {
		t.Error("New(kind, nil) is not nil")
	}
}
