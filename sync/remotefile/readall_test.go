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
