package sshcert

import (
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestOutside(t *testing.T) {
	jan1, jan2 := uint64(1577836800), uint64(1577923200) // 2020-01-01, 2020-01-02 UTC
	noon := time.Unix(int64(jan1)+12*3600, 0)
	cases := []struct {
		after, before uint64
		now           time.Time
		why           string
		expired       bool
	}{
		{jan1, jan2, noon, "", false},
		{0, ssh.CertTimeInfinity, noon, "", false},
		{jan1, jan2, time.Unix(int64(jan2), 0), "expired at 2020-01-02T00:00:00Z (valid from 2020-01-01T00:00:00Z to 2020-01-02T00:00:00Z)", true},
		{0, jan1, noon, "expired at 2020-01-01T00:00:00Z (valid before 2020-01-01T00:00:00Z)", true},
		{jan2, ssh.CertTimeInfinity, noon, "is not valid yet (valid after 2020-01-02T00:00:00Z; now 2020-01-01T12:00:00Z)", false},
	}
	for _, c := range cases {
		why, expired := Outside(&ssh.Certificate{ValidAfter: c.after, ValidBefore: c.before}, c.now)
		if why != c.why || expired != c.expired {
			t.Errorf("Outside(%d..%d at %v) = %q, %v; want %q, %v", c.after, c.before, c.now.UTC(), why, expired, c.why, c.expired)
		}
	}
	if w := Window(&ssh.Certificate{ValidBefore: ssh.CertTimeInfinity}); w != "forever" {
		t.Errorf("Window = %q, want forever", w)
	}
}
