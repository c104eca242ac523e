// Package cideps holds no code. Its test checks that .ci/run installs, on
// a fresh Debian machine, every program the tests run: a test that does
// not find its program skips itself or fails far from the cause, and a
// machine that happens to have the program hides the gap.
package cideps
