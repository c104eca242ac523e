package remotefile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pkg/sftp"
)

// packet is an SFTP packet of type typ: its length prefix, then body.
func packet(typ byte, body ...[]byte) []byte {
	b := []byte{typ}
	for _, x := range body {
		b = append(b, x...)
	}
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func str(s string) []byte { return append(u32(uint32(len(s))), s...) }

// writes keeps each Write as it came.
type writes struct{ got [][]byte }

func (w *writes) Write(b []byte) (int, error) {
	w.got = append(w.got, bytes.Clone(b))
	return len(b), nil
}
func (w *writes) Close() error { return nil }

// An OPEN that may create its file leaves with mode 0600; every other
// packet leaves as it came, and each leaves whole, in one write, however
// pkg/sftp split it.
func TestPrivateCreate(t *testing.T) {
	const read, write, creat, excl, trunc = 0x01, 0x02, 0x08, 0x20, 0x10
	id := u32(7)
	in := [][]byte{
		packet(1, u32(3)), // INIT
		packet(fxpOpen, id, str("/etc/elasticsearch/.service_tokens.es-tmp-1"), u32(write|creat|excl), u32(0)),
		packet(fxpOpen, id, str("/etc/passwd"), u32(read), u32(0)),
		packet(fxpOpen, id, str("/x"), u32(write|creat|trunc), u32(attrPermissions), u32(0o644)), // has its own
		packet(6, id, str("handle"), u32(0), u32(0), str("bytes of a WRITE")),
		packet(fxpOpen, id, str(""), u32(write|creat), u32(0)),
	}
	want := [][]byte{
		in[0],
		packet(fxpOpen, id, str("/etc/elasticsearch/.service_tokens.es-tmp-1"), u32(write|creat|excl), u32(attrPermissions), u32(0o600)),
		in[2], in[3], in[4],
		packet(fxpOpen, id, str(""), u32(write|creat), u32(attrPermissions), u32(0o600)),
	}
	stream := bytes.Join(in, nil)
	for round := range 200 {
		w := &writes{}
		p := &privateCreate{w: w}
		for rest := stream; len(rest) > 0; {
			n := 1 + rand.IntN(min(len(rest), 1+round%40))
			if k, err := p.Write(rest[:n]); k != n || err != nil {
				t.Fatalf("Write = %d, %v", k, err)
			}
			rest = rest[n:]
		}
		if len(w.got) != len(want) {
			t.Fatalf("round %d: %d writes, want one per packet (%d)", round, len(w.got), len(want))
		}
		for i := range want {
			if !bytes.Equal(w.got[i], want[i]) {
				t.Errorf("round %d, packet %d:\n got %x\nwant %x", round, i, w.got[i], want[i])
			}
		}
	}
}

// pipeRWC is the server's end of two pipes.
type pipeRWC struct {
	io.Reader
	io.WriteCloser
}

// pkg/sftp's own client, through privateCreate, to pkg/sftp's server:
// files created at once from many goroutines, with reads alongside, come
// out 0600 and whole. This is what fails first if an upgrade of pkg/sftp
// changes how it writes its packets.
func TestPrivateCreateUnderPkgSFTP(t *testing.T) {
	clientIn, serverOut := io.Pipe()
	serverIn, clientOut := io.Pipe()
	srv, err := sftp.NewServer(pipeRWC{serverIn, serverOut})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		srv.Serve()
		serverOut.Close() // the client's reader ends with the server
	}()
	c, err := sftp.NewClientPipe(clientIn, &privateCreate{w: clientOut})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := t.TempDir()
	data := bytes.Repeat([]byte("0123456789abcdef"), 6000) // 96 KiB: several WRITEs each
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			f, err := c.OpenFile(filepath.Join(dir, fmt.Sprintf("f%d", i)), os.O_WRONLY|os.O_CREATE|os.O_EXCL)
			if err != nil {
				errs <- err
				return
			}
			defer f.Close()
			if _, err := f.WriteAt(data, 0); err != nil {
				errs <- err
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := c.Lstat(dir); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range 20 {
		p := filepath.Join(dir, fmt.Sprintf("f%d", i))
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(p)
		if fi.Mode().Perm() != createdMode || !bytes.Equal(got, data) {
			t.Errorf("%s: mode %v, %d bytes; want 0600 and %d bytes", p, fi.Mode().Perm(), len(got), len(data))
		}
	}
}
