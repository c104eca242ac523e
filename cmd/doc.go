// Package cmd holds no code: cmd/es-service-tokens is the command.
//
// It owns flags, wiring, exit codes and rendering, and nothing else: the
// rules of tokens live in tokens/, what nodes exist in inventory/, what is
// done to them in sync/ (each use case through one entry point: push.Run,
// check.Run, change.Run, deliver.Run, rotation.Run, prove.Run...).
// Package main gives each command its action: it maps the command line
// to those entry points' options. Beside it, in cmd/es-service-tokens/internal:
// cmdline defines the command line (commands, flags, help, completion,
// man page); output renders what the entry points report (text, the JSON
// documents and their types, Nagios, Prometheus, the audit record) and
// phrases the options a library message names as flags, without reading
// the command line; exit holds the exit codes and which error means which. The shipped binary must never import a test harness
// (internal/testkit/..., internal/bench) or examples/.
// internal/layout's test enforces this.
package cmd
