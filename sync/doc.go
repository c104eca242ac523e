// Package sync holds no code: its subpackages move the local
// service_tokens file to the nodes and compare it with theirs.
//
//   - sshconn dials nodes (keys, agent, bastions, keep-alives) and hostkeys
//     checks their host keys;
//   - remotefile reads and atomically replaces one file on one node, and
//     its Each runs a command's work over every node's connection;
//   - fleet runs one task per item, bounded, with deadlines and retries;
//   - failure names why a node failed, one taxonomy for every command;
//   - nodelock serialises runs that write the same node, and backup keeps
//     a node's previous files when the inventory asks;
//   - push, check and pull are what is done to the nodes, each through one
//     entry point (push.Run, check.Run, pull.Run) that takes options and
//     returns a report, one connection per node per run;
//   - elastic asks the cluster's REST API what its nodes loaded, esnode
//     names each inventory node as the cluster does, and rollout writes
//     batch by batch, gated on the read-back and the cluster's word.
//   - prove sends a token's secret to every node's own address (prove.Run)
//     and explains a node that refuses it.
//   - deliver hands a secret to the consumers that use it (deliver.Run),
//     and change sees a create or delete through to the cluster
//     (change.Run): push, take back what every node refused, prove,
//     deliver, remove a token whose secret reached no one.
//   - rotate is a rotation's state machine, and rotation runs it on the
//     cluster (rotation.Run): push, proof, delivery or hand-over, retire.
//
// The directory keeps the name sync (the project's layout fixes it), yet it
// shadows nothing: no code imports this package, only its subpackages,
// whose import paths (".../sync/push", ".../sync/check") end in their own
// names. A file that needs the standard library's sync imports "sync" and
// gets it; package names are the last element of the import path, so the
// two never meet in one file.
//
// sync must never import the CLI: nothing of cmd/, no urfave/cli, no
// terminal handling (golang.org/x/term). What a node run needs from the
// user (a passphrase, a progress line) comes in as a function, so the same
// code serves the CLI, the tests and any other caller.
// internal/layout's test enforces this.
package sync
