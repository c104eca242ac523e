package tokens

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// File is a service_tokens file as Elasticsearch reads it: a map from
// qualified token name (namespace/service/token) to stored hash.
type File struct {
	hashes map[string]entry
	// Dropped lists what Elasticsearch ignores when it reads the file and
	// therefore what a rewrite does not keep.
	Dropped []Dropped
	// Misread lists lines whose token Elasticsearch keys differently from
	// how its name reads on screen; see Misread.
	Misread []Misread
}

// Misread is a line Elasticsearch loads, but under a name that is not the
// one a person (or `list`) sees: a UTF-8 byte order mark before the first
// name, a name ending in a space ("name :hash"), an empty name, a control
// or invisible character. Such a token never authenticates as the name
// shown, so a tool that promises to show what Elasticsearch reads refuses
// the file rather than rewrite or push it.
type Misread struct {
	Line int
	Key  string
	// Reason is a sentence naming the token (quoted, so that a trailing
	// space shows and control characters are escaped) and the fix.
	Reason string
}

type entry struct {
	hash string
	kind HashKind
}

// Dropped is a line that carries no token for Elasticsearch.
type Dropped struct {
	Line   int
	Key    string // empty for comments
	Reason string
}

// ParseError is a line that makes Elasticsearch reject the whole file: at
// start-up the node does not start, on reload it drops every file token.
type ParseError struct {
	Line int
	Msg  string
	// Brief is Msg without any byte of the line (no token name, no part
	// of a hash): what a message may say about a file read from a node,
	// which through a link may be any file there.
	Brief string
}

func (e *ParseError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Redacted is the error with Brief for Msg: the line number and what is
// wrong, nothing read from the file.
func (e *ParseError) Redacted() string { return fmt.Sprintf("line %d: %s", e.Line, e.Brief) }

// Redacted describes an error of Parse without any byte of the file.
func Redacted(err error) string {
	var pe *ParseError
	if errors.As(err, &pe) {
		return pe.Redacted()
	}
	return "it cannot be read"
}

// NewFile returns an empty file.
func NewFile() *File { return &File{hashes: map[string]entry{}} }

// Parse reads data with the rules of FileServiceAccountTokenStore.parseFile
// in every Elasticsearch version from 7.13 to 9.x. An error is a
// *ParseError naming the first line that some version rejects.
func Parse(data []byte) (*File, error) {
	lines := splitLines(data)
	f := &File{hashes: make(map[string]entry, len(lines))}
	definedAt := make(map[string]int, len(lines))
	// Java's readAllLines keeps a BOM as the first character of line 1.
	bom := bytes.HasPrefix(data, []byte(byteOrderMark))
	if bom {
		f.Misread = append(f.Misread, Misread{Line: 1, Reason: "the file starts with a UTF-8 byte order mark, which Elasticsearch reads as part of the first token name: save the file without it"})
	}
	for i, raw := range lines {
		n := i + 1
		if !utf8.Valid(raw) {
			return nil, &ParseError{Line: n, Msg: "not valid UTF-8", Brief: "not valid UTF-8"}
		}
		line := string(raw)
		if strings.HasPrefix(line, "#") {
			f.Dropped = append(f.Dropped, Dropped{Line: n, Reason: "comment"})
			continue
		}
		if javaIsBlank(line) {
			continue
		}
		line = javaTrim(line)
		colon := strings.IndexByte(line, ':')
		if colon < 0 {
			if bom && n == 1 {
				msg := "missing ':' character (the file starts with a UTF-8 byte order mark, so even a comment there is not one: save the file without it)"
				return nil, &ParseError{Line: n, Msg: msg, Brief: msg}
			}
			return nil, &ParseError{Line: n, Msg: "missing ':' character", Brief: "missing ':' character"}
		}
		key, hash := line[:colon], line[colon+1:]
		sh, err := ResolveStoredHash(hash)
		if err != nil {
			return nil, &ParseError{Line: n, Msg: fmt.Sprintf("token [%s]: %v", safetext.Input(key), err), Brief: "a " + hashFamily(hash) + " hash Elasticsearch cannot read"}
		}
		if sh.Kind == KindPlain {
			f.Dropped = append(f.Dropped, Dropped{Line: n, Key: key, Reason: "no hash prefix, Elasticsearch skips it as plain text"})
			continue
		}
		if prev, ok := definedAt[key]; ok {
			f.Dropped = append(f.Dropped, Dropped{Line: prev, Key: key, Reason: fmt.Sprintf("defined again on line %d, which Elasticsearch uses instead", n)})
		}
		definedAt[key] = n
		f.hashes[key] = entry{hash, sh.Kind}
		if why := misreadName(key); why != "" && !(bom && n == 1) {
			f.Misread = append(f.Misread, Misread{Line: n, Key: key, Reason: why})
		}
	}
	return f, nil
}

const byteOrderMark = "\ufeff"

// misreadName says why a token name read from a file does not look like
// what Elasticsearch keys, or "". Inner ASCII spaces are visible and left
// alone; a trailing one is not (javaTrim removed the line's own).
func misreadName(key string) string {
	if key == "" {
		return "a token has an empty name (nothing before ':'): remove the line or give it its name"
	}
	if strings.HasSuffix(key, " ") {
		return fmt.Sprintf("token %q: the name ends with a space, which Elasticsearch keeps as part of the name: remove the space before ':'", safetext.Input(key))
	}
	for _, r := range key {
		if r != ' ' && !unicode.IsPrint(r) {
			return fmt.Sprintf("token %q: the name holds the invisible or control character %U, which Elasticsearch keeps as part of the name: retype the name", safetext.Input(key), r)
		}
	}
	return ""
}

// splitLines splits as Java's BufferedReader.readLine does: on "\n",
// "\r\n" and a lone "\r"; a final terminator does not start a new line.
func splitLines(data []byte) [][]byte {
	var lines [][]byte
	for len(data) > 0 {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			lines = append(lines, data)
			break
		}
		lines = append(lines, data[:i])
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return lines
}

// Clone returns a copy that can be changed independently.
func (f *File) Clone() *File {
	c := &File{hashes: make(map[string]entry, len(f.hashes)), Dropped: f.Dropped, Misread: f.Misread}
	for k, e := range f.hashes {
		c.hashes[k] = e
	}
	return c
}

// Len is the number of tokens.
func (f *File) Len() int { return len(f.hashes) }

// Hash returns the stored hash of a qualified token name.
func (f *File) Hash(key string) (string, bool) {
	e, ok := f.hashes[key]
	return e.hash, ok
}

// Kind returns how Elasticsearch verifies a token's hash.
func (f *File) Kind(key string) HashKind { return f.hashes[key].kind }

// Set adds or replaces a token. The hash must be one Elasticsearch
// accepts (ResolveStoredHash returns no error for it).
func (f *File) Set(key, hash string) {
	sh, _ := ResolveStoredHash(hash)
	f.hashes[key] = entry{hash, sh.Kind}
}

// Delete removes a token and reports whether it was there.
func (f *File) Delete(key string) bool {
	_, ok := f.hashes[key]
	delete(f.hashes, key)
	return ok
}

// Keys returns the qualified token names in the order Elasticsearch's CLI
// writes and lists them (Java String order).
func (f *File) Keys() []string {
	keys := make([]string, 0, len(f.hashes))
	byteOrder := true
	for k := range f.hashes {
		keys = append(keys, k)
		byteOrder = byteOrder && !hasCharAboveUD7FF(k)
	}
	if byteOrder {
		slices.Sort(keys) // the same order, much faster
	} else {
		slices.SortFunc(keys, compareUTF16)
	}
	return keys
}

// Equal reports whether two files hold the same tokens and hashes.
func (f *File) Equal(g *File) bool {
	if len(f.hashes) != len(g.hashes) {
		return false
	}
	for k, e := range f.hashes {
		if ge, ok := g.hashes[k]; !ok || ge.hash != e.hash {
			return false
		}
	}
	return true
}

// ErrCommentKey is a token whose name starts with '#' (from an indented
// "  # x:hash" line, which Elasticsearch keys as "# x"). Written back it
// would start a line with '#', which Elasticsearch reads as a comment.
var ErrCommentKey = errors.New("starts with '#': written back, Elasticsearch would read it as a comment and drop it; remove or rename that line of the file by hand")

// Marshal returns the file as Elasticsearch's CLI writes it: one
// "key:hash\n" line per token in Keys order, no header, UTF-8.
//
// It refuses a key that would not read back as itself. Elasticsearch's CLI
// writes such keys anyway and loses them on the next read; a tool that
// promises never to lose data cannot.
func (f *File) Marshal() ([]byte, error) {
	var b bytes.Buffer
	for _, k := range f.Keys() {
		if strings.HasPrefix(k, "#") {
			return nil, fmt.Errorf("token [%s]: %w", safetext.Input(k), ErrCommentKey)
		}
		b.WriteString(k)
		b.WriteByte(':')
		b.WriteString(f.hashes[k].hash)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// Diff compares the tokens of two files by name. It never looks at what
// the hashes are, only whether they differ, so its result is safe to print.
type Diff struct {
	Added   []string // in next, not in prev
	Removed []string // in prev, not in next
	Changed []string // in both, with different hashes
}

// Empty reports whether the files hold the same tokens.
func (d Diff) Empty() bool { return len(d.Added)+len(d.Removed)+len(d.Changed) == 0 }

// Compare returns what changes from prev to next.
func Compare(prev, next *File) Diff {
	d := Diff{Added: []string{}, Removed: []string{}, Changed: []string{}}
	for _, k := range next.Keys() {
		if e, ok := prev.hashes[k]; !ok {
			d.Added = append(d.Added, k)
		} else if e.hash != next.hashes[k].hash {
			d.Changed = append(d.Changed, k)
		}
	}
	for _, k := range prev.Keys() {
		if _, ok := next.hashes[k]; !ok {
			d.Removed = append(d.Removed, k)
		}
	}
	return d
}
