package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
)

func addWithRecord(path, key string) (Change, error) {
	return UpdateWithMeta(path, MetaBestEffort, func(f *tokens.File, m *meta.Set) error {
		f.Set(key, hash)
		m.Put(meta.Record{Token: key, Created: time.Now(), CreatedBy: "alice@ws1"})
		return nil
	})
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A create records its token beside the file; a delete takes the record
// with it, quietly: that is no surprise worth a note.
func TestRecordFollowsToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "service_tokens")
	if _, err := Update(path, func(f *tokens.File) error { f.Set("elastic/kibana/old", hash); return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(MetaPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an update that records nothing made a metadata file: %v", err)
	}
	if _, err := addWithRecord(path, "elastic/kibana/k1"); err != nil {
		t.Fatal(err)
	}
	m, err := LoadMeta(path)
	if err != nil || m.Set.Len() != 1 {
		t.Fatalf("LoadMeta: %v, %d records", err, m.Set.Len())
	}
	if strings.Contains(readString(t, MetaPath(path)), hash[:20]) {
		t.Fatal("the metadata file holds the hash")
	}
	ch, err := Update(path, func(f *tokens.File) error { f.Delete("elastic/kibana/k1"); return nil })
	if err != nil || len(ch.MetaNotes) != 0 {
		t.Fatalf("delete: %v, notes %q", err, ch.MetaNotes)
	}
	if got := readString(t, MetaPath(path)); got != meta.Header+"\n" {
		t.Fatalf("metadata after delete = %q", got)
	}
}

// A record whose token went away behind the tool's back (ES's CLI, a git
// checkout of another tokens file) is dropped at the next change, with a
// note, never an error.
func TestOrphanDroppedWithNote(t *testing.T) {
	path := filepath.Join(t.TempDir(), "service_tokens")
	os.WriteFile(MetaPath(path), []byte(`{"token":"elastic/kibana/gone","created_by":"x@y"}`+"\n"), 0o644)
	ch, err := addWithRecord(path, "elastic/kibana/k1")
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.MetaNotes) != 1 || !strings.Contains(ch.MetaNotes[0], "dropped the metadata of elastic/kibana/gone") {
		t.Fatalf("notes = %q", ch.MetaNotes)
	}
	m, _ := LoadMeta(path)
	if got := strings.Join(m.Set.Tokens(), ","); got != "elastic/kibana/k1" {
		t.Fatalf("records = %s", got)
	}
}

// A corrupt metadata file never blocks a token change and is never
// rewritten: the change is made, the file kept byte for byte, and the
// change says which line is wrong. A rotation, which rests on it, stops.
func TestCorruptMetaNeverBlocksTokens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "service_tokens")
	bad := "{\"token\":\"elastic/kibana/a\"}\n<<<<<<< HEAD\n"
	os.WriteFile(MetaPath(path), []byte(bad), 0o644)
	ch, err := addWithRecord(path, "elastic/kibana/k1")
	if err != nil {
		t.Fatal(err)
	}
	if ch.MetaSkipped == nil || ch.MetaSkipped.Line != 2 || !strings.Contains(ch.MetaSkipped.Error(), "service_tokens.meta:2: a git conflict marker") {
		t.Fatalf("MetaSkipped = %v", ch.MetaSkipped)
	}
	if readString(t, MetaPath(path)) != bad {
		t.Fatal("the corrupt metadata file was rewritten")
	}
	if snap, _ := Load(path); snap.File.Len() != 1 {
		t.Fatal("the token was not added")
	}
	called := false
	_, err = UpdateWithMeta(path, MetaRequired, func(*tokens.File, *meta.Set) error { called = true; return nil })
	var me *MetaError
	if !errors.As(err, &me) || called {
		t.Fatalf("MetaRequired: err = %v, fn called %v", err, called)
	}
}

// A metadata file that cannot be read (here a directory) does not block
// the token change either.
func TestUnwritableMeta(t *testing.T) {
	path := filepath.Join(t.TempDir(), "service_tokens")
	if err := os.Mkdir(MetaPath(path), 0o755); err != nil { // a directory: read and rename both fail
		t.Fatal(err)
	}
	ch, err := addWithRecord(path, "elastic/kibana/k1")
	if err != nil || ch.MetaSkipped == nil {
		t.Fatalf("err = %v, MetaSkipped = %v", err, ch.MetaSkipped)
	}
	if snap, _ := Load(path); snap.File.Len() != 1 {
		t.Fatal("the token was not added")
	}
}

// The first metadata write of a change holds the records of the tokens
// it removes as well as those it adds, so that a crash before the tokens
// file is replaced leaves no token without its record; the last write
// drops the removed ones.
func TestPlanMetaOrder(t *testing.T) {
	prev, next := tokens.NewFile(), tokens.NewFile()
	prev.Set("elastic/kibana/old", hash)
	next.Set("elastic/kibana/new", hash)
	was := meta.NewSet()
	was.Put(meta.Record{Token: "elastic/kibana/old", RotatedTo: "elastic/kibana/new"})
	records := was.Clone()
	records.Put(meta.Record{Token: "elastic/kibana/new", RotatedFrom: "elastic/kibana/old"})
	p := planMeta(Meta{Set: was, Exists: true}, records, prev, next)
	if got := strings.Join(p.first.Tokens(), ","); got != "elastic/kibana/new,elastic/kibana/old" {
		t.Errorf("first write = %s", got)
	}
	if p.last == nil || strings.Join(p.last.Tokens(), ",") != "elastic/kibana/new" {
		t.Errorf("last write = %v", p.last)
	}
	if len(p.notes) != 0 {
		t.Errorf("notes = %q", p.notes)
	}
}

// Concurrent creates with records all land, tokens and records alike.
func TestConcurrentRecordsAllLand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "service_tokens")
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := addWithRecord(path, fmt.Sprintf("elastic/kibana/t%02d", i))
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	m, err := LoadMeta(path)
	if err != nil || m.Set.Len() != n {
		t.Fatalf("%d records after %d concurrent creates (%v)", m.Set.Len(), n, err)
	}
}

// Deleting the successor of an unfinished rotation (the way out rotate
// prints once an abort is refused) ends that rotation: its old token no
// longer says where it is rotating to. Undoing the delete starts it again.
func TestDeletedSuccessorEndsTheRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "service_tokens")
	old, succ := "elastic/kibana/k1", "elastic/kibana/k1-20261202T000000Z"
	_, err := UpdateWithMeta(path, MetaRequired, func(f *tokens.File, s *meta.Set) error {
		f.Set(old, hash)
		f.Set(succ, hash)
		s.Put(meta.Record{Token: old, RotatedTo: succ})
		s.Put(meta.Record{Token: succ, RotatedFrom: old, Phase: meta.HandedOver})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := UpdateWithMeta(path, MetaBestEffort, func(f *tokens.File, _ *meta.Set) error { f.Delete(succ); return nil })
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadMeta(path)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := m.Set.Get(old); r.RotatedTo != "" {
		t.Errorf("after the successor's delete: %+v", r)
	}
	if err := Undo(path, ch); err != nil {
		t.Fatal(err)
	}
	m, _ = LoadMeta(path)
	r, _ := m.Set.Get(old)
	s, ok := m.Set.Get(succ)
	if r.RotatedTo != succ || !ok || s.Phase != meta.HandedOver {
		t.Errorf("after the undo: %+v, %+v", r, s)
	}
}

// A new metadata file is readable by exactly those who read the tokens
// file beside it: a scheduled check that reads service_tokens (group
// es-service-tokens, 0640) must read its ages too, and nobody else.
func TestNewMetaTakesTheTokensFileAttributes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "service_tokens")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	gid := os.Getgid()
	if os.Geteuid() == 0 {
		gid = 4242 // a group the directory does not have
		if err := os.Chown(path, 0, gid); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := addWithRecord(path, "elastic/kibana/k1"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(MetaPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("new metadata file has mode %v, want the tokens file's 0640", fi.Mode().Perm())
	}
	if got := fileGID(fi); got != gid {
		t.Errorf("new metadata file has group %d, want the tokens file's %d", got, gid)
	}
}

func fileGID(fi os.FileInfo) int { return int(fi.Sys().(*syscall.Stat_t).Gid) }
