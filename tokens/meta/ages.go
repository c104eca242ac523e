package meta

import (
	"time"

	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// TokenAge is one token's age.
type TokenAge struct {
	Token string
	Age   time.Duration
}

// Ages is every token of a file judged against a maximum age.
type Ages struct {
	Max     time.Duration // 0: no maximum, nothing is Over
	Known   []TokenAge    // every token whose creation is recorded, in file order
	Over    []TokenAge    // those older than Max
	Unknown []string      // tokens without a record (made by another tool): never Over
}

// Judge ages the tokens of f at now from their records. A token without
// a record has no known age: it is listed in Unknown and never counts as
// too old, since nothing says it is (see docs/metadata.md).
func Judge(f *tokens.File, s *Set, now time.Time, max time.Duration) Ages {
	a := Ages{Max: max}
	for _, k := range f.Keys() {
		r, ok := s.Get(k)
		age, known := r.Age(now)
		if !ok || !known {
			a.Unknown = append(a.Unknown, k)
			continue
		}
		ta := TokenAge{Token: k, Age: age}
		a.Known = append(a.Known, ta)
		if max > 0 && age > max {
			a.Over = append(a.Over, ta)
		}
	}
	return a
}
