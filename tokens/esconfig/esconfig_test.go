package esconfig

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLocatePrecedence(t *testing.T) {
	e := env(map[string]string{"ES_PATH_CONF": "/etc/es", "ES_HOME": "/usr/share/es"})
	cases := []struct {
		s    Sources
		file string
		from string
	}{
		{Sources{File: "/x/tokens", PathConf: "/a", Env: e}, "/x/tokens", "file"},
		{Sources{PathConf: "/a", ESHome: "/h", Env: e}, "/a/service_tokens", "path conf"},
		{Sources{ESHome: "/h", Inventory: "/inv/service_tokens", Env: e}, "/h/config/service_tokens", "es home"},
		{Sources{Inventory: "/inv/tokens", Env: e}, "/inv/tokens", "inventory local_file"},
		{Sources{Env: e}, "/etc/es/service_tokens", "ES_PATH_CONF"},
		{Sources{Env: env(map[string]string{"ES_HOME": "/h"})}, "/h/config/service_tokens", "ES_HOME"},
	}
	for _, c := range cases {
		loc, err := Locate(c.s)
		if err != nil || loc.File != c.file || loc.From.String() != c.from {
			t.Errorf("Locate(%+v) = %+v, %v; want %s from %s", c.s, loc, err, c.file, c.from)
		}
	}
	if _, err := Locate(Sources{Env: env(nil)}); !errors.Is(err, ErrNoLocation) {
		t.Errorf("no source: err = %v", err)
	}
}

func TestHashingAlgorithmFromYAML(t *testing.T) {
	cases := []struct {
		yml, env, want, err string
	}{
		{yml: "", want: "pbkdf2_stretch"},
		{yml: "cluster.name: x\n", want: "pbkdf2_stretch"},
		{yml: "xpack.security.authc.service_token_hashing.algorithm: BCRYPT\n", want: "bcrypt"},
		{yml: "xpack:\n  security.authc:\n    service_token_hashing.algorithm: pbkdf2_50000\n", want: "pbkdf2_50000"},
		{yml: "xpack.security.authc.service_token_hashing.algorithm: ${ALG}\n", env: "bcrypt9", want: "bcrypt9"},
		{yml: "xpack.security.authc.service_token_hashing.algorithm: ${ALG:pbkdf2}\n", want: "pbkdf2"},
		{yml: "xpack.security.authc.service_token_hashing.algorithm: ${ALG}\n", err: "could not resolve placeholder 'ALG'"},
		{yml: "xpack.security.authc.service_token_hashing.algorithm: bcrypt\nxpack:\n  security.authc.service_token_hashing.algorithm: pbkdf2\n", err: "duplicate settings key"},
		{yml: "xpack.security.authc.service_token_hashing.algorithm: [a, b]\n", err: "must be a single value"},
		{yml: "xpack.security.authc.service_token_hashing.algorithm:\n", want: "pbkdf2_stretch"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "elasticsearch.yml"), []byte(c.yml), 0o600)
		alg, err := hashingAlgorithm(dir, nil, env(map[string]string{"ALG": c.env}))
		if c.err != "" {
			var ce *ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err = %v, want ConfigError containing %q", c.yml, err, c.err)
			}
			continue
		}
		if err != nil || alg != c.want {
			t.Errorf("%q: %v, %v; want %s", c.yml, alg, err, c.want)
		}
	}
}

func hashingAlgorithm(dir string, opts []string, env func(string) string) (string, error) {
	s, err := LoadSettings(dir, opts)
	if err != nil {
		return "", err
	}
	alg, _, err := s.HashingAlgorithm(env)
	return alg.String(), err
}

func TestOverridesWin(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "elasticsearch.yml"), []byte("xpack.security.authc.service_token_hashing.algorithm: bcrypt\n"), 0o600)
	s, err := LoadSettings(dir, []string{"xpack.security.authc.service_token_hashing.algorithm=pbkdf2"})
	if err != nil {
		t.Fatal(err)
	}
	if alg, from, _ := s.HashingAlgorithm(env(nil)); alg.String() != "pbkdf2" || !strings.HasPrefix(from, "-E") {
		t.Errorf("-E did not win: %v from %s", alg, from)
	}
}

// -E options are checked before elasticsearch.yml is read, as
// EnvironmentAwareCommand does, in Elasticsearch 8.x's words.
func TestOverridesChecked(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "elasticsearch.yml"), []byte("a: [\n"), 0o600)
	for _, c := range []struct {
		opts []string
		want string
	}{
		{[]string{"a=1", "a=2"}, "setting [a] set twice via command line -E"},
		{[]string{"a=1", "b=2", "a=1"}, "setting [a] set twice via command line -E"},
		{[]string{"a"}, "setting [a] must not be empty"},
		{[]string{"a="}, "setting [a] must not be empty"},
		{[]string{"="}, "setting [] must not be empty"},
		{[]string{"=secret"}, "setting name missing in -E =...: write -E key=value"},
	} {
		_, err := LoadSettings(dir, c.opts)
		var ue *UsageError
		if !errors.As(err, &ue) || err.Error() != c.want {
			t.Errorf("%q: err = %v, want UsageError %q", c.opts, err, c.want)
		}
	}
	// A pasted blob as a key is echoed bounded, on one line.
	long := strings.Repeat("k", 5000)
	if _, err := LoadSettings(dir, []string{long + "=1", long + "=2"}); err == nil || len(err.Error()) > 200 ||
		!strings.Contains(err.Error(), "(5000 characters)") {
		t.Errorf("long key: %.300v", err)
	}
	// Values may hold '='; only the first one splits.
	if _, err := LoadSettings(t.TempDir(), []string{"a=b=c"}); err != nil {
		t.Errorf("a=b=c: %v", err)
	}
}

// An elasticsearch.yml Elasticsearch cannot parse stops every command,
// whatever setting it asks for.
func TestUnparsableYAML(t *testing.T) {
	for _, yml := range []string{"a: [\n", "just a string\n", "- a\n- b\n", "a: 1\na: 2\n", "a.b: 1\na:\n  b: 2\n"} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "elasticsearch.yml"), []byte(yml), 0o600)
		_, err := LoadSettings(dir, nil)
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), filepath.Join(dir, "elasticsearch.yml")) {
			t.Errorf("%q: err = %v, want a ConfigError naming the file", yml, err)
		}
	}
	for _, yml := range []string{"", "# only a comment\n", "~\n", "cluster.name: x\n"} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "elasticsearch.yml"), []byte(yml), 0o600)
		if _, err := LoadSettings(dir, nil); err != nil {
			t.Errorf("%q: %v", yml, err)
		}
	}
}
