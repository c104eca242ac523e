// Package internal holds no code: its subpackages are helpers shared by the
// other trees (atomicfile, digest, fserr, safetext, buildinfo) and the
// harnesses the tests run against (sshdtest: real sshd nodes; sftptest: an
// in-process SSH/SFTP server with fault injection; bench).
//
// Nothing here may import cmd/ or the CLI library (urfave/cli): helpers sit
// below every tree, and the CLI sits above them all.
// internal/layout's test enforces this.
package internal
