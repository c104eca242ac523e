package sshconn

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// fakeConn answers keep-alives, or never does once dead is set.
type fakeConn struct {
	dead    atomic.Bool
	asked   atomic.Int32
	closed  chan struct{}
	unblock chan struct{}
	seen    chan struct{} // one value per keep-alive
}

func newFake() *fakeConn {
	return &fakeConn{closed: make(chan struct{}), unblock: make(chan struct{}), seen: make(chan struct{}, 1000)}
}

func (f *fakeConn) SendRequest(name string, wantReply bool, _ []byte) (bool, []byte, error) {
	f.asked.Add(1)
	f.seen <- struct{}{}
	if name != "keepalive@openssh.com" || !wantReply {
		panic("unexpected request " + name)
	}
	if f.dead.Load() {
		<-f.unblock // a server that never answers, until the connection closes
		return false, nil, errors.New("closed")
	}
	return false, nil, nil // OpenSSH refuses the request; a refusal is an answer
}

func (f *fakeConn) Wait() error { <-f.closed; return nil }

func (f *fakeConn) Close() error {
	select {
	case <-f.closed:
	default:
		close(f.closed)
		close(f.unblock)
	}
	return nil
}

func TestKeepAliveClosesSilentConnection(t *testing.T) {
	f := newFake()
	f.dead.Store(true)
	go keepAlive(f, 5*time.Millisecond, 3)
	select {
	case <-f.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("a server that never answers was not disconnected")
	}
	if n := f.asked.Load(); n != 1 {
		t.Errorf("sent %d keep-alives while one was unanswered; want 1 outstanding at a time", n)
	}
}

func TestKeepAliveKeepsAnsweringConnection(t *testing.T) {
	f := newFake()
	// Three intervals without an answer close the connection; every one
	// here is answered at once, so twenty intervals later it is still open.
	go keepAlive(f, 20*time.Millisecond, 3)
	for i := 0; i < 20; i++ {
		select {
		case <-f.seen:
		case <-f.closed:
			t.Fatalf("closed after %d answered keep-alives", f.asked.Load())
		case <-time.After(10 * time.Second):
			t.Fatal("no keep-alive sent")
		}
	}
	select {
	case <-f.closed:
		t.Fatal("closed although every keep-alive was answered")
	default:
	}
	f.Close()
}
