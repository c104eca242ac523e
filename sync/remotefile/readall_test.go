package remotefile

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// reads counts Read calls: over SFTP each is a request and a round trip.
type reads struct {
	r     io.Reader
	calls int
}

func (c *reads) Read(p []byte) (int, error) { c.calls++; return c.r.Read(p) }

// A file is read in one request whatever its size, as large as its size
// said; without a size, to its end.
func TestReadAllAsksOnce(t *testing.T) {
	data := bytes.Repeat([]byte("elastic/fleet-server/token-001:{PBKDF2_STRETCH}10000$salt$hash\n"), 50)
	for _, c := range []struct {
		size      int64
		wantCalls int
		want      []byte
	}{{int64(len(data)), 1, data}, {0, 0, data}, {100, 1, data[:100]}, {int64(len(data)) + 10, 0, data}} {
		r := &reads{r: bytes.NewReader(data)}
		got, err := readAll(r, c.size)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Fatalf("size %d: read %d bytes (%v), want %d", c.size, len(got), err, len(c.want))
		}
		if c.wantCalls > 0 && r.calls != c.wantCalls {
			t.Errorf("size %d: %d reads for %d bytes, want %d", c.size, r.calls, len(data), c.wantCalls)
		}
	}
}

// The bytes are read alongside the handle's attributes, sized by the look
// by name; whatever that look said (the name swapped between the look and
// the open for a larger, smaller or empty file), what is kept is the
// opened file as large as its handle says, and a handle that is not a
// regular file is refused whatever was read.
func TestReadOpenKeepsWhatTheHandleSays(t *testing.T) {
	c, target := open(t, "", "")
	data := bytes.Repeat([]byte("elastic/fleet-server/token-001:{PBKDF2_STRETCH}10000$salt$hash\n"), 700) // over one 32 KiB packet
	if err := os.WriteFile(target, data, 0o640); err != nil {
		t.Fatal(err)
	}
	for _, looked := range []int64{int64(len(data)), 1, 100, 40000, int64(len(data)) - 1, int64(len(data)) + 500, 0} {
		f, err := c.sftp.Open(target)
		if err != nil {
			t.Fatal(err)
		}
		got := readOpen(f, looked, MaxSize+1)
		f.Close()
		if got.statErr != nil || got.readErr != nil || !bytes.Equal(got.data, data) {
			t.Errorf("look said %d bytes: read %d of %d (%v, %v)", looked, len(got.data), len(data), got.statErr, got.readErr)
		}
	}
	f, err := c.sftp.Open(filepath.Dir(target))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := readOpen(f, 100, MaxSize+1); got.statErr != nil || got.info.Mode().IsRegular() || got.data != nil {
		t.Errorf("a directory opened: %v regular %v, %d bytes kept", got.statErr, got.info.Mode(), len(got.data))
	}
}
