//go:build !linux && !darwin

package localproc

import "errors"

// Other systems: no host id, so Check says it cannot tell and locks wait
// for their leases.
func hostID() (string, error) { return "", errors.New("not supported on this system") }

func startOf(int) (start, error) { return start{}, errors.New("not supported on this system") }
