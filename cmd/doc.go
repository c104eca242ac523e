// Package cmd holds no code: cmd/es-service-tokens is the command.
//
// It owns flags, wiring, exit codes and rendering (text, JSON, Nagios,
// Prometheus) and nothing else: the rules of tokens live in tokens/, what
// nodes exist in inventory/, what is done to them in sync/. The shipped
// binary must never import a test harness (internal/testkit/sshdtest,
// internal/testkit/sftptest, internal/bench) or examples/.
// internal/layout's test enforces this.
package cmd
