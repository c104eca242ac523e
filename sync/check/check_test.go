package check

import (
	"reflect"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/tokens"
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
