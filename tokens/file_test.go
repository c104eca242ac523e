package tokens

import (
	"reflect"
	"strings"
	"testing"
)

const (
	hashStretch = "{PBKDF2_STRETCH}10000$8QN+eThJEaCd18sCP0nfzxJq2D9yhmSZgI20TDooYcE=$+0ELfqW4D2+/SlHvm/885dzv67qO2SMJg32Mv/9epXk="
	hashPBKDF2  = "{PBKDF2}10000$0N2h5/AsDS5uO0/A+B6y8AnTCJ3Tqo8nygbzu1gkgpo=$5aTcCtteHf2g2ye7Y3p6jSZBoGhNJ7l6F3tmUhPTwRo="
	hashBcrypt  = "$2a$10$uuCzGHRrEz/QMB/.bmL8qOKXHhPNt57dYBbWCH/Hbb3SjUyZ.Hf1i"
)

// Cases are named good_ (Elasticsearch loads the file) and bad_ (it
// rejects the whole file), after filippo.io/age's test vectors.
func TestParse(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		keys    []string // for good_ cases
		dropped int
		err     string // for bad_ cases: the error text
	}{
		{name: "good_empty", in: "", keys: []string{}},
		{name: "good_es_fixture", in: "bcrypt:" + hashBcrypt + "\npbkdf2:" + hashPBKDF2 + "\nstretch:" + hashStretch +
			"\nplain:{plain}_By842iQQVKSCLxVcJZWvw\n", keys: []string{"bcrypt", "pbkdf2", "stretch"}, dropped: 1},
		{name: "good_crlf_and_lone_cr", in: "a:" + hashBcrypt + "\r\nb:" + hashBcrypt + "\rc:" + hashBcrypt, keys: []string{"a", "b", "c"}},
		{name: "good_comments_and_blank", in: "# hello\n\n \t\n\u3000\nx:" + hashStretch + "\n", keys: []string{"x"}, dropped: 1},
		{name: "good_indented_comment_with_colon_is_plain", in: "  # note: hi\n", keys: []string{}, dropped: 1},
		{name: "good_duplicate_last_wins", in: "k:" + hashBcrypt + "\nk:" + hashStretch + "\n", keys: []string{"k"}, dropped: 1},
		{name: "good_trimmed_line_key_keeps_inner_space", in: "  key :" + hashStretch + "  \n", keys: []string{"key "}},
		{name: "good_bom_becomes_part_of_key", in: "\ufeffa:" + hashStretch + "\n", keys: []string{"\ufeffa"}},
		{name: "good_bcrypt_2y", in: "y:$2y$10$flKBxak./o.7Hql0il/98ejdZyob67TmPhHbRy3qOnMtCBosAVSRy\n", keys: []string{"y"}},
		{name: "good_empty_hash_is_plain", in: "e:\n", keys: []string{}, dropped: 1},
		{name: "good_unknown_account_accepted", in: "nope/x/y:" + hashStretch + "\n", keys: []string{"nope/x/y"}},
		{name: "bad_missing_colon", in: "a:" + hashStretch + "\n\nno colon here\n", err: "line 3: missing ':' character"},
		{name: "bad_indented_comment_without_colon", in: "  # hi\n", err: "line 1: missing ':' character"},
		{name: "bad_nbsp_is_not_blank", in: "\u00a0\n", err: "line 1: missing ':' character"},
		{name: "bad_utf8", in: "a:" + hashStretch + "\nb\xff:x\n", err: "line 2: not valid UTF-8"},
		{name: "bad_pbkdf2_cost", in: "a:{PBKDF2}12345$0N2h5/AsDS5uO0/A+B6y8AnTCJ3Tqo8nygbzu1gkgpo=$5aTcCtteHf2g2ye7Y3p6jSZBoGhNJ7l6F3tmUhPTwRo=\n",
			err: "line 1: token [a]: PBKDF2 iteration count 12345 is not allowed"},
		{name: "bad_pbkdf2_no_dollar", in: "a:{PBKDF2_STRETCH}10000\n", err: "line 1: token [a]: the number of iterations could not be determined"},
		{name: "bad_pbkdf2_short_salt_breaks_old_versions", in: "a:{PBKDF2}10000$AAAAAAAAAAA=$5aTcCtteHf2g2ye7Y3p6jSZBoGhNJ7l6F3tmUhPTwRo=\n",
			err: "line 1: token [a]: PBKDF2 hash is too short for Elasticsearch 7.13 to 8.6"},
		{name: "bad_bcrypt_cost", in: "a:$2a$16$uuCzGHRrEz/QMB/.bmL8qOKXHhPNt57dYBbWCH/Hbb3SjUyZ.Hf1i\n", err: "line 1: token [a]: bcrypt cost 16 is not allowed"},
		{name: "bad_bcrypt_truncated", in: "a:$2a$10$uuCzGHRrEz\n", err: "line 1: token [a]: bcrypt hash is 17 characters long"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse([]byte(c.in))
			if strings.HasPrefix(c.name, "bad_") {
				if err == nil || !strings.HasPrefix(err.Error(), c.err) {
					t.Fatalf("Parse error = %v, want prefix %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := f.Keys(); !reflect.DeepEqual(got, c.keys) {
				t.Errorf("keys = %q, want %q", got, c.keys)
			}
			if len(f.Dropped) != c.dropped {
				t.Errorf("dropped = %+v, want %d entries", f.Dropped, c.dropped)
			}
		})
	}
}

func TestMarshalIsElasticsearchFormat(t *testing.T) {
	f := NewFile()
	f.Set("elastic/kibana/b", hashStretch)
	f.Set("elastic/fleet-server/z", hashBcrypt)
	f.Set("elastic/fleet-server/a", hashPBKDF2)
	got, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := "elastic/fleet-server/a:" + hashPBKDF2 + "\nelastic/fleet-server/z:" + hashBcrypt + "\nelastic/kibana/b:" + hashStretch + "\n"
	if string(got) != want {
		t.Errorf("Marshal =\n%s\nwant\n%s", got, want)
	}
	empty, _ := NewFile().Marshal()
	if len(empty) != 0 {
		t.Errorf("empty file marshals to %q, want 0 bytes", empty)
	}
}

func TestMarshalRefusesKeyThatWouldBecomeAComment(t *testing.T) {
	f, err := Parse([]byte("  #x:" + hashStretch + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Marshal(); err == nil || !strings.Contains(err.Error(), "[#x]") {
		t.Errorf("Marshal error = %v, want one naming [#x]", err)
	}
}

func TestKeysUseJavaStringOrder(t *testing.T) {
	// U+FF5E is above the surrogates in UTF-16 but below U+1F600 in UTF-8.
	f := NewFile()
	f.Set("a\U0001F600", hashStretch)
	f.Set("a\uff5e", hashStretch)
	f.Set("B", hashStretch)
	f.Set("a", hashStretch)
	want := []string{"B", "a", "a\U0001F600", "a\uff5e"}
	if got := f.Keys(); !reflect.DeepEqual(got, want) {
		t.Errorf("Keys = %q, want %q", got, want)
	}
}

func TestCompareNamesOnly(t *testing.T) {
	prev, _ := Parse([]byte("a:" + hashStretch + "\nb:" + hashBcrypt + "\nc:" + hashPBKDF2 + "\n"))
	next, _ := Parse([]byte("b:" + hashBcrypt + "\nc:" + hashStretch + "\nd:" + hashPBKDF2 + "\n"))
	d := Compare(prev, next)
	want := Diff{Added: []string{"d"}, Removed: []string{"a"}, Changed: []string{"c"}}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("Compare = %+v, want %+v", d, want)
	}
	if !Compare(prev, prev).Empty() {
		t.Error("a file differs from itself")
	}
}
