package check

import (
	"errors"
	"time"

	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// Ages are the local file's tokens judged against a maximum age
// (max_token_age), from the metadata file beside it: a token past the
// maximum is drift, like a node's file that differs.
type Ages struct {
	meta.Ages
	// File is the metadata file the ages come from.
	File string
	// MetaErr is why no age is known: the metadata file cannot be used.
	MetaErr *store.MetaError
	// Replaces is, by token past the maximum, the token it replaces in a
	// rotation not yet finished: that rotation renews it, and another
	// cannot start from a successor.
	Replaces map[string]string
}

// TokenAges ages the tokens of local, the file at path, at now.
func TokenAges(path string, local *tokens.File, max time.Duration, now time.Time) *Ages {
	a := &Ages{File: store.MetaPath(path), Replaces: map[string]string{}}
	m, err := store.LoadMeta(path)
	if me, ok := errors.AsType[*store.MetaError](err); ok {
		// No token's age is known: counted as such, a monitor that reads
		// the unknown count does not see a clean 0 unknown, 0 over.
		a.MetaErr, a.Max, a.Unknown = me, max, local.Keys()
		return a
	}
	a.Ages = meta.Judge(local, m.Set, now, max)
	for _, o := range a.Over {
		if r, ok := m.Set.Get(o.Token); ok && r.RotatedFrom != "" && r.Phase != meta.Done {
			a.Replaces[o.Token] = r.RotatedFrom
		}
	}
	return a
}

// Drift reports whether the ages make a check fail: a token past the
// maximum, or a maximum that cannot be judged at all.
func (a *Ages) Drift() bool {
	return a != nil && a.Max > 0 && (len(a.Over) > 0 || a.MetaErr != nil)
}

// Renews is the token whose rotation renews token: the token itself, or
// the one it replaces in a rotation not yet finished.
func (a *Ages) Renews(token string) string {
	if old := a.Replaces[token]; old != "" {
		return old
	}
	return token
}
