package remotefile

import (
	"bytes"
	"io"
	"testing"
)

// reads counts Read calls: over SFTP each is a request and a round trip.
type reads struct {
	r     io.Reader
	calls int
}

func (c *reads) Read(p []byte) (int, error) { c.calls++; return c.r.Read(p) }

// A file is read in two requests (its bytes, then the end) whatever its
// size, and wholly when it grew after its size was taken.
func TestReadAllAsksTwice(t *testing.T) {
	data := bytes.Repeat([]byte("elastic/fleet-server/token-001:{PBKDF2_STRETCH}10000$salt$hash\n"), 50)
	for _, c := range []struct {
		size      int64
		wantCalls int
	}{{int64(len(data)), 2}, {0, 0}, {100, 0}} {
		r := &reads{r: bytes.NewReader(data)}
		got, err := readAll(r, c.size)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: read %d bytes (%v), want %d", c.size, len(got), err, len(data))
		}
		if c.wantCalls > 0 && r.calls != c.wantCalls {
			t.Errorf("size %d: %d reads for %d bytes, want %d", c.size, r.calls, len(data), c.wantCalls)
		}
	}
}
