package digest

import "testing"

func TestSHA256(t *testing.T) {
	// sha256sum of an empty file and of "abc\n", as coreutils prints them.
	for in, want := range map[string]string{
		"":      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"abc\n": "edeaaff3f1774ad2888673770c6d64097e391bc362d7d6fb34982ddf0efd18cb",
	} {
		if got := SHA256([]byte(in)); got != want {
			t.Errorf("SHA256(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestShort(t *testing.T) {
	if got := Short("e3b0c44298fc1c149afbf4c8996fb924"); got != "e3b0c44298fc" {
		t.Errorf("Short = %q", got)
	}
	if got := Short("e3b0"); got != "e3b0" {
		t.Errorf("Short of a short string = %q, want it whole", got)
	}
}
