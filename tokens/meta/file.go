package meta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// Header is the first line of every file written: what the file is, for
// whoever finds it in a repository.
const Header = "# es-service-tokens token metadata: one JSON object per token, no secrets; git: merge=union (see docs/metadata.md)"

// SyntaxError is a line that is not a record. The file is then left as it
// is: rewriting it would lose whatever that line held.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Parse reads a metadata file. Blank lines and lines starting with '#' are
// skipped. notes say what a rewrite will change: two records of one token
// (a git union merge of two edits) are merged into one.
func Parse(data []byte) (s *Set, notes []string, err error) {
	s = NewSet()
	lineOf := map[string]int{}
	for i, raw := range bytes.Split(data, []byte("\n")) {
		n := i + 1
		line := strings.TrimRight(string(raw), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, err := parseLine(line)
		if err != nil {
			return nil, nil, &SyntaxError{Line: n, Msg: err.Error()}
		}
		if prev, ok := s.recs[r.Token]; ok {
			r = merge(prev, r)
			notes = append(notes, fmt.Sprintf("line %d: a second record of %s (line %d), from a merge of two edits: merged into one", n, r.Token, lineOf[r.Token]))
		}
		lineOf[r.Token] = n
		s.Put(r)
	}
	return s, notes, nil
}

// conflictMarkers start the lines git writes into a file it could not merge.
var conflictMarkers = []string{"<<<<<<<", "|||||||", "=======", ">>>>>>>"}

func parseLine(line string) (Record, error) {
	for _, m := range conflictMarkers {
		if strings.HasPrefix(line, m) {
			return Record{}, fmt.Errorf("a git conflict marker (%s): finish the merge by hand, keeping both sides' records", m)
		}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &obj); err != nil {
		return Record{}, fmt.Errorf("not a JSON object (%v)", err)
	}
	var r Record
	for k, v := range obj {
		if err := r.setField(k, v); err != nil {
			return Record{}, fmt.Errorf("%s: %v", k, err)
		}
	}
	if r.Token == "" {
		return Record{}, fmt.Errorf("no \"token\": every record names its token")
	}
	return r, nil
}

func (r *Record) setField(k string, v json.RawMessage) error {
	switch k {
	case "consumers":
		return json.Unmarshal(v, &r.Consumers)
	case "token", "created", "created_by", "comment", "rotated_from", "rotated_to", "rotation":
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("not a string")
		}
		return r.setString(k, s)
	}
	if r.extra == nil {
		r.extra = map[string]string{}
	}
	r.extra[k] = string(v)
	return nil
}

func (r *Record) setString(k, s string) error {
	switch k {
	case "token":
		if _, _, ok := tokens.SplitQualifiedName(s); !ok {
			return fmt.Errorf("%q is not namespace/service/name", safetext.Input(s))
		}
		r.Token = s
	case "created":
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return fmt.Errorf("%q is not an RFC 3339 time (2026-01-31T12:00:00Z)", safetext.Input(s))
		}
		r.Created = t.UTC()
	case "created_by":
		r.CreatedBy = s
	case "comment":
		r.Comment = s
	case "rotated_from":
		r.RotatedFrom = s
	case "rotated_to":
		r.RotatedTo = s
	case "rotation":
		p, ok := ParsePhase(s)
		if !ok {
			return fmt.Errorf("%q is not a rotation phase", safetext.Input(s))
		}
		r.Phase = p
	}
	return nil
}

// merge is two records of one token: a field set in one of them is kept;
// set in both, the later line's wins, but for the phase: the later
// phase wins.
func merge(a, b Record) Record {
	pick := func(x, y string) string {
		if y != "" {
			return y
		}
		return x
	}
	if b.Created.IsZero() {
		b.Created = a.Created
	}
	b.CreatedBy, b.Comment = pick(a.CreatedBy, b.CreatedBy), pick(a.Comment, b.Comment)
	b.RotatedFrom, b.RotatedTo = pick(a.RotatedFrom, b.RotatedFrom), pick(a.RotatedTo, b.RotatedTo)
	// A rotation only moves forward (done last): the later phase is the
	// truth, whichever line git put last.
	if phaseRank(a.Phase) > phaseRank(b.Phase) {
		b.Phase = a.Phase
	}
	b.Consumers = append(slices.Clone(a.Consumers), b.Consumers...)
	for k, v := range a.extra {
		if _, ok := b.extra[k]; !ok {
			if b.extra == nil {
				b.extra = map[string]string{}
			}
			b.extra[k] = v
		}
	}
	return b
}

// phaseRank orders the phases a successor goes through; done, the empty
// phase, comes after every other.
func phaseRank(p Phase) int {
	if p == Done {
		return len(phases)
	}
	return slices.Index(phases, p)
}

// Marshal returns the file: the header, then one line per record, sorted
// by token.
func (s *Set) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString(Header + "\n")
	for _, k := range s.Tokens() {
		b.WriteString(s.recs[k].line())
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// line is the record as one JSON object, keys in a fixed order and empty
// fields left out, so that a change shows as a small diff.
func (r Record) line() string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, quote(k)+":"+v)
		}
	}
	str := func(s string) string {
		if s == "" {
			return ""
		}
		return quote(s)
	}
	created := ""
	if !r.Created.IsZero() {
		created = r.Created.UTC().Format(time.RFC3339)
	}
	add("token", str(r.Token))
	add("created", str(created))
	add("created_by", str(r.CreatedBy))
	add("comment", str(r.Comment))
	if len(r.Consumers) > 0 {
		q := make([]string, len(r.Consumers))
		for i, c := range r.Consumers {
			q[i] = quote(c)
		}
		add("consumers", "["+strings.Join(q, ",")+"]")
	}
	add("rotated_from", str(r.RotatedFrom))
	add("rotated_to", str(r.RotatedTo))
	add("rotation", str(string(r.Phase)))
	extra := make([]string, 0, len(r.extra))
	for k := range r.extra {
		extra = append(extra, k)
	}
	slices.Sort(extra)
	for _, k := range extra {
		add(k, r.extra[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// quote is s as a JSON string, with <, > and & as they are: the file is
// read by people and git, not embedded in HTML.
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
