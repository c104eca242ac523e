package remotefile

import (
	"encoding/binary"
	"fmt"
	"io"
)

// SFTP version 3 (draft-ietf-secsh-filexfer-02), as OpenSSH speaks it.
const (
	fxpOpen         = 3    // SSH_FXP_OPEN
	fxfCreat        = 0x08 // SSH_FXF_CREAT
	attrPermissions = 0x04 // SSH_FILEXFER_ATTR_PERMISSIONS
)

// maxPacket bounds an SFTP packet this client sends: pkg/sftp's are at
// most 32 KiB of data and a header, and servers refuse above 256 KiB.
const maxPacket = 256 << 10

// createdMode is the mode every file this tool creates on a node has from
// its first moment: the lock file, and the new file before its rename.
// The final owner, group and mode are set later, by handle.
const createdMode = 0o600

// privateCreate sits between pkg/sftp and the SSH channel to the node's
// sftp-server, and gives each OPEN that may create a file the
// permissions createdMode, so the server creates it 0600 (OpenSSH's
// sftp-server passes them to open(2) as its mode, under its umask).
//
// Why hand-written: pkg/sftp's client cannot send attributes with OPEN
// (its Client.open leaves them empty, and no released version has a way:
// github.com/pkg/sftp/issues/335, still open; the pull requests that
// would add one, #484 and #503, were closed unmerged). Without them the
// server creates the file at its own umask (0644 under OpenSSH's usual
// 022), and 0600 comes a round trip later: in between, a local user who
// can search the directory (inotify tells it the moment the name
// appears) can open the file, and read through that descriptor every
// byte written after, the bearer token in a consumer's env file among
// them. A descriptor keeps the access it was opened with, so no later
// chmod takes it back. The chmod to 0600 before the bytes stays
// (create), for servers that ignore OPEN's attributes.
//
// It also hands the channel one whole SFTP packet per write: pkg/sftp
// writes a packet's header and its payload (a WRITE's bytes, a SETSTAT's
// attributes) separately, which x/crypto/ssh sends as two SSH packets.
// That saves a packet for small requests only: a full 32 KiB WRITE is
// larger than one SSH channel packet anyway.
//
// pkg/sftp writes one packet at a time (under its connection's lock), so
// Write needs no lock of its own; a packet may still arrive in pieces,
// so it frames by the length prefix.
type privateCreate struct {
	w   io.WriteCloser
	buf []byte // the start of a packet not yet whole
}

func (p *privateCreate) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	done := 0
	for len(p.buf)-done >= 4 {
		n := binary.BigEndian.Uint32(p.buf[done:])
		if n > maxPacket {
			return 0, fmt.Errorf("an SFTP packet of %d bytes, more than %d: the stream is out of step", n, maxPacket)
		}
		end := done + 4 + int(n)
		if len(p.buf) < end {
			break
		}
		if _, err := p.w.Write(withCreatedMode(p.buf[done:end])); err != nil {
			p.buf = p.buf[:0]
			return 0, err
		}
		done = end
	}
	p.buf = append(p.buf[:0], p.buf[done:]...) // the start of the next packet, if any
	return len(b), nil
}

func (p *privateCreate) Close() error { return p.w.Close() }

// withCreatedMode is pkt (length prefix included) with, when it is an
// OPEN that may create its file and carries no attributes, the
// permissions createdMode; any other packet as it is.
func withCreatedMode(pkt []byte) []byte {
	// uint32 length, byte type, uint32 id, string path, uint32 pflags, uint32 attr flags
	if len(pkt) < 4+1+4+4 || pkt[4] != fxpOpen {
		return pkt
	}
	at := 4 + 1 + 4
	n := int64(binary.BigEndian.Uint32(pkt[at:]))
	at += 4
	if int64(len(pkt)) != int64(at)+n+8 {
		return pkt // attributes already, or not a packet this understands
	}
	at += int(n)
	pflags, flags := binary.BigEndian.Uint32(pkt[at:]), binary.BigEndian.Uint32(pkt[at+4:])
	if pflags&fxfCreat == 0 || flags != 0 {
		return pkt
	}
	out := make([]byte, 0, len(pkt)+4)
	out = binary.BigEndian.AppendUint32(out, uint32(len(pkt)+4-4))
	out = append(out, pkt[4:at+4]...)
	out = binary.BigEndian.AppendUint32(out, attrPermissions)
	return binary.BigEndian.AppendUint32(out, createdMode)
}
