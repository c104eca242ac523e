package sftptest

import (
	"net"
	"sync"
	"time"
)

// delayedConn is a connection whose writes reach the peer latency after
// they were made, in order: a delay line on the server's side of a link
// whose round trip takes latency. The kernel has a way (netem on the
// loopback interface), but it would slow every other test on the machine.
type delayedConn struct {
	net.Conn
	latency time.Duration

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []delayedWrite
	err     error // the first write error: later writes return it
	closed  bool
	stopped chan struct{}
}

type delayedWrite struct {
	due  time.Time
	data []byte
}

func delayed(c net.Conn, latency time.Duration) net.Conn {
	d := &delayedConn{Conn: c, latency: latency, stopped: make(chan struct{})}
	d.cond = sync.NewCond(&d.mu)
	go d.deliver()
	return d
}

// Write queues p; it fails only once the connection has failed.
func (d *delayedConn) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return 0, d.err
	}
	if d.closed {
		return 0, net.ErrClosed
	}
	d.queue = append(d.queue, delayedWrite{time.Now().Add(d.latency), append([]byte(nil), p...)})
	d.cond.Signal()
	return len(p), nil
}

// Close delivers what is queued (a closing server's last words arrive
// late too), then closes the connection.
func (d *delayedConn) Close() error {
	d.mu.Lock()
	d.closed = true
	d.cond.Signal()
	d.mu.Unlock()
	<-d.stopped
	return d.Conn.Close()
}

// deliver writes each queued chunk when it is due, until the connection
// is closed and the queue empty, or a write fails.
func (d *delayedConn) deliver() {
	defer close(d.stopped)
	for {
		d.mu.Lock()
		for len(d.queue) == 0 && !d.closed {
			d.cond.Wait()
		}
		if len(d.queue) == 0 {
			d.mu.Unlock()
			return
		}
		w := d.queue[0]
		d.queue = d.queue[1:]
		d.mu.Unlock()
		time.Sleep(time.Until(w.due)) // the delay itself, not synchronisation
		if _, err := d.Conn.Write(w.data); err != nil {
			d.mu.Lock()
			d.err, d.queue = err, nil
			d.mu.Unlock()
			return
		}
	}
}
