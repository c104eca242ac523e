// Package digest names file contents the one way push, check and pull
// print, compare and record them: lower-case hex SHA-256, shortened to 12
// digits in tables. One definition, so the same bytes always read the same.
package digest

import (
	"crypto/sha256"
	"encoding/hex"
)

// SHA256 is the lower-case hex SHA-256 of b.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Short is the first 12 hex digits of a digest, as text tables show it:
// enough to tell files apart by eye, short enough for one line per node.
func Short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}
