package check

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/tokens"
	"github.com/es-service-tokens/es-service-tokens/tokens/store"
)

const h1 = "{PBKDF2_STRETCH}10000$8QN+eThJEaCd18sCP0nfzxJq2D9yhmSZgI20TDooYcE=$+0ELfqW4D2+/SlHvm/885dzv67qO2SMJg32Mv/9epXk="
const h2 = "$2a$10$uuCzGHRrEz/QMB/.bmL8qOKXHhPNt57dYBbWCH/Hbb3SjUyZ.Hf1i"

func TestCompareNamesTokens(t *testing.T) {
	local := []byte("a:" + h1 + "\nb:" + h1 + "\n")
	lf, _ := tokens.Parse(local)
	if d := Compare(local, local, lf); d != nil {
		t.Errorf("same bytes differ: %+v", d)
	}
	d := Compare([]byte("b:"+h2+"\nc:"+h1+"\n"), local, lf)
	want := Difference{What: "content", MissingOnNode: []string{"a"}, ExtraOnNode: []string{"c"}, HashDiffers: []string{"b"}}
	got := d[0]
	got.Seen, got.Expected = "", ""
	if len(d) != 1 || !reflect.DeepEqual(got, want) {
		t.Errorf("Compare = %+v, want %+v", d, want)
	}
	d = Compare([]byte("# same tokens\nb:"+h1+"\na:"+h1+"\n"), local, lf)
	if d[0].Detail != "same tokens, different bytes (order, comments or duplicates)" {
		t.Errorf("reordered file: %+v", d)
	}
	d = Compare([]byte("no colon\n"), local, lf)
	if d[0].Detail == "" || d[0].MissingOnNode != nil {
		t.Errorf("malformed node file: %+v", d)
	}
}

func TestExitCodesFollowDiff(t *testing.T) {
	cases := []struct {
		states []State
		want   int
	}{
		{[]State{InSync, InSync}, 0},
		{[]State{InSync, Drift}, 1},
		{[]State{Drift, Error}, 2},
		{[]State{Error}, 2},
	}
	for _, c := range cases {
		var rs []Result
		for _, s := range c.states {
			rs = append(rs, Result{State: s})
		}
		if got := Summarize(rs).ExitCode(); got != c.want {
			t.Errorf("%v: exit %d, want %d", c.states, got, c.want)
		}
	}
}

// --against: the other file plays the node, the local file's own owner,
// group and mode are the target; same bytes in sync, a wrong mode and a
// changed token drift, a missing file is "missing".
func TestAgainstComparesTwoFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode) // not the umask's
		return p
	}
	localPath := write("local", "a:"+h1+"\n", 0o640)
	local, err := store.Load(localPath)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Against(localPath, local, write("same", "a:"+h1+"\n", 0o640))
	if err != nil || r.State != InSync || len(r.Differences) != 0 || r.Seen != r.Expected {
		t.Errorf("same file: %+v, %v", r, err)
	}
	r, _ = Against(localPath, local, write("other", "a:"+h2+"\n", 0o644))
	var what []string
	for _, d := range r.Differences {
		what = append(what, d.What+" "+d.Seen+" "+d.Expected)
	}
	if r.State != Drift || len(what) != 2 || !strings.HasPrefix(what[0], "content sha256:") || what[1] != "mode 0644 0640" ||
		!reflect.DeepEqual(r.Differences[0].HashDiffers, []string{"a"}) {
		t.Errorf("other file: %s\n%+v", what, r)
	}
	r, _ = Against(localPath, local, filepath.Join(dir, "missing"))
	if r.State != Drift || len(r.Differences) != 1 || r.Differences[0].What != "missing" {
		t.Errorf("missing file: %+v", r)
	}
	r, err = Against(localPath, local, write("bad", "no colon\n", 0o640))
	if err != nil || r.State != Drift || !strings.Contains(r.Differences[0].Detail, "Elasticsearch cannot load this file") {
		t.Errorf("unloadable file: %+v, %v", r, err)
	}
}
