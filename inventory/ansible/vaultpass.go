package ansible

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/fserr"
	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/inventory/ansible/vault"
)

// VaultID is one way the caller was given a vault password: a vault ID
// with its source (LABEL@SOURCE, as Ansible's command lines take it), or
// a password file alone (label "default").
type VaultID struct {
	Label string // "" is vault.DefaultID
	// Source is a file holding the password, or an executable that
	// prints it, as Ansible tells them apart (any execute bit).
	Source string
	// Origin says where the source was named, for messages: "" for the
	// caller's own options, "ANSIBLE_VAULT_PASSWORD_FILE", or a line of
	// ansible.cfg.
	Origin string
}

// ParseVaultID reads LABEL@SOURCE, or SOURCE alone, as Ansible's
// split_vault_id does (at the first @).
func ParseVaultID(s string) VaultID {
	if label, source, ok := strings.Cut(s, "@"); ok {
		return VaultID{Label: label, Source: source}
	}
	return VaultID{Source: s}
}

// Vault holds the vault passwords of one inventory load: the caller's
// sources, then ANSIBLE_VAULT_PASSWORD_FILE or ansible.cfg's
// vault_password_file, as Ansible orders them. Passwords are read on the
// first encrypted file or value, once, and never leave this value.
type Vault struct {
	ids     []VaultID
	loaded  bool
	secrets []vault.Secret
	err     error
}

// vaultScriptTimeout bounds a password script, which could otherwise hang
// the run (one asking a terminal that is not there).
const vaultScriptTimeout = time.Minute

// NewVault gathers the sources: ids first, then the configured password
// file (cfg may be nil).
func NewVault(ids []VaultID, cfg *Config) *Vault {
	v := &Vault{ids: append([]VaultID(nil), ids...)}
	if cfg != nil {
		if s, ok := cfg.Get("defaults", "vault_password_file"); ok && s.Value != "" {
			src := expandUser(s.Value)
			if s.Dir != "" && !filepath.IsAbs(src) {
				src = filepath.Join(s.Dir, src)
			}
			v.ids = append(v.ids, VaultID{Source: src, Origin: s.Origin})
		}
	}
	return v
}

func expandUser(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return home + p[1:]
		}
	}
	return p
}

// Given reports whether any password source was given.
func (v *Vault) Given() bool { return v != nil && len(v.ids) > 0 }

// Decrypt decrypts vault text found in file at line (0: the whole file).
func (v *Vault) Decrypt(file string, line int, data []byte) ([]byte, error) {
	if !v.Given() {
		return nil, noVaultPassword(file, line)
	}
	if err := v.load(); err != nil {
		return nil, err
	}
	plain, _, err := vault.Decrypt(data, v.secrets)
	switch {
	case errors.Is(err, vault.ErrWrongPassword):
		return nil, &Error{File: file, Line: line, Msg: fmt.Sprintf("encrypted with ansible-vault, and %s", v.tried())}
	case err != nil:
		return nil, &Error{File: file, Line: line, Msg: err.Error() + "; encrypt it again with ansible-vault"}
	}
	return plain, nil
}

// tried says which passwords did not fit, by where they came from.
func (v *Vault) tried() string {
	var names []string
	for _, id := range v.ids {
		names = append(names, id.describe())
	}
	if len(names) == 1 {
		return "the vault password from " + names[0] + " does not decrypt it (a wrong password?)"
	}
	return "none of the vault passwords (from " + strings.Join(names, ", ") + ") decrypts it (a wrong password?)"
}

func (id VaultID) describe() string {
	s := id.Source
	if id.Label != "" && id.Label != vault.DefaultID {
		s = id.Label + "@" + s
	}
	if id.Origin != "" {
		s += " (" + id.Origin + ")"
	}
	return s
}

// noVaultPassword names the ways to give one: the caller's options
// (phrased by the caller) and Ansible's own.
func noVaultPassword(file string, line int) error {
	return &Error{File: file, Line: line, Msg: "encrypted with ansible-vault, and no vault password was given",
		Hint: remedy.Sprintf("give one with %v FILE or %v LABEL@FILE, ANSIBLE_VAULT_PASSWORD_FILE, or vault_password_file in ansible.cfg",
			remedy.VaultPasswordFile, remedy.VaultID)}
}

// load reads every source once, as Ansible does before it decrypts.
func (v *Vault) load() error {
	if v.loaded {
		return v.err
	}
	v.loaded = true
	for _, id := range v.ids {
		pw, err := id.password()
		if err != nil {
			v.err = &Error{File: id.Source, Msg: err.Error()}
			return v.err
		}
		label := id.Label
		if label == "" {
			label = vault.DefaultID
		}
		v.secrets = append(v.secrets, vault.Secret{ID: label, Password: pw})
	}
	return nil
}

// password reads one source as ansible-core's get_file_vault_secret: an
// executable is run (a "-client" script is told the vault ID) and its
// standard output is the password; any other file holds it. Surrounding
// new lines are not part of it; an empty password is refused.
func (id VaultID) password() ([]byte, error) {
	where := "vault password file"
	if id.Origin != "" {
		where += " (" + id.Origin + ")"
	}
	if id.Source == "prompt" || id.Source == "prompt_ask_vault_pass" {
		return nil, fmt.Errorf("%s: asking for the vault password on the terminal is not supported: give a password file or script", where)
	}
	fi, err := os.Stat(id.Source)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", where, fserr.WithoutPath(err))
	}
	var pw []byte
	if fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
		if pw, err = id.runScript(); err != nil {
			return nil, err
		}
	} else {
		data, err := os.ReadFile(id.Source)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", where, fserr.WithoutPath(err))
		}
		pw = bytes.TrimSpace(data)
	}
	pw = bytes.Trim(pw, "\r\n")
	if len(pw) == 0 {
		return nil, fmt.Errorf("%s gives an empty password: put the vault password in it, or make the script print it", where)
	}
	return pw, nil
}

// runScript runs a password script with no arguments, or, for a client
// script (NAME-client, NAME-client.EXT), with the vault ID it is asked
// for, in the option Ansible's client-script protocol defines. Its standard error is shown when it fails; its output never is.
func (id VaultID) runScript() ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), vaultScriptTimeout)
	defer cancel()
	var args []string
	base := strings.TrimSuffix(filepath.Base(id.Source), filepath.Ext(id.Source))
	if strings.HasSuffix(base, "-client") {
		label := id.Label
		if label == "" {
			label = vault.DefaultID
		}
		args = []string{"--vault-id", label} // Ansible's client-script protocol
	}
	// Ansible runs the script by its full path: a bare name is a file
	// here, never a command looked up in PATH.
	path, err := filepath.Abs(id.Source)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		said := strings.Join(strings.Fields(stderr.String()), " ")
		if len(said) > 200 {
			said = said[:200] + "..."
		}
		if said != "" {
			said = ": " + said
		}
		return nil, fmt.Errorf("vault password script failed (%v)%s; run it by hand to see why", err, said)
	}
	return bytes.TrimRight(out, "\r\n"), nil
}
