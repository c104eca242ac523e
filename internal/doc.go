// Package internal holds no code. It has two floors:
//
//   - helpers shared by the other trees, one job each: atomicfile, audit,
//     buildinfo, digest, fserr, libtext (the one place where another
//     library's error is recognised by its words), remedy (a library names
//     its caller's option as a kind; the CLI phrases it), safetext, sshcert (an
//     SSH certificate's validity window, in ssh-keygen's words);
//   - testkit/, the harnesses tests run against and nothing ships:
//     testkit/sshdtest (real sshd nodes), testkit/sftptest (an in-process
//     SSH/SFTP server with fault injection), testkit/estest (a simulated
//     Elasticsearch cluster over the sshd nodes), testkit/proctest (has a
//     process ended: polled with a deadline), testkit/nodetest (in-process
//     nodes for the entry points' Examples).
//
// cideps holds only a test: .ci/run installs every program the tests run.
//
// bench is a command of its own (go run ./internal/bench): it measures the
// tool against Ansible and pdsh/pdcp on real sshd nodes.
//
// Nothing here may import cmd/ or the CLI library (urfave/cli): helpers sit
// below every tree, and the CLI sits above them all.
// internal/layout's test enforces this.
package internal
