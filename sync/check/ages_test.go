package check

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// A token past the maximum is drift; a successor of a rotation not yet
// finished is renewed by continuing that rotation; a token without a
// record has no age; a metadata file that cannot be read makes the
// maximum unjudged, which is drift too.
func TestTokenAges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "service_tokens")
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	old := now.Add(-100 * 24 * time.Hour)
	ch, err := store.UpdateWithMeta(path, store.MetaRequired, func(f *tokens.File, m *meta.Set) error {
		for _, k := range []string{"elastic/kibana/a", "elastic/kibana/b", "elastic/kibana/b-20260101T000000Z", "elastic/kibana/nobody"} {
			h, err := tokens.DefaultAlgorithm.Hash("secret-of-"+k, rand.Reader)
			if err != nil {
				return err
			}
			f.Set(k, h)
		}
		m.Put(meta.Record{Token: "elastic/kibana/a", Created: old})
		m.Put(meta.Record{Token: "elastic/kibana/b", Created: old, RotatedTo: "elastic/kibana/b-20260101T000000Z"})
		m.Put(meta.Record{Token: "elastic/kibana/b-20260101T000000Z", Created: old, RotatedFrom: "elastic/kibana/b", Phase: meta.Proven})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	local, err := tokens.Parse(ch.After)
	if err != nil {
		t.Fatal(err)
	}
	a := TokenAges(path, local, 90*24*time.Hour, now)
	if len(a.Over) != 3 || len(a.Unknown) != 1 || !a.Drift() {
		t.Fatalf("over %v, unknown %v", a.Over, a.Unknown)
	}
	if got := a.Renews("elastic/kibana/b-20260101T000000Z"); got != "elastic/kibana/b" {
		t.Errorf("the successor is renewed by %s, want its rotation's old token", got)
	}
	if got := a.Renews("elastic/kibana/a"); got != "elastic/kibana/a" {
		t.Errorf("a is renewed by %s", got)
	}
	if err := os.WriteFile(store.MetaPath(path), []byte("not json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if a := TokenAges(path, local, time.Hour, now); a.MetaErr == nil || !a.Drift() || len(a.Over) != 0 {
		t.Errorf("a damaged metadata file: %+v", a)
	}
	// Every token's age is unknown then: the metrics (unknown_age) say
	// so, rather than 0 unknown and 0 over, which a monitor reads as fine.
	if a := TokenAges(path, local, time.Hour, now); len(a.Unknown) != local.Len() || len(a.Known) != 0 {
		t.Errorf("a damaged metadata file: unknown %v, known %v, want every one of %d tokens unknown", a.Unknown, a.Known, local.Len())
	}
	if a := TokenAges(path, local, 0, now); a.Drift() {
		t.Error("without a maximum nothing is drift")
	}
}
