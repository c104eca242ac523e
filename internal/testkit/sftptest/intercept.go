package sftptest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// SFTP version 3 packet types and status codes the interceptor needs
// (draft-ietf-secsh-filexfer-02 and OpenSSH's PROTOCOL).
const (
	fxpVersion  = 2
	fxpOpen     = 3
	fxpClose    = 4
	fxpWrite    = 6
	fxpLstat    = 7
	fxpFsetstat = 10
	fxpOpendir  = 11
	fxpStatus   = 101
	fxpHandle   = 102
	fxpExtended = 200

	fxOK            = 0
	fxFailure       = 4
	fxOpUnsupported = 8

	extPosixRename = "posix-rename@openssh.com"
	extFsync       = "fsync@openssh.com"

	// maxPacket bounds what the interceptor buffers for one packet.
	// pkg/sftp's server refuses requests above 256 KiB itself; this only
	// stops a corrupt length from making the interceptor allocate wildly.
	maxPacket = 1 << 20

	// drainTimeout bounds how long a drop waits for the server to finish
	// the requests that arrived before the fatal write.
	drainTimeout = 5 * time.Second
)

// sftpSession is one "subsystem sftp" channel: pkg/sftp's Server plus the
// interceptor around it.
//
//	client -> ch -> readLoop (inspect: count / answer / drop) -> pipe -> sftp.Server
//	sftp.Server -> writeFromServer (reassemble, rewrite VERSION) -> ch -> client
//
// Both the interceptor's own answers and the server's answers go to the
// channel through send, one whole packet at a time under outMu, so they never
// interleave inside a packet.
type sftpSession struct {
	c    *conn
	opts *Options
	ch   ssh.Channel
	pr   *io.PipeReader
	pw   *io.PipeWriter

	outMu sync.Mutex // held while one whole packet is written to ch

	wmu  sync.Mutex // guards wbuf
	wbuf []byte     // server output not yet forming a whole packet

	dropped atomic.Bool   // the connection is being cut: no orderly close
	served  chan struct{} // closed when the sftp server has stopped

	mu          sync.Mutex
	idle        *sync.Cond          // broadcast when pending reaches 0 or done is set
	pending     int                 // requests forwarded to the server, not yet answered
	done        bool                // the server has stopped; nothing more will be answered
	opening     map[uint32]string   // OPEN request id -> path, until its reply (Fsync only)
	files       map[string]*os.File // handle -> our descriptor on the same file (Fsync only)
	filesClosed bool
	dropReply   int64                // request id whose reply cuts the connection (DropAfterRename), or -1
	renames     map[uint32][2]string // posix-rename request id -> paths, until its reply (AfterRename)
}

func newSFTPSession(c *conn, ch ssh.Channel) *sftpSession {
	pr, pw := io.Pipe()
	s := &sftpSession{
		c:       c,
		opts:    &c.srv.opts,
		ch:      ch,
		pr:      pr,
		pw:      pw,
		served:  make(chan struct{}),
		opening: make(map[uint32]string),
		files:   make(map[string]*os.File),
		renames: make(map[uint32][2]string),

		dropReply: -1,
	}
	s.idle = sync.NewCond(&s.mu)
	return s
}

// sftpPipe is the io.ReadWriteCloser pkg/sftp's server runs on.
type sftpPipe struct{ s *sftpSession }

func (p sftpPipe) Read(b []byte) (int, error)  { return p.s.pr.Read(b) }
func (p sftpPipe) Write(b []byte) (int, error) { return p.s.writeFromServer(b) }

// Close is what pkg/sftp calls to stop its own receive loop on an internal
// error; closing the read side does exactly that.
func (p sftpPipe) Close() error { return p.s.pr.Close() }

func (s *sftpSession) run() {
	// Working directory "/" makes relative paths resolve as OpenSSH's
	// sftp-server does when started in /, independent of the test's cwd.
	srv, err := sftp.NewServer(sftpPipe{s}, sftp.WithServerWorkingDirectory("/"))
	if err != nil {
		s.ch.Close()
		return
	}

	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		s.readLoop()
	}()

	srv.Serve() // returns once the pipe reaches EOF and queued requests are done

	s.mu.Lock()
	s.done = true
	s.idle.Broadcast()
	s.mu.Unlock()
	close(s.served)
	s.pr.Close() // if the server stopped on its own, unblock readLoop's forwarding

	if !s.dropped.Load() {
		// Orderly end, like sshd when sftp-server exits.
		sendExitStatus(s.ch, 0)
		s.ch.Close()
	}
	<-readDone
	s.ch.Close()
	s.closeFiles()
}

type action int

const (
	actForward action = iota // pass to the sftp server
	actHandled               // answered (or swallowed) by the interceptor
	actDrop                  // cut the connection
)

// readLoop moves client packets to the server, one whole packet at a time,
// applying the faults on the way.
func (s *sftpSession) readLoop() {
	defer s.pw.Close()
	for {
		pkt, err := readPacket(s.ch)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.pw.CloseWithError(err)
			}
			return
		}
		s.c.srv.requests.Add(1)
		switch s.inspect(pkt) {
		case actForward:
			s.mu.Lock()
			s.pending++
			s.mu.Unlock()
			if _, err := s.pw.Write(pkt); err != nil {
				return
			}
		case actHandled:
		case actDrop:
			s.drop()
			return
		}
	}
}

// inspect decides what happens to one client packet (4-byte length, type,
// payload). Malformed packets are forwarded: the server answers them.
func (s *sftpSession) inspect(pkt []byte) action {
	body := pkt[5:]
	switch pkt[4] {
	case fxpLstat:
		s.c.srv.lstats.Add(1)
	case fxpOpendir:
		s.c.srv.opendirs.Add(1)
	case fxpWrite:
		return s.inspectWrite(body)
	case fxpFsetstat:
		return s.inspectFsetstat(body)
	case fxpExtended:
		return s.inspectExtended(body)
	case fxpOpen:
		if s.opts.CreateMode != 0 {
			setCreateMode(body, s.opts.CreateMode)
		}
		if !s.opts.Fsync {
			break
		}
		// Remember the path of each open, to fsync the file its handle
		// names.
		if id, name, _, ok := readIDString(body); ok {
			s.mu.Lock()
			s.opening[id] = localPath(name)
			s.mu.Unlock()
		}
	case fxpClose:
		if !s.opts.Fsync {
			break
		}
		if _, handle, _, ok := readIDString(body); ok {
			s.mu.Lock()
			if f := s.files[handle]; f != nil {
				f.Close()
				delete(s.files, handle)
			}
			s.mu.Unlock()
		}
	}
	return actForward
}

// inspectWrite counts a write, and drops or refuses it when the options
// say so (a lost connection, a full disk).
func (s *sftpSession) inspectWrite(body []byte) action {
	s.c.srv.writes.Add(1)
	if s.shouldDrop(s.c.writes.Add(1)) {
		return actDrop
	}
	if s.opts.FailWrites {
		if id, _, ok := readUint32(body); ok {
			s.send(statusPacket(id, fxFailure, "No space left on device"))
			return actHandled
		}
	}
	return actForward
}

// inspectFsetstat refuses a mode the options say the file system
// refuses (FailChmod).
func (s *sftpSession) inspectFsetstat(body []byte) action {
	if s.opts.FailChmod == 0 {
		return actForward
	}
	id, rest, ok := readUint32(body)
	if !ok {
		return actForward
	}
	_, rest, ok = readString(rest) // the handle
	if !ok {
		return actForward
	}
	flags, rest, ok := readUint32(rest)
	if !ok || flags != sshFileXferAttrPermissions {
		return actForward
	}
	if perm, _, ok := readUint32(rest); ok && os.FileMode(perm).Perm() == s.opts.FailChmod {
		s.send(statusPacket(id, fxFailure, "Operation not permitted"))
		return actHandled
	}
	return actForward
}

// sshFileXferAttrPermissions is the attribute flag of a mode alone.
const sshFileXferAttrPermissions = 0x4

// inspectExtended counts posix-rename and fsync requests, refuses them
// when the options leave them out, answers fsync itself, and marks a
// rename whose reply is to be lost.
func (s *sftpSession) inspectExtended(body []byte) action {
	srv := s.c.srv
	id, name, rest, ok := readIDString(body)
	if !ok {
		return actForward
	}
	switch name {
	case extPosixRename:
		srv.posixRenames.Add(1)
		if s.opts.NoPosixRename {
			s.send(statusPacket(id, fxOpUnsupported, "Operation unsupported"))
			return actHandled
		}
		s.hookRename(id, rest)
		if s.opts.DropAfterRename && srv.renameFired.CompareAndSwap(false, true) {
			s.mu.Lock()
			s.dropReply = int64(id)
			s.mu.Unlock()
		}
	case extFsync:
		srv.fsyncs.Add(1)
		if !s.opts.Fsync {
			s.send(statusPacket(id, fxOpUnsupported, "Operation unsupported"))
			return actHandled
		}
		handle, _, ok := readString(rest)
		if !ok {
			s.send(statusPacket(id, fxFailure, "Bad message"))
			return actHandled
		}
		s.send(s.fsync(id, handle))
		return actHandled
	}
	return actForward
}

// hookRename calls BeforeRename with a posix-rename's paths (rest is
// the request after its name) and remembers them for AfterRename.
func (s *sftpSession) hookRename(id uint32, rest []byte) {
	if s.opts.BeforeRename == nil && s.opts.AfterRename == nil {
		return
	}
	oldpath, rest, ok1 := readString(rest)
	newpath, _, ok2 := readString(rest)
	if !ok1 || !ok2 {
		return
	}
	if s.opts.BeforeRename != nil {
		s.opts.BeforeRename(oldpath, newpath)
	}
	if s.opts.AfterRename != nil {
		s.mu.Lock()
		s.renames[id] = [2]string{oldpath, newpath}
		s.mu.Unlock()
	}
}

// renamed calls AfterRename when body, a status reply, answers a
// posix-rename.
func (s *sftpSession) renamed(body []byte) {
	if s.opts.AfterRename == nil {
		return
	}
	id, rest, ok := readUint32(body)
	if !ok {
		return
	}
	s.mu.Lock()
	paths, isRename := s.renames[id]
	delete(s.renames, id)
	s.mu.Unlock()
	if !isRename {
		return
	}
	code, rest, _ := readUint32(rest)
	msg, _, _ := readString(rest)
	if code == fxOK {
		msg = ""
	}
	s.opts.AfterRename(paths[0], paths[1], msg)
}

func (s *sftpSession) shouldDrop(nthWrite int64) bool {
	d := s.opts.DropAtWrite
	if d <= 0 || nthWrite != int64(d) {
		return false
	}
	if s.opts.DropOnce {
		return s.c.srv.dropFired.CompareAndSwap(false, true)
	}
	return true
}

// drop cuts the TCP connection. The fatal write was never forwarded; the
// requests before it were, and pkg/sftp processes them in worker goroutines,
// so let the server drain them first. Otherwise what is on disk when the
// client sees the error would be a race, not "exactly the earlier writes".
// The channel is deliberately not closed: the client must see the transport
// die, not an orderly end of the subsystem.
func (s *sftpSession) drop() {
	s.dropped.Store(true)
	s.pw.Close()
	t := time.NewTimer(drainTimeout)
	defer t.Stop()
	select {
	case <-s.served:
	case <-t.C:
	}
	s.c.nc.Close()
}

// fsync implements fsync@openssh.com and returns the status reply.
func (s *sftpSession) fsync(id uint32, handle string) []byte {
	// OpenSSH's sftp-server handles requests in order, so an fsync covers
	// writes the client pipelined before it. pkg/sftp's server runs writes
	// in parallel workers; wait until it has answered everything forwarded
	// so far (the interceptor is the only path to it, so nothing new arrives
	// meanwhile).
	s.mu.Lock()
	for s.pending > 0 && !s.done {
		s.idle.Wait()
	}
	f := s.files[handle]
	s.mu.Unlock()

	if f == nil {
		return statusPacket(id, fxFailure, "Bad file descriptor")
	}
	// Only readLoop (this goroutine) closes entries of s.files before the
	// session ends, so f stays open while it is synced.
	if err := f.Sync(); err != nil {
		return statusPacket(id, fxFailure, err.Error())
	}
	return statusPacket(id, fxOK, "Success")
}

// writeFromServer receives pkg/sftp's output, which writes a packet's header
// and payload in separate calls, and forwards it one whole packet at a time.
func (s *sftpSession) writeFromServer(p []byte) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()

	s.wbuf = append(s.wbuf, p...)
	off := 0
	var err error
	for len(s.wbuf)-off >= 4 {
		n := int(binary.BigEndian.Uint32(s.wbuf[off:]))
		if n < 1 || n > maxPacket {
			err = fmt.Errorf("sftptest: server packet length %d out of range", n)
			break
		}
		if len(s.wbuf)-off < 4+n {
			break
		}
		pkt := s.wbuf[off : off+4+n : off+4+n]
		off += 4 + n
		out := s.fromServer(pkt)
		if out == nil {
			// A lost reply: the request was carried out, and the
			// connection dies before the client hears of it.
			s.dropped.Store(true)
			s.c.nc.Close()
			continue
		}
		if err = s.send(out); err != nil {
			break
		}
	}
	if err != nil {
		s.wbuf = nil
		return 0, err
	}
	s.wbuf = s.wbuf[:copy(s.wbuf, s.wbuf[off:])]
	return len(p), nil
}

// fromServer does the bookkeeping for one server packet and returns the
// packet to send, rewritten if it is SSH_FXP_VERSION.
func (s *sftpSession) fromServer(pkt []byte) []byte {
	// Every server packet answers exactly one forwarded request.
	s.mu.Lock()
	s.pending--
	if s.pending <= 0 {
		s.idle.Broadcast()
	}
	s.mu.Unlock()

	body := pkt[5:]
	switch pkt[4] {
	case fxpVersion:
		return s.rewriteVersion(pkt)

	case fxpHandle:
		if !s.opts.Fsync {
			break
		}
		id, handle, _, ok := readIDString(body)
		if !ok {
			break
		}
		s.mu.Lock()
		name, ok := s.opening[id]
		delete(s.opening, id)
		if ok && !s.filesClosed {
			// The client has not seen the handle yet, so the file is still
			// at the path it was opened by.
			if f := openForSync(name); f != nil {
				s.files[handle] = f
			}
		}
		s.mu.Unlock()

	case fxpStatus:
		s.renamed(body)
		if id, _, ok := readUint32(body); ok {
			s.mu.Lock()
			lost := s.dropReply == int64(id)
			s.mu.Unlock()
			if lost {
				return nil
			}
		}
		if !s.opts.Fsync {
			break
		}
		if id, _, ok := readUint32(body); ok {
			s.mu.Lock()
			delete(s.opening, id) // a failed OPEN
			s.mu.Unlock()
		}
	}
	return pkt
}

// rewriteVersion applies NoPosixRename and Fsync to the extension list of
// SSH_FXP_VERSION (uint32 version, then name/data string pairs). This is what
// replaces pkg/sftp's package-level SetSFTPExtensions, which would leak
// between parallel tests.
func (s *sftpSession) rewriteVersion(pkt []byte) []byte {
	version, rest, ok := readUint32(pkt[5:])
	if !ok {
		return pkt
	}
	out := []byte{0, 0, 0, 0, fxpVersion}
	out = binary.BigEndian.AppendUint32(out, version)
	haveFsync := false
	for len(rest) > 0 {
		var name, data string
		var ok1, ok2 bool
		name, rest, ok1 = readString(rest)
		data, rest, ok2 = readString(rest)
		if !ok1 || !ok2 {
			return pkt // malformed: leave it to the client to complain
		}
		switch {
		case name == extPosixRename && s.opts.NoPosixRename:
			continue
		case name == extFsync:
			if !s.opts.Fsync {
				continue // we answer it with OP_UNSUPPORTED, so do not claim it
			}
			haveFsync = true
		}
		out = appendString(appendString(out, name), data)
	}
	if s.opts.Fsync && !haveFsync {
		out = appendString(appendString(out, extFsync), "1")
	}
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	return out
}

func (s *sftpSession) send(pkt []byte) error {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	_, err := s.ch.Write(pkt)
	return err
}

func (s *sftpSession) closeFiles() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.filesClosed = true
	for h, f := range s.files {
		f.Close()
		delete(s.files, h)
	}
}

// openForSync opens a second descriptor on a file the sftp server has just
// opened, since pkg/sftp keeps its *os.File private. fsync on any descriptor
// flushes the inode. Non-regular files are skipped (opening a FIFO would
// block); the fsync of such a handle then fails, as it would be pointless.
func openForSync(name string) *os.File {
	fi, err := os.Stat(name)
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	// Read-only suffices for fsync; write-only covers files the test user
	// may write but not read (irrelevant as root, but harmless).
	for _, flag := range []int{os.O_RDONLY, os.O_WRONLY} {
		if f, err := os.OpenFile(name, flag, 0); err == nil {
			return f
		}
	}
	return nil
}

// localPath resolves an SFTP path the way pkg/sftp does with working
// directory "/".
func localPath(p string) string {
	if !path.IsAbs(p) {
		return path.Join("/", p)
	}
	return path.Clean(p)
}

// readPacket reads one length-prefixed SFTP packet, prefix included.
func readPacket(r io.Reader) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < 1 || n > maxPacket {
		return nil, fmt.Errorf("sftptest: client packet length %d out of range", n)
	}
	pkt := make([]byte, 4+n)
	copy(pkt, hdr[:])
	if _, err := io.ReadFull(r, pkt[4:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // EOF inside a packet is not a clean end
		}
		return nil, err
	}
	return pkt, nil
}

func statusPacket(id, code uint32, msg string) []byte {
	b := []byte{0, 0, 0, 0, fxpStatus}
	b = binary.BigEndian.AppendUint32(b, id)
	b = binary.BigEndian.AppendUint32(b, code)
	b = appendString(b, msg)
	b = appendString(b, "") // language tag
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

func readUint32(b []byte) (uint32, []byte, bool) {
	if len(b) < 4 {
		return 0, b, false
	}
	return binary.BigEndian.Uint32(b), b[4:], true
}

func readString(b []byte) (string, []byte, bool) {
	n, rest, ok := readUint32(b)
	if !ok || uint64(len(rest)) < uint64(n) {
		return "", b, false
	}
	return string(rest[:n]), rest[n:], true
}

// readIDString reads a request id and the string after it: the start of
// most packets.
func readIDString(b []byte) (id uint32, s string, rest []byte, ok bool) {
	id, rest, ok = readUint32(b)
	if !ok {
		return 0, "", b, false
	}
	s, rest, ok = readString(rest)
	return id, s, rest, ok
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// setCreateMode overwrites, in an OPEN's body (id, path, pflags, attrs),
// the permissions its attributes ask for, when they ask for those alone
// (as the tool's OPEN does).
func setCreateMode(body []byte, mode os.FileMode) {
	_, _, rest, ok := readIDString(body)
	if !ok || len(rest) != 4+4+4 || binary.BigEndian.Uint32(rest[4:]) != 0x04 { // pflags, attr flags = PERMISSIONS, perms
		return
	}
	binary.BigEndian.PutUint32(rest[8:], uint32(mode.Perm()))
}
