// Package examples holds no code: examples/demo is a runnable demo, and the
// inventories and ssh_config beside it are what the README and docs/ show and the
// scenarios test against, so the documentation cannot drift from the code.
//
// Nothing outside examples/ may import it: examples use the project,
// never the other way round.
// internal/layout's test enforces this.
package examples
