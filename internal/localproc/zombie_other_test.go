//go:build !linux

package localproc

import "testing"

func waitExitedNotReaped(t *testing.T, pid int) { t.Skip("WNOWAIT is only used on Linux here") }
