package sshconn

import (
	"errors"
	"testing"
)

// A host key message names the host itself: the step and address are not
// said twice ("host key a:22: host key of [a]:22 ...").
func TestHostKeyErrorDoesNotStutter(t *testing.T) {
	for _, c := range []struct {
		err  *Error
		want string
	}{
		{&Error{Step: "host key", Addr: "a:22", Err: errors.New("host key of a:22 is not in kh")}, "host key of a:22 is not in kh"},
		{&Error{Step: "host key", Addr: "a:22", Via: "root@b:22", Err: errors.New("HOST KEY CHANGED for a:22: x")}, "HOST KEY CHANGED for a:22: x (via root@b:22)"},
		{&Error{Step: "host key", Addr: "a:22", Err: errors.New("known_hosts kh: bad line")}, "host key a:22: known_hosts kh: bad line"},
		{&Error{Step: "auth", Addr: "a:22", Err: errors.New("root@a:22 refused every key")}, "auth a:22: root@a:22 refused every key"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("%q, want %q", got, c.want)
		}
	}
}
