// Package tokens is the service_tokens format of Elasticsearch: how the
// file is read and written, how token secrets are drawn and hashed, how a
// bearer token is encoded, and which accounts and names are allowed.
//
// Everything here mirrors Elasticsearch 7.13 to 9.x byte for byte; where
// versions differ, the rules are the strictest of them, so that a file this
// package accepts loads on every node of a mixed-version cluster. The
// package does no file-system I/O.
//
// The tokens tree (tokens, tokens/esconfig, tokens/store) owns the local
// side: the format, finding the file and its hashing setting, and locked
// atomic updates of it. It must never import transport or hosts: nothing
// of sync/ or inventory/, no SSH or SFTP, not even package net. What
// Elasticsearch accepts does not depend on how a file travels, and create,
// list, delete and verify must work on a host that reaches nothing.
// internal/layout's test enforces this.
package tokens
