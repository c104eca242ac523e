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
		alg, _, err := HashingAlgorithm(dir, nil, env(map[string]string{"ALG": c.env}))
		if c.err != "" {
			var ce *ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err = %v, want ConfigError containing %q", c.yml, err, c.err)
			}
			continue
		}
		if err != nil || alg.String() != c.want {
			t.Errorf("%q: %v, %v; want %s", c.yml, alg, err, c.want)
		}
	}
}

func TestOverridesWinAndAreChecked(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "elasticsearch.yml"), []byte("xpack.security.authc.service_token_hashing.algorithm: bcrypt\n"), 0o600)
	o, err := ParseOverrides([]string{"xpack.security.authc.service_token_hashing.algorithm=pbkdf2"})
	if err != nil {
		t.Fatal(err)
	}
	if alg, from, _ := HashingAlgorithm(dir, o, env(nil)); alg.String() != "pbkdf2" || !strings.HasPrefix(from, "-E") {
		t.Errorf("-E did not win: %v from %s", alg, from)
	}
	_, err = ParseOverrides([]string{"a=1", "a=2"})
	if err == nil || err.Error() != "setting [a] already set, saw [1] and [2]" {
		t.Errorf("duplicate -E: %v", err)
	}
}
