package yamlkeys

import (
	"testing"

	"gopkg.in/yaml.v3"
)

func TestDuplicate(t *testing.T) {
	cases := []struct {
		doc  string
		want *Dup
	}{
		{"a: 1\nb: 2\n", nil},
		{"a: 1\nb: 2\na: 3\n", &Dup{"a", 1, 3}},
		{"x:\n  - {p: 1, q: 2}\n  - y: 1\n    y: 2\n", &Dup{"y", 3, 4}},
		{"1: a\n\"1\": b\n", &Dup{"1", 1, 2}},
		{"base: &b {k: 1}\nn:\n  <<: *b\n  k: 2\n", nil}, // an override of a merged key is not a duplicate
		{"- a: 1\n- a: 2\n", nil},
	}
	for _, c := range cases {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(c.doc), &n); err != nil {
			t.Fatal(err)
		}
		got := Duplicate(&n)
		if (got == nil) != (c.want == nil) || (got != nil && *got != *c.want) {
			t.Errorf("%q: got %+v, want %+v", c.doc, got, c.want)
		}
	}
}
