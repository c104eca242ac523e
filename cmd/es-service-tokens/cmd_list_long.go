package main

// list --long: each token with what its metadata says.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/meta"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

func longFlag() cli.Flag {
	return &cli.BoolFlag{Name: "long", Aliases: []string{"l"}, Usage: "also show each token's age, creator, consumers, rotation and comment"}
}

// unknownOrigin is what list --long says of a token without a record.
const unknownOrigin = "unknown (not created by es-service-tokens)"

// listLong prints entries with their metadata. A metadata file that
// cannot be used is a warning: the tokens are listed all the same.
func (t *tool) listLong(c *cli.Context, asJSON bool, file string, f *tokens.File, entries []listEntry) error {
	m, err := store.LoadMeta(file)
	unknown := unknownOrigin
	if me, ok := errors.AsType[*store.MetaError](err); ok {
		t.warning(fmt.Sprintf("%s; token metadata cannot be shown: fix that file (or move it away: no token depends on it)", me))
		unknown = "unknown (the metadata file cannot be read)"
	}
	for _, n := range m.Notes {
		t.notice("note", n+" (list changes nothing: the next create or delete writes it back as one)")
	}
	if orphans := m.Set.Orphans(f); len(orphans) > 0 {
		t.notice("note", fmt.Sprintf("%s: metadata of %s not in %s: dropped at the next create or delete", store.MetaPath(file), plural(len(orphans), "token"), file))
	}
	now := time.Now()
	long := make([]listLongEntry, len(entries))
	for i, e := range entries {
		long[i] = longEntry(e, m.Set, now)
	}
	if asJSON {
		return writeJSON(t.stdout, struct {
			File   string          `json:"file"`
			Meta   string          `json:"metadata_file"`
			Tokens []listLongEntry `json:"tokens"`
		}{file, store.MetaPath(file), long})
	}
	return printLong(t, long, unknown)
}

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

func printLong(t *tool, entries []listLongEntry, unknown string) error {
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
	w := bufio.NewWriter(t.stdout)
	writeColumns(w, rows)
	return w.Flush()
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
