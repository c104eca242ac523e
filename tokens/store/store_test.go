package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
)

const hash = "{PBKDF2_STRETCH}10000$8QN+eThJEaCd18sCP0nfzxJq2D9yhmSZgI20TDooYcE=$+0ELfqW4D2+/SlHvm/885dzv67qO2SMJg32Mv/9epXk="

// Concurrent updates of one file all land: none overwrites another.
func TestConcurrentUpdatesAllLand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "service_tokens")
	const n = 24
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			_, err := Update(path, func(f *tokens.File) error {
				f.Set(fmt.Sprintf("elastic/kibana/t%02d", i), hash)
				return nil
			})
			errs <- err
		}(i)
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	snap, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if snap.File.Len() != n {
		t.Fatalf("file holds %d tokens after %d concurrent creates: %q", snap.File.Len(), n, snap.File.Keys())
	}
}

// A reader running during many rewrites only ever sees complete files.
func TestReadersNeverSeePartialFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "service_tokens")
	if _, err := Update(path, func(f *tokens.File) error { f.Set("elastic/kibana/base", hash); return nil }); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		defer close(readErr)
		reads := 0
		for {
			select {
			case <-done:
				if reads == 0 {
					readErr <- errors.New("reader never ran")
				}
				return
			default:
			}
			snap, err := Load(path)
			if err != nil {
				readErr <- err
				return
			}
			if _, ok := snap.File.Hash("elastic/kibana/base"); !ok {
				readErr <- fmt.Errorf("read a file without the base token: %q", snap.Data)
				return
			}
			reads++
		}
	}()
	for i := 0; i < 200; i++ {
		if _, err := Update(path, func(f *tokens.File) error { f.Set(fmt.Sprintf("elastic/kibana/t%03d", i), hash); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	if err := <-readErr; err != nil {
		t.Fatal(err)
	}
}

func TestFailedUpdateWritesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "service_tokens")
	boom := errors.New("boom")
	if _, err := Update(path, func(*tokens.File) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a failed update created the file: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}
}

func TestMalformedFileIsNeverRewritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "service_tokens")
	bad := []byte("elastic/kibana/a:" + hash + "\nbroken line\n")
	os.WriteFile(path, bad, 0o640)
	called := false
	_, err := Update(path, func(*tokens.File) error { called = true; return nil })
	var me *MalformedError
	if !errors.As(err, &me) || me.Err.Line != 2 {
		t.Fatalf("err = %v, want MalformedError at line 2", err)
	}
	got, _ := os.ReadFile(path)
	if called || string(got) != string(bad) {
		t.Fatalf("malformed file was changed (fn called: %v)", called)
	}
}

type fakeInfo struct {
	fs.FileInfo
	mode     fs.FileMode
	uid, gid uint32
}

func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) Sys() any           { return &syscall.Stat_t{Uid: f.uid, Gid: f.gid} }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }

// The warnings are Elasticsearch's FileAttributesChecker lines.
func TestAttributeWarnings(t *testing.T) {
	got := attributeWarnings("/etc/elasticsearch/service_tokens",
		fakeInfo{mode: 0o660, uid: 0, gid: 0}, fakeInfo{mode: 0o600, uid: 4242, gid: 4343})
	want := []string{
		"WARNING: The file permissions of [/etc/elasticsearch/service_tokens] have changed from [rw-rw----] to [rw-------]",
		"Please ensure that the user account running Elasticsearch has read access to this file!",
		"WARNING: Owner of file [/etc/elasticsearch/service_tokens] used to be [root], but now is [4242]",
		"WARNING: Group of file [/etc/elasticsearch/service_tokens] used to be [root], but now is [4343]",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings =\n%q\nwant\n%q", got, want)
	}
	if w := attributeWarnings("f", fakeInfo{mode: 0o640}, fakeInfo{mode: 0o640}); len(w) != 0 {
		t.Errorf("unchanged attributes warn: %q", w)
	}
}

// Undo puts back the file (and the records) as they were before a change
// no node would take, unless the file changed again since.
func TestUndo(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "service_tokens")
	old := "# a comment the rewrite drops\nelastic/fleet-server/a:" + hash + "\n"
	if err := os.WriteFile(path, []byte(old), 0o640); err != nil {
		t.Fatal(err)
	}
	rec := func(tok string) meta.Record { return meta.Record{Token: tok, CreatedBy: "alice@ws1", Comment: "kept"} }
	if _, err := UpdateWithMeta(path, MetaBestEffort, func(_ *tokens.File, m *meta.Set) error { m.Put(rec("elastic/fleet-server/a")); return nil }); err != nil {
		t.Fatal(err)
	}
	// The file as a hand edit left it: the delete's rewrite drops the
	// comment, the undo brings back these very bytes.
	if err := os.WriteFile(path, []byte(old), 0o640); err != nil {
		t.Fatal(err)
	}
	before := []byte(old)
	metaBefore, _ := os.ReadFile(MetaPath(path))
	del, err := UpdateWithMeta(path, MetaBestEffort, func(f *tokens.File, _ *meta.Set) error { f.Delete("elastic/fleet-server/a"); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := LoadMeta(path); m.Set.Len() != 0 {
		t.Fatalf("the delete kept the record")
	}
	if err := Undo(path, del); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != string(before) {
		t.Errorf("after undo:\n%s\nwant\n%s", got, before)
	}
	if got, _ := os.ReadFile(MetaPath(path)); string(got) != string(metaBefore) {
		t.Errorf("metadata after undo:\n%s\nwant\n%s", got, metaBefore)
	}

	// A change made again since is not undone.
	add, _ := Update(path, func(f *tokens.File) error { f.Set("elastic/kibana/k", hash); return nil })
	Update(path, func(f *tokens.File) error { f.Set("elastic/kibana/k2", hash); return nil })
	now, _ := os.ReadFile(path)
	if err := Undo(path, add); !errors.Is(err, ErrChangedSince) {
		t.Errorf("undo of a change made over: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != string(now) {
		t.Errorf("a refused undo changed the file")
	}
}

// A create that made the file is undone by removing it, and the metadata
// file it made.
func TestUndoOfTheFirstToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "service_tokens")
	ch, err := UpdateWithMeta(path, MetaBestEffort, func(f *tokens.File, m *meta.Set) error {
		f.Set("elastic/kibana/k", hash)
		m.Put(meta.Record{Token: "elastic/kibana/k", CreatedBy: "alice@ws1"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(MetaPath(path)); err != nil {
		t.Fatal(err)
	}
	if err := Undo(path, ch); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, MetaPath(path)} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: %v", p, err)
		}
	}
}
