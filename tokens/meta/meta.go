// Package meta is what the tool knows of each token besides its hash: when
// and by whom it was created, why (a comment), who uses it, and where it
// stands in a rotation. Elasticsearch's service_tokens format has no room
// for any of it, so it lives in a file of its own beside the local
// service_tokens (see tokens/store), and is never pushed to nodes.
//
// The file is made for git: one JSON object per line and per token, sorted
// by token name, so that two admins who each create a token change two
// different lines, and `merge=union` in .gitattributes merges them with no
// conflict. Two records of one token (a union merge of two edits) are
// merged field by field when read, and written back as one.
//
// A record never holds a secret or a hash: nothing in this package takes
// one. The package does no file-system I/O.
package meta

import (
	"fmt"
	"slices"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// Record is one token's metadata. Token is its qualified name
// (namespace/service/name), the key of the file.
type Record struct {
	Token     string
	Created   time.Time // UTC, to the second; zero when unknown
	CreatedBy string    // user@host
	Comment   string
	Consumers []string // inventory consumer names, sorted
	// RotatedFrom is the token this one replaced (kept after that token
	// is gone, so that a token's history can be traced); RotatedTo is the
	// successor of a token whose rotation has not finished.
	RotatedFrom string
	RotatedTo   string
	// Phase is where the rotation that made this token stands; Done once
	// the token it replaced is gone from every node.
	Phase Phase
	// extra holds keys a newer version wrote, kept as they were.
	extra map[string]string
}

// Phase is one step of a rotation, recorded on the successor's record so
// that a run that was killed continues where it stopped.
type Phase string

// The phases, in order. Delivered and HandedOver are alternatives: the
// consumers switched to the successor, or (without consumers) its bearer
// went to the user, who switches by hand.
const (
	Done       Phase = ""
	Created    Phase = "created"     // in the local file; not yet proven on every node
	Proven     Phase = "proven"      // every Elasticsearch node accepts its secret
	Delivering Phase = "delivering"  // consumers may hold its secret
	Delivered  Phase = "delivered"   // every consumer uses it and is healthy
	HandedOver Phase = "handed-over" // its bearer went to the user; the switch is theirs
	Retiring   Phase = "retiring"    // the old token is being removed from every node
)

var phases = []Phase{Created, Proven, Delivering, Delivered, HandedOver, Retiring}

// ParsePhase checks a phase read from the file.
func ParsePhase(s string) (Phase, bool) {
	p := Phase(s)
	return p, p == Done || slices.Contains(phases, p)
}

// Age is how old the token is at now; ok is false when its creation is
// not known.
func (r Record) Age(now time.Time) (time.Duration, bool) {
	if r.Created.IsZero() {
		return 0, false
	}
	return now.Sub(r.Created), true
}

// MaxComment is the longest comment kept, in characters.
const MaxComment = 256

// CheckComment refuses a comment that would not fit one line of list's
// output: too long, or holding control or invisible characters.
func CheckComment(c string) error {
	if n := len([]rune(c)); n > MaxComment {
		return fmt.Errorf("%d characters; keep it to %d", n, MaxComment)
	}
	if !safetext.Printable(c) {
		return fmt.Errorf("it holds a control or invisible character (%s); keep it to one line of printable text", safetext.Escape(c))
	}
	return nil
}

// Set is the metadata of one tokens file, by token.
type Set struct {
	recs map[string]Record
}

// NewSet returns an empty set.
func NewSet() *Set { return &Set{recs: map[string]Record{}} }

// Get returns the record of token.
func (s *Set) Get(token string) (Record, bool) {
	r, ok := s.recs[token]
	return r, ok
}

// Put adds or replaces r's record.
func (s *Set) Put(r Record) {
	r.Consumers = sortedUnique(r.Consumers)
	if !r.Created.IsZero() {
		r.Created = r.Created.UTC().Truncate(time.Second)
	}
	s.recs[r.Token] = r
}

// Delete removes token's record and reports whether there was one.
func (s *Set) Delete(token string) bool {
	_, ok := s.recs[token]
	delete(s.recs, token)
	return ok
}

// Tokens returns the tokens that have records, sorted.
func (s *Set) Tokens() []string {
	out := make([]string, 0, len(s.recs))
	for k := range s.recs {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Len is the number of records.
func (s *Set) Len() int { return len(s.recs) }

// Clone returns a copy that can be changed independently.
func (s *Set) Clone() *Set {
	c := NewSet()
	for k, r := range s.recs {
		r.Consumers = slices.Clone(r.Consumers)
		c.recs[k] = r
	}
	return c
}

// Equal reports whether two sets hold the same records.
func (s *Set) Equal(o *Set) bool {
	return string(s.Marshal()) == string(o.Marshal())
}

// Orphans returns the tokens that have a record but are not in f, sorted.
func (s *Set) Orphans(f *tokens.File) []string {
	var out []string
	for _, k := range s.Tokens() {
		if _, ok := f.Hash(k); !ok {
			out = append(out, k)
		}
	}
	return out
}

// SuccessorOf returns the record of the token that replaces old in a
// rotation that has not finished, if any: the one that names old as
// rotated_from and is not Done.
func (s *Set) SuccessorOf(old string) (Record, bool) {
	for _, k := range s.Tokens() {
		r := s.recs[k]
		if r.RotatedFrom == old && r.Phase != Done {
			return r, true
		}
	}
	return Record{}, false
}

func sortedUnique(v []string) []string {
	if len(v) == 0 {
		return nil
	}
	out := slices.Clone(v)
	slices.Sort(out)
	return slices.Compact(out)
}

// Creator is user@host, the created_by of a record. user is the person:
// under sudo, the one who ran sudo.
func Creator(user, host string) string {
	if user == "" {
		user = "unknown"
	}
	return user + "@" + host
}
