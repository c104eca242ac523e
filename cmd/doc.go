// Package cmd holds no code: cmd/es-service-tokens is the command.
//
// It owns flags, wiring, exit codes and rendering, and nothing else: the
// rules of tokens live in tokens/, what nodes exist in inventory/, what is
// done to them in sync/ (each use case through one entry point: push.Run,
// check.Run, change.Run, deliver.Run, rotation.Run, prove.Run...).
// Package main maps the command line to those entry points' options;
// cmd/es-service-tokens/internal/output renders what they report (text,
// the JSON documents and their types, Nagios, Prometheus) and phrases the
// options a library message names as flags; it does not read the command
// line. The shipped binary must never import a test harness
// (internal/testkit/..., internal/bench) or examples/.
// internal/layout's test enforces this.
package cmd
