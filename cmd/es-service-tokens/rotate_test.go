package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/es-service-tokens/es-service-tokens/sync/rotate"
)

// killAfterRotateStep makes the process kill itself (SIGKILL: no deferred
// cleanup, no last words) right after the rotation step named by spec has
// been reported: "publish" is the first publish, "publish:2" the second.
// The scenarios that run rotate again after it prove that a rotation
// continues from any step.
func killAfterRotateStep(spec string) {
	if spec == "" {
		return
	}
	step, nth := spec, 1
	if s, n, ok := strings.Cut(spec, ":"); ok {
		step = s
		fmt.Sscan(n, &nth)
	}
	seen := 0
	afterRotateStep = func(rep rotate.Report) {
		if string(rep.Steps[len(rep.Steps)-1].Step) != step {
			return
		}
		if seen++; seen == nth {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
}
