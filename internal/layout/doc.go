// Package layout holds no code. Its test enforces the import rules that the
// doc.go of each top-level directory states, from `go list -deps`, so a
// change that breaks one fails the suite with the chain that breaks it.
package layout
