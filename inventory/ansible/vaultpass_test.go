package ansible

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
)

// testdata/vault was made by ansible-core 2.14's ansible-vault: all.yml
// with the password in pass.txt (format 1.1), prod.yml with vault ID prod
// and prod.txt (1.2), and es01.yml's inline values with encrypt_string.

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "vault", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const vaultInventory = "all:\n  children:\n    prod:\n      hosts:\n        es01:\n        es02:\n"

// vaultTree is an inventory whose group_vars/all/vault.yml, group_vars/prod.yml
// and host_vars/es01.yml are encrypted, with the password files beside it.
func vaultTree(t *testing.T) (path string, dir string) {
	t.Helper()
	path = writeTree(t, map[string]string{
		"hosts.yml":                vaultInventory,
		"group_vars/all/vault.yml": fixture(t, "all.yml"),
		"group_vars/all/plain.yml": "plain_var: visible\n",
		"group_vars/prod.yml":      fixture(t, "prod.yml"),
		"host_vars/es01.yml":       fixture(t, "es01.yml"),
		"pass.txt":                 fixture(t, "pass.txt"),
		"prod.txt":                 fixture(t, "prod.txt"),
	})
	return path, filepath.Dir(path)
}

func parseVault(t *testing.T, path string, ids ...VaultID) (*Inventory, error) {
	t.Helper()
	return ParseVault(path, []byte(vaultInventory), NewVault(ids, nil))
}

func TestVaultFilesAndInlineValuesAreDecrypted(t *testing.T) {
	path, dir := vaultTree(t)
	inv, err := parseVault(t, path, VaultID{Source: filepath.Join(dir, "pass.txt")}, VaultID{Label: "prod", Source: filepath.Join(dir, "prod.txt")})
	if err != nil {
		t.Fatal(err)
	}
	es01 := findHost(t, inv, "es01")
	for name, want := range map[string]string{
		"vault_es_username": "admin", "ansible_port": "2222", "prod_secret": "from prod",
		"ansible_host": "10.0.0.11", "db_password": "not: yaml: [", "ansible_user": "deploy", "plain_var": "visible",
	} {
		v := es01.Vars[name]
		if v.Value != want || v.VaultErr != nil {
			t.Errorf("%s = %q (%v), want %q", name, v.Value, v.VaultErr, want)
		}
		if v.Vaulted != (name != "ansible_user" && name != "plain_var") {
			t.Errorf("%s: Vaulted = %v", name, v.Vaulted)
		}
	}
	// An inline value is a string, as Ansible's decrypted value is, and a
	// value from an encrypted file keeps its YAML type.
	if tag := es01.Vars["ansible_host"].Node.Tag; tag != "!!str" {
		t.Errorf("inline value's tag %q", tag)
	}
	if n := es01.Vars["secret_list"].Node; n == nil || len(n.Content) != 2 {
		t.Errorf("secret_list: %+v", n)
	}
	if _, ok := findHost(t, inv, "es02").Vars["ansible_host"]; ok {
		t.Error("es02 got es01's host vars")
	}
}

// Without a password, an encrypted file is an error naming it and the
// ways to give one; the caller phrases its own options.
func TestVaultFileWithoutPassword(t *testing.T) {
	path, dir := vaultTree(t)
	_, err := parseVault(t, path)
	var e *Error
	if !errors.As(err, &e) || e.File != filepath.Join(dir, "group_vars", "all", "vault.yml") {
		t.Fatalf("err = %v, want the encrypted file named", err)
	}
	plain := err.Error()
	for _, want := range []string{"encrypted with ansible-vault, and no vault password was given", "vault password file FILE", "vault ID LABEL@FILE", "ANSIBLE_VAULT_PASSWORD_FILE", "vault_password_file in ansible.cfg"} {
		if !strings.Contains(plain, want) {
			t.Errorf("%q lacks %q", plain, want)
		}
	}
	flags := remedy.Phrase(err, func(k remedy.Kind) string {
		return map[remedy.Kind]string{remedy.VaultPasswordFile: "-P", remedy.VaultID: "-V"}[k]
	})
	if !strings.Contains(flags, "give one with -P FILE or -V LABEL@FILE") {
		t.Errorf("phrased: %q", flags)
	}
}

// An inline value with no password stays encrypted, with the reason, for
// the caller to refuse only if it reads that variable.
func TestInlineValueWithoutPasswordStaysEncrypted(t *testing.T) {
	path := writeTree(t, map[string]string{"hosts.yml": vaultInventory, "host_vars/es01.yml": fixture(t, "es01.yml")})
	inv, err := parseVault(t, path)
	if err != nil {
		t.Fatal(err)
	}
	v := findHost(t, inv, "es01").Vars["ansible_host"]
	if v.Node.Tag != "!vault" || v.VaultErr == nil || !strings.Contains(v.VaultErr.Error(), "no vault password was given") || v.Value == "10.0.0.11" {
		t.Errorf("ansible_host = %+v", v)
	}
}

func TestWrongVaultPassword(t *testing.T) {
	path, dir := vaultTree(t)
	wrong := filepath.Join(dir, "wrong.txt")
	os.WriteFile(wrong, []byte("not-the-password\n"), 0o600)
	_, err := parseVault(t, path, VaultID{Source: wrong})
	if err == nil || !strings.Contains(err.Error(), "the vault password from "+wrong+" does not decrypt it (a wrong password?)") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "not-the-password") {
		t.Error("the error holds the password")
	}
	// Several sources: every one is named, none fits.
	_, err = parseVault(t, path, VaultID{Source: wrong}, VaultID{Label: "prod", Source: filepath.Join(dir, "prod.txt")})
	if err == nil || !strings.Contains(err.Error(), "none of the vault passwords (from "+wrong+", prod@") {
		t.Fatalf("err = %v", err)
	}
}

// A 1.2 file's vault ID is tried first; a password given for another ID is
// still tried after it, as Ansible does.
func TestVaultIDMatchingAndFallback(t *testing.T) {
	path, dir := vaultTree(t)
	// prod's password under another label still opens prod.yml.
	inv, err := parseVault(t, path, VaultID{Label: "dev", Source: filepath.Join(dir, "prod.txt")}, VaultID{Source: filepath.Join(dir, "pass.txt")})
	if err != nil {
		t.Fatal(err)
	}
	if v := findHost(t, inv, "es01").Vars["prod_secret"]; v.Value != "from prod" {
		t.Errorf("prod_secret = %q", v.Value)
	}
}

// An executable source is run and its output is the password; a client
// script (NAME-client) is told which vault ID is wanted.
func TestVaultPasswordScripts(t *testing.T) {
	path, dir := vaultTree(t)
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := script("pass.sh", "printf 'vault-pass-for-tests\\r\\n'")
	client := script("vault-client.sh", `[ "$1 $2" = "--vault-id prod" ] || { echo "asked for $2" >&2; exit 3; }; cat `+filepath.Join(dir, "prod.txt"))
	if _, err := parseVault(t, path, VaultID{Source: plain}, VaultID{Label: "prod", Source: client}); err != nil {
		t.Fatal(err)
	}
	failing := script("fail.sh", "echo 'no such secret store' >&2; exit 2")
	_, err := parseVault(t, path, VaultID{Source: failing})
	if err == nil || !strings.Contains(err.Error(), "vault password script failed (exit status 2): no such secret store") {
		t.Errorf("failing script: %v", err)
	}
	empty := script("empty.sh", "echo")
	if _, err := parseVault(t, path, VaultID{Source: empty}); err == nil || !strings.Contains(err.Error(), "gives an empty password") {
		t.Errorf("empty: %v", err)
	}
	if _, err := parseVault(t, path, VaultID{Source: filepath.Join(dir, "missing")}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing: %v", err)
	}
	if _, err := parseVault(t, path, VaultID{Source: "prompt"}); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("prompt: %v", err)
	}
}

// ansible.cfg's vault_password_file (relative to the file) and
// ANSIBLE_VAULT_PASSWORD_FILE (which wins) come after the caller's.
func TestVaultPasswordFileFromConfig(t *testing.T) {
	path, dir := vaultTree(t)
	cfgPath := filepath.Join(dir, "ansible.cfg")
	os.WriteFile(cfgPath, []byte("[defaults]\nvault_password_file = pass.txt\n"), 0o600)
	cfg, err := LoadConfig(cfgPath, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	prod := VaultID{Label: "prod", Source: filepath.Join(dir, "prod.txt")}
	if _, err := ParseVault(path, []byte(vaultInventory), NewVault([]VaultID{prod}, cfg)); err != nil {
		t.Fatalf("vault_password_file: %v", err)
	}
	env := func(k string) string {
		if k == "ANSIBLE_VAULT_PASSWORD_FILE" {
			return filepath.Join(dir, "prod.txt") // not all.yml's password
		}
		return ""
	}
	cfg, _ = LoadConfig(cfgPath, env)
	_, err = ParseVault(path, []byte(vaultInventory), NewVault([]VaultID{prod}, cfg))
	if err == nil || !strings.Contains(err.Error(), "(ANSIBLE_VAULT_PASSWORD_FILE)") {
		t.Errorf("env: %v", err)
	}
}

func TestParseVaultID(t *testing.T) {
	for in, want := range map[string]VaultID{
		"prod@/etc/pw": {Label: "prod", Source: "/etc/pw"}, "/etc/pw": {Source: "/etc/pw"}, "a@b@c": {Label: "a", Source: "b@c"},
	} {
		if got := ParseVaultID(in); got != want {
			t.Errorf("ParseVaultID(%q) = %+v", in, got)
		}
	}
}

// A decrypted file that is not a vars file is named by line, its text
// never shown.
func TestDecryptedFileFaultsAreNotQuoted(t *testing.T) {
	for fixtureName, secret := range map[string]string{"list.yml": "hunter2", "bad.yml": "hunter3"} {
		path := writeTree(t, map[string]string{"hosts.yml": vaultInventory, "group_vars/all.yml": fixture(t, fixtureName)})
		_, err := ParseVault(path, []byte(vaultInventory), NewVault([]VaultID{{Source: writePass(t)}}, nil))
		if err == nil || !strings.Contains(err.Error(), "not shown: it is vault-encrypted") || strings.Contains(err.Error(), secret) {
			t.Errorf("%s: %v", fixtureName, err)
		}
	}
}

func writePass(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(p, []byte(fixture(t, "pass.txt")), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
