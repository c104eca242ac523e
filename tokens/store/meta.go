package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/es-service-tokens/es-service-tokens/internal/atomicfile"
	"github.com/es-service-tokens/es-service-tokens/internal/fserr"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
)

// MetaSuffix names the metadata file of a tokens file: service_tokens.meta
// beside service_tokens. Only the local side has one; nothing pushes it.
const MetaSuffix = ".meta"

// MetaPath is the metadata file of the tokens file at path.
func MetaPath(path string) string { return path + MetaSuffix }

// MetaError is a metadata file that cannot be read or written, or does
// not parse. Line is 0 when the file could not be read or written at all.
type MetaError struct {
	Path string
	Line int
	Op   string // "read" or "write"
	Err  error
}

func (e *MetaError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("cannot %s %s: %v", e.Op, e.Path, fserr.WithoutPath(e.Err))
	}
	var se *meta.SyntaxError
	if errors.As(e.Err, &se) {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, se.Msg)
	}
	return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
}

func (e *MetaError) Unwrap() error { return e.Err }

// Meta is a metadata file as read.
type Meta struct {
	Set    *meta.Set // empty when the file does not exist
	Exists bool
	// Notes say what the next write changes: merged duplicate records.
	Notes []string
}

// LoadMeta reads the metadata of the tokens file at path. A missing file
// is an empty set: tokens made by other tools have no records.
func LoadMeta(path string) (Meta, error) {
	m, err := readMeta(path)
	if err != nil {
		return Meta{Set: meta.NewSet()}, err
	}
	return m, nil
}

// readMeta is LoadMeta with a typed nil: nil when the file was read.
func readMeta(path string) (Meta, *MetaError) {
	mp := MetaPath(path)
	data, err := os.ReadFile(mp)
	if errors.Is(err, fs.ErrNotExist) {
		return Meta{Set: meta.NewSet()}, nil
	}
	if err != nil {
		return Meta{Set: meta.NewSet()}, &MetaError{Path: mp, Op: "read", Err: err}
	}
	set, notes, err := meta.Parse(data)
	if err != nil {
		var se *meta.SyntaxError
		errors.As(err, &se)
		return Meta{Set: meta.NewSet()}, &MetaError{Path: mp, Line: se.Line, Op: "read", Err: se}
	}
	for i, n := range notes {
		notes[i] = mp + ": " + n
	}
	return Meta{Set: set, Exists: true, Notes: notes}, nil
}

// metaPlan is how an update writes the metadata around the tokens file:
// first (when not nil) before it, last (when not nil) after it.
type metaPlan struct {
	first, last *meta.Set
	notes       []string
	exists      bool
}

// planMeta decides the metadata writes of a change from prev to next,
// where fn left records: the records of tokens in neither file are
// dropped with a note; those of tokens the change removes are kept
// until the tokens file no longer holds them.
func planMeta(m Meta, records *meta.Set, prev, next *tokens.File) metaPlan {
	p := metaPlan{notes: m.Notes, exists: m.Exists}
	final := records.Clone()
	for _, k := range records.Orphans(next) {
		final.Delete(k)
		if _, wasThere := prev.Hash(k); !wasThere {
			p.notes = append(p.notes, fmt.Sprintf("dropped the metadata of %s: it is not in the tokens file (removed by another tool?)", k))
		}
	}
	// A rotation whose successor left the file (deleted, as the tool
	// prints when an abort is refused) is no longer under way: its old
	// token must not go on saying where it is rotating to.
	for _, k := range final.Tokens() {
		r, _ := final.Get(k)
		if _, there := next.Hash(r.RotatedTo); r.RotatedTo != "" && !there {
			r.RotatedTo = ""
			final.Put(r)
		}
	}
	first := final.Clone()
	for _, k := range records.Orphans(next) {
		if _, wasThere := prev.Hash(k); wasThere {
			r, _ := records.Get(k)
			first.Put(r)
		}
	}
	if !first.Equal(m.Set) || len(m.Notes) > 0 {
		p.first = first
	}
	if !final.Equal(first) { // with no first write, first is what the file holds
		p.last = final
	}
	return p
}

func (p *metaPlan) writeFirst(path string) *MetaError { return p.write(path, p.first) }
func (p *metaPlan) writeLast(path string) *MetaError  { return p.write(path, p.last) }

// write replaces the metadata file with s, unless s is nil, or empty with
// no file to replace (a tool that never recorded anything leaves none).
func (p *metaPlan) write(path string, s *meta.Set) *MetaError {
	if s == nil || s.Len() == 0 && !p.exists {
		return nil
	}
	mp := MetaPath(path)
	var oldInfo fs.FileInfo
	if fi, err := os.Stat(mp); err == nil {
		oldInfo = fi
	} else if fi, err := os.Stat(path); err == nil {
		// A new metadata file is read by whoever reads the tokens file
		// (a scheduled check's group): it takes that file's attributes.
		oldInfo = fi
	}
	opt, err := attributesFor(mp, oldInfo)
	if err == nil {
		err = atomicfile.Write(mp, s.Marshal(), opt)
	}
	if err != nil {
		return &MetaError{Path: mp, Op: "write", Err: err}
	}
	p.exists = true
	return nil
}
