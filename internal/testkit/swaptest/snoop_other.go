//go:build !linux

package swaptest

import "fmt"

// snoop needs Linux's inotify; the tests that snoop skip elsewhere (they
// need real sshd nodes run as root).
func snoop(dir string) int {
	fmt.Println("snoop: inotify is Linux only")
	return 2
}
