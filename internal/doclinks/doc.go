// Package doclinks holds no code. Its test keeps the documentation a
// newcomer reads navigable: every relative link and #anchor in README.md
// and docs/*.md resolves, every page under docs/ is linked from the
// README, and the README stays a first page (at most 300 lines) rather
// than the reference, which lives in docs/.
package doclinks
