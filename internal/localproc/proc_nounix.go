//go:build !unix

package localproc

// exists cannot ask here; Check never gets this far without a host id.
func exists(int) bool { return true }
