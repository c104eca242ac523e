package meta

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/tokens"
)

var t0 = time.Date(2026, 11, 29, 21, 30, 0, 0, time.UTC)

// A set written and read back is the same set, byte for byte, whatever
// its fields hold (quotes, <, non-ASCII, keys of a newer version).
func TestRoundTrip(t *testing.T) {
	s := NewSet()
	s.Put(Record{Token: "elastic/kibana/k-20261129T213000Z", Created: t0.Add(500 * time.Millisecond), CreatedBy: "alice@ws1",
		Comment: `prod "blue" <kibana> & ünïcode`, Consumers: []string{"kb-2", "kb-1", "kb-1"},
		RotatedFrom: "elastic/kibana/k", Phase: Delivering})
	s.Put(Record{Token: "elastic/fleet-server/a", CreatedBy: "bob@ws2"})
	data := s.Marshal()
	want := Header + "\n" +
		`{"token":"elastic/fleet-server/a","created_by":"bob@ws2"}` + "\n" +
		`{"token":"elastic/kibana/k-20261129T213000Z","created":"2026-11-29T21:30:00Z","created_by":"alice@ws1","comment":"prod \"blue\" <kibana> & ünïcode","consumers":["kb-1","kb-2"],"rotated_from":"elastic/kibana/k","rotation":"delivering"}` + "\n"
	if string(data) != want {
		t.Fatalf("Marshal:\n%s\nwant:\n%s", data, want)
	}
	back, notes, err := Parse(append(data, []byte(`{"token":"elastic/kibana/z","future":{"x":[1,2]}}`+"\n")...))
	if err != nil || len(notes) != 0 {
		t.Fatalf("Parse: %v %v", err, notes)
	}
	if !strings.Contains(string(back.Marshal()), `{"token":"elastic/kibana/z","future":{"x":[1,2]}}`) {
		t.Errorf("a newer version's key was not kept:\n%s", back.Marshal())
	}
	back.Delete("elastic/kibana/z")
	if !back.Equal(s) {
		t.Errorf("read back differs:\n%s", back.Marshal())
	}
}

// Two admins editing one token's record, merged by git's union driver,
// leave two lines: read as one record, later fields winning, noted.
func TestParseMergesUnionDuplicates(t *testing.T) {
	data := Header + "\n" +
		`{"token":"elastic/kibana/k","created":"2026-11-29T21:30:00Z","created_by":"alice@ws1","consumers":["a"]}` + "\n" +
		`{"token":"elastic/kibana/k","comment":"set by bob","consumers":["b"],"rotated_to":"elastic/kibana/k-20261201T000000Z"}` + "\n"
	s, notes, err := Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := s.Get("elastic/kibana/k")
	if r.CreatedBy != "alice@ws1" || r.Comment != "set by bob" || !r.Created.Equal(t0) || strings.Join(r.Consumers, ",") != "a,b" || r.RotatedTo == "" {
		t.Errorf("merged record = %+v", r)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "line 3: a second record of elastic/kibana/k (line 2)") {
		t.Errorf("notes = %q", notes)
	}
}

// Every kind of damage is one error naming the line, never a panic or a
// silently skipped record.
func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{`<<<<<<< HEAD`, "line 2: a git conflict marker (<<<<<<<)"},
		{`=======`, "git conflict marker"},
		{`{"token":"elastic/kibana/k"`, "line 2: not a JSON object"},
		{`["elastic/kibana/k"]`, "not a JSON object"},
		{`{"created":"2026-11-29T21:30:00Z"}`, `no "token"`},
		{`{"token":"kibana"}`, `token: "kibana" is not namespace/service/name`},
		{`{"token":"elastic/kibana/k","created":"yesterday"}`, "created: \"yesterday\" is not an RFC 3339 time"},
		{`{"token":"elastic/kibana/k","rotation":"half-done"}`, `rotation: "half-done" is not a rotation phase`},
		{`{"token":"elastic/kibana/k","comment":7}`, "comment: not a string"},
		{`{"token":"elastic/kibana/k","consumers":"kb"}`, "consumers:"},
	} {
		_, _, err := Parse([]byte("# header\n" + c.line + "\n"))
		var se *SyntaxError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.line, err, c.want)
		}
	}
	if s, _, err := Parse([]byte("\n# only comments\r\n\n")); err != nil || s.Len() != 0 {
		t.Errorf("blank file: %v %v", s, err)
	}
}

func TestOrphansAndSuccessor(t *testing.T) {
	s := NewSet()
	s.Put(Record{Token: "elastic/kibana/a", RotatedTo: "elastic/kibana/a-20261201T000000Z"})
	s.Put(Record{Token: "elastic/kibana/a-20261201T000000Z", RotatedFrom: "elastic/kibana/a", Phase: Proven})
	s.Put(Record{Token: "elastic/kibana/gone"})
	s.Put(Record{Token: "elastic/kibana/b-20250101T000000Z", RotatedFrom: "elastic/kibana/b"}) // done
	f := tokens.NewFile()
	f.Set("elastic/kibana/a", "{PBKDF2_STRETCH}x")
	f.Set("elastic/kibana/a-20261201T000000Z", "{PBKDF2_STRETCH}x")
	f.Set("elastic/kibana/b-20250101T000000Z", "{PBKDF2_STRETCH}x")
	if got := strings.Join(s.Orphans(f), ","); got != "elastic/kibana/gone" {
		t.Errorf("Orphans = %s", got)
	}
	if r, ok := s.SuccessorOf("elastic/kibana/a"); !ok || r.Phase != Proven {
		t.Errorf("SuccessorOf(a) = %+v %v", r, ok)
	}
	if _, ok := s.SuccessorOf("elastic/kibana/b"); ok {
		t.Error("a finished rotation has no pending successor")
	}
}

func TestNames(t *testing.T) {
	at := time.Date(2026, 12, 2, 20, 30, 0, 0, time.FixedZone("CET", 3600))
	for _, c := range []struct{ name, successor, base string }{
		{"kibana-1", "kibana-1-20261202T193000Z", "kibana-1"},
		{"kibana-1-20250101T000000Z", "kibana-1-20261202T193000Z", "kibana-1"},
		{"-20250101T000000Z", "-20250101T000000Z-20261202T193000Z", "-20250101T000000Z"}, // all suffix: kept as its own base
		{"x-2025T1Z", "x-2025T1Z-20261202T193000Z", "x-2025T1Z"},
		{strings.Repeat("n", 256), strings.Repeat("n", 239) + "-20261202T193000Z", strings.Repeat("n", 256)},
	} {
		if got := SuccessorName(c.name, at); got != c.successor || !tokens.ValidTokenName(got) {
			t.Errorf("SuccessorName(%q) = %q, want %q", c.name, got, c.successor)
		}
		if got := Base(c.name); got != c.base {
			t.Errorf("Base(%q) = %q, want %q", c.name, got, c.base)
		}
	}
	if Lineage("elastic/kibana/k-20261202T193000Z") != "elastic/kibana/k" || Lineage("elastic/kibana/k") != "elastic/kibana/k" {
		t.Error("Lineage")
	}
}

func TestAges(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"90d": 90 * 24 * time.Hour, "12w": 84 * 24 * time.Hour, "1w2d": 9 * 24 * time.Hour, "2d12h": 60 * time.Hour,
		"36h": 36 * time.Hour, "1h30m": 90 * time.Minute, "3600": time.Hour, "2.5": 2500 * time.Millisecond,
	} {
		if got, err := ParseAge(in); err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "90 days", "-1d", "0", "0d", "1y", "w"} {
		if _, err := ParseAge(bad); err == nil {
			t.Errorf("ParseAge(%q) accepted", bad)
		}
	}
	for d, want := range map[time.Duration]string{
		97*24*time.Hour + 5*time.Hour: "97d", 23 * time.Hour: "23h", 59 * time.Minute: "59m", 3 * time.Second: "3s", -time.Hour: "0s",
	} {
		if got := FormatAge(d); got != want {
			t.Errorf("FormatAge(%v) = %s, want %s", d, got, want)
		}
	}
}

func TestCheckComment(t *testing.T) {
	if err := CheckComment("Kibana, prod cluster (ticket OPS-42)"); err != nil {
		t.Error(err)
	}
	if err := CheckComment(strings.Repeat("é", MaxComment)); err != nil {
		t.Errorf("256 characters: %v", err)
	}
	if err := CheckComment(strings.Repeat("x", MaxComment+1)); err == nil || !strings.Contains(err.Error(), "257 characters") {
		t.Errorf("too long: %v", err)
	}
	if err := CheckComment("a\nb"); err == nil || !strings.Contains(err.Error(), `a\nb`) {
		t.Errorf("newline: %v", err)
	}
}

// Judge names exactly the tokens past the maximum; tokens without a
// record, or with one that lacks a creation time, are of unknown age and
// never past it.
func TestJudge(t *testing.T) {
	now := t0.Add(100 * 24 * time.Hour)
	f := tokens.NewFile()
	s := NewSet()
	for name, created := range map[string]time.Time{"old": t0, "young": now.Add(-time.Hour), "edge": now.Add(-90 * 24 * time.Hour), "undated": {}} {
		f.Set("elastic/kibana/"+name, "{PBKDF2_STRETCH}x")
		s.Put(Record{Token: "elastic/kibana/" + name, Created: created})
	}
	f.Set("elastic/kibana/foreign", "{PBKDF2_STRETCH}x")
	a := Judge(f, s, now, 90*24*time.Hour)
	if len(a.Over) != 1 || a.Over[0].Token != "elastic/kibana/old" || a.Over[0].Age != 100*24*time.Hour {
		t.Errorf("Over = %+v", a.Over)
	}
	if len(a.Known) != 3 || strings.Join(a.Unknown, ",") != "elastic/kibana/foreign,elastic/kibana/undated" {
		t.Errorf("Known = %+v, Unknown = %q", a.Known, a.Unknown)
	}
	if a := Judge(f, s, now, 0); len(a.Over) != 0 || len(a.Known) != 3 {
		t.Errorf("no maximum: %+v", a)
	}
}

// Two records of one successor from a union merge (one admin finished the
// rotation, another's branch still has it delivering): a rotation only
// moves forward, so the merged record is at the later phase, done
// included, whichever line comes first. A finished rotation read back as
// delivering could be neither continued (its secret is gone) nor renewed.
func TestMergedPhaseIsTheLater(t *testing.T) {
	const succ = `{"token":"elastic/kibana/k1-20261203T000000Z","created":"2026-12-03T00:00:00Z","created_by":"a@h","rotated_from":"elastic/kibana/k1"`
	for _, c := range []struct{ first, second, want string }{
		{`,"rotation":"delivering"}`, `}`, ""},
		{`}`, `,"rotation":"delivering"}`, ""},
		{`,"rotation":"retiring"}`, `,"rotation":"proven"}`, "retiring"},
		{`,"rotation":"created"}`, `,"rotation":"handed-over"}`, "handed-over"},
	} {
		s, _, err := Parse([]byte(Header + "\n" + succ + c.first + "\n" + succ + c.second + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		r, _ := s.Get("elastic/kibana/k1-20261203T000000Z")
		if string(r.Phase) != c.want {
			t.Errorf("%s then %s: phase %q, want %q", c.first, c.second, r.Phase, c.want)
		}
	}
}
