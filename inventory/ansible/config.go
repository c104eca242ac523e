package ansible

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/internal/fserr"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// Config is the one ansible.cfg Ansible would read, plus the ANSIBLE_*
// environment variables that override it.
type Config struct {
	File   string // "" when there is none
	values map[string]cfgValue
	getenv func(string) string
}

type cfgValue struct {
	value string
	line  int
}

// Setting is one effective configuration value and where it came from.
type Setting struct {
	Value  string
	Origin string // "ansible.cfg:3 ([defaults] remote_user)" or "ANSIBLE_REMOTE_USER"
	// Dir is the directory relative paths in Value are relative to: the
	// config file's, or "" (the working directory) for the environment.
	Dir string
}

// configEnv maps "section.key" to the environment variable that overrides
// it, as in ansible-core's base.yml.
var configEnv = map[string]string{
	"defaults.inventory":               "ANSIBLE_INVENTORY",
	"defaults.remote_user":             "ANSIBLE_REMOTE_USER",
	"defaults.private_key_file":        "ANSIBLE_PRIVATE_KEY_FILE",
	"defaults.remote_port":             "ANSIBLE_REMOTE_PORT",
	"defaults.timeout":                 "ANSIBLE_TIMEOUT",
	"defaults.host_key_checking":       "ANSIBLE_HOST_KEY_CHECKING",
	"defaults.vault_password_file":     "ANSIBLE_VAULT_PASSWORD_FILE",
	"ssh_connection.ssh_args":          "ANSIBLE_SSH_ARGS",
	"ssh_connection.ssh_common_args":   "ANSIBLE_SSH_COMMON_ARGS",
	"ssh_connection.ssh_extra_args":    "ANSIBLE_SSH_EXTRA_ARGS",
	"ssh_connection.host_key_checking": "ANSIBLE_SSH_HOST_KEY_CHECKING",
}

// FindConfig returns the ansible.cfg Ansible would use, in its order:
// $ANSIBLE_CONFIG, ./ansible.cfg (unless the directory is world-writable),
// ~/.ansible.cfg, /etc/ansible/ansible.cfg; "" when there is none.
func FindConfig(getenv func(string) string, home string) string {
	if p := getenv("ANSIBLE_CONFIG"); p != "" {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			p = filepath.Join(p, "ansible.cfg")
		}
		if isFile(p) {
			return p
		}
	}
	if cwd, err := os.Getwd(); err == nil {
		// Ansible ignores a world-writable working directory's file: anyone
		// could have put it there.
		if fi, err := os.Stat(cwd); err == nil && fi.Mode().Perm()&0o002 == 0 && isFile("ansible.cfg") {
			return "ansible.cfg"
		}
	}
	if home != "" && isFile(filepath.Join(home, ".ansible.cfg")) {
		return filepath.Join(home, ".ansible.cfg")
	}
	if isFile("/etc/ansible/ansible.cfg") {
		return "/etc/ansible/ansible.cfg"
	}
	return ""
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// LoadConfig reads path ("" for none) in the INI dialect of Python's
// configparser as Ansible uses it: [section], key = value or key: value,
// # and ; comment lines, ; inline comments, indented continuation lines.
func LoadConfig(path string, getenv func(string) string) (*Config, error) {
	c := &Config{File: path, values: map[string]cfgValue{}, getenv: getenv}
	if path == "" {
		return c, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read Ansible configuration: %v", fserr.WithoutPath(err))}
	}
	section, last := "", ""
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';' {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last != "" { // a continuation line
				v := c.values[last]
				v.value += "\n" + stripInlineComment(trimmed)
				c.values[last] = v
			}
			continue
		}
		if strings.HasPrefix(trimmed, "[") {
			end := strings.Index(trimmed, "]")
			if end < 0 {
				return nil, &Error{File: path, Line: i + 1, Msg: "section header without ]"}
			}
			section, last = strings.TrimSpace(trimmed[1:end]), ""
			continue
		}
		k := strings.IndexAny(trimmed, "=:")
		if k < 0 {
			return nil, &Error{File: path, Line: i + 1, Msg: fmt.Sprintf("%q is not key = value", safetext.Input(trimmed))}
		}
		key := strings.ToLower(strings.TrimSpace(trimmed[:k]))
		last = section + "." + key
		c.values[last] = cfgValue{value: stripInlineComment(strings.TrimSpace(trimmed[k+1:])), line: i + 1}
	}
	return c, nil
}

func stripInlineComment(s string) string {
	// configparser(inline_comment_prefixes=(';',)): a ; after whitespace.
	for i := 1; i < len(s); i++ {
		if s[i] == ';' && (s[i-1] == ' ' || s[i-1] == '\t') {
			return strings.TrimSpace(s[:i])
		}
	}
	return s
}

// Get returns section.key: its environment variable if set, else the
// file's value.
func (c *Config) Get(section, key string) (Setting, bool) {
	name := section + "." + key
	if env := configEnv[name]; env != "" && c.getenv != nil {
		if v := c.getenv(env); v != "" {
			return Setting{Value: v, Origin: env}, true
		}
	}
	v, ok := c.values[name]
	if !ok {
		return Setting{}, false
	}
	return Setting{Value: v.value, Origin: fmt.Sprintf("%s:%d ([%s] %s)", c.File, v.line, section, key), Dir: filepath.Dir(c.File)}, true
}

// Inventory is [defaults] inventory (or ANSIBLE_INVENTORY): the inventory
// Ansible uses when none is given. Only a single YAML file can be read
// here; several sources or a directory are an error saying so.
func (c *Config) Inventory() (path, origin string, err error) {
	s, ok := c.Get("defaults", "inventory")
	if !ok {
		return "", "", nil
	}
	var paths []string
	for _, p := range strings.Split(s.Value, ",") {
		if p = strings.TrimSpace(p); p != "" {
			paths = append(paths, p)
		}
	}
	if len(paths) != 1 {
		return "", s.Origin, fmt.Errorf("%s: inventory %q names %d sources; es-service-tokens reads one YAML inventory: give it with -i FILE", s.Origin, safetext.Input(s.Value), len(paths))
	}
	p := paths[0]
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = home + p[1:]
		}
	}
	if s.Dir != "" && !filepath.IsAbs(p) {
		p = filepath.Join(s.Dir, p)
	}
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return "", s.Origin, fmt.Errorf("%s: inventory %s is a directory; es-service-tokens reads one YAML inventory: give it with -i FILE", s.Origin, p)
	}
	return p, s.Origin, nil
}
