package output

// list and list --long.

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

// Listing is the tokens list shows: keys, of the file at File.
type Listing struct {
	File   string
	Tokens *tokens.File
	Keys   []string
}

func (l Listing) entries() []listEntry {
	entries := []listEntry{}
	for _, k := range l.Keys {
		e := listEntry{QualifiedName: k, HashAlgorithm: string(l.Tokens.Kind(k))}
		e.Principal, e.Name, _ = tokens.SplitQualifiedName(k)
		entries = append(entries, e)
	}
	return entries
}

// List renders list: each token's name (JSON: with its principal, name
// and hash algorithm). silent prints nothing, as Elasticsearch does.
func List(w io.Writer, asJSON, silent bool, l Listing) error {
	entries := l.entries()
	if asJSON {
		return JSON(w, struct {
			File   string      `json:"file"`
			Tokens []listEntry `json:"tokens"`
		}{l.File, entries})
	}
	if silent {
		return nil // Elasticsearch prints the keys at normal verbosity only
	}
	b := bufio.NewWriter(w)
	for _, e := range entries {
		fmt.Fprintln(b, e.QualifiedName)
	}
	return b.Flush()
}

// ListLong renders list --long: each token with what set, its metadata,
// says of it at now. unreadable: the metadata file cannot be read.
func ListLong(w io.Writer, asJSON bool, l Listing, set *meta.Set, now time.Time, unreadable bool) error {
	entries := l.entries()
	long := make([]listLongEntry, len(entries))
	for i, e := range entries {
		long[i] = longEntry(e, set, now)
	}
	if asJSON {
		return JSON(w, struct {
			File   string          `json:"file"`
			Meta   string          `json:"metadata_file"`
			Tokens []listLongEntry `json:"tokens"`
		}{l.File, store.MetaPath(l.File), long})
	}
	unknown := unknownOrigin
	if unreadable {
		unknown = "unknown (the metadata file cannot be read)"
	}
	return printLong(w, long, unknown)
}

// unknownOrigin is what list --long says of a token without a record.
const unknownOrigin = "unknown (not created by es-service-tokens)"

func longEntry(e listEntry, set *meta.Set, now time.Time) listLongEntry {
	l := listLongEntry{listEntry: e, Consumers: []string{}}
	r, ok := set.Get(e.QualifiedName)
	if !ok {
		return l
	}
	l.Recorded, l.CreatedBy, l.Comment = true, r.CreatedBy, r.Comment
	l.RotatedFrom, l.RotatedTo, l.Rotation = r.RotatedFrom, r.RotatedTo, string(r.Phase)
	if len(r.Consumers) > 0 {
		l.Consumers = r.Consumers
	}
	if age, known := r.Age(now); known {
		secs := int64(age / time.Second)
		l.Created, l.AgeSeconds = r.Created.Format(time.RFC3339), &secs
	}
	return l
}

func printLong(w io.Writer, entries []listLongEntry, unknown string) error {
	if len(entries) == 0 {
		return nil
	}
	rows := [][]string{{"TOKEN", "AGE", "CREATED", "CREATED BY", "CONSUMERS", "ROTATION", "COMMENT"}}
	for _, e := range entries {
		if !e.Recorded {
			rows = append(rows, []string{e.QualifiedName, unknown})
			continue
		}
		age, created := "unknown", "-"
		if e.AgeSeconds != nil {
			age, created = meta.FormatAge(time.Duration(*e.AgeSeconds)*time.Second), e.Created
		}
		rows = append(rows, []string{e.QualifiedName, age, created, dash(e.CreatedBy),
			dash(strings.Join(e.Consumers, ",")), rotationNote(e), dash(e.Comment)})
	}
	b := bufio.NewWriter(w)
	writeColumns(b, rows)
	return b.Flush()
}

// writeColumns aligns rows in columns two spaces apart. A row with fewer
// cells (a token without a record) lets its last cell run on from its
// column without widening the others; the last column is never padded.
func writeColumns(w io.Writer, rows [][]string) {
	var width []int
	for _, r := range rows {
		for i, cell := range r[:len(r)-1] {
			if i == len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, cell := range r[:len(r)-1] {
			b.WriteString(cell)
			b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell)+2))
		}
		b.WriteString(r[len(r)-1])
		fmt.Fprintln(w, b.String())
	}
}

// rotationNote is a token's place in a rotation, by token name (the
// principal is the token's own): "to k-20261202T193000Z", or "from k"
// with the phase while that rotation is under way.
func rotationNote(e listLongEntry) string {
	short := func(q string) string {
		if _, n, ok := tokens.SplitQualifiedName(q); ok {
			return n
		}
		return q
	}
	switch {
	case e.RotatedTo != "":
		return "to " + short(e.RotatedTo)
	case e.RotatedFrom != "" && e.Rotation != "":
		return "from " + short(e.RotatedFrom) + " (" + e.Rotation + ")"
	case e.RotatedFrom != "":
		return "from " + short(e.RotatedFrom)
	}
	return "-"
}

// dash is "-" for an empty column, and the value escaped to one line
// otherwise: the metadata file is text anyone may have edited.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return safetext.Escape(s)
}
