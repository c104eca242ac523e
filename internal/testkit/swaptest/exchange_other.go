//go:build !linux

package swaptest

import "errors"

// exchange needs Linux's renameat2; the tests that attack skip elsewhere
// (they need real sshd nodes run as root).
func exchange(a, b string) error { return errors.New("renameat2 is Linux only") }
