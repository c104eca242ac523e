package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/es-service-tokens/es-service-tokens/internal/fserr"
	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory/ansible"
	"github.com/es-service-tokens/es-service-tokens/inventory/ansible/vault"
	"github.com/es-service-tokens/es-service-tokens/inventory/internal/yamlkeys"
	"github.com/es-service-tokens/es-service-tokens/inventory/sshconfig"
)

// Inventory is a loaded, validated inventory.
type Inventory struct {
	File   string
	Format string // "native" or "ansible"
	// LocalFile is the inventory's local_file, absolute, or "".
	LocalFile string
	// AuditLog is the inventory's audit_log, absolute, or "": the JSON-lines
	// file that records every change made with this inventory.
	AuditLog string
	// MaxTokenAge is max_token_age: check reports every token older than
	// this (0: no limit). MaxTokenAgeText is the value as written (90d).
	MaxTokenAge     time.Duration
	MaxTokenAgeText string
	Nodes           []*Node
	// Consumers are the services that use tokens, and how each receives
	// a token's secret (consumers:).
	Consumers []*Consumer
	Groups    map[string][]string // group name -> node names
	// Elasticsearch is the cluster's REST API, or nil when not configured.
	Elasticsearch *Elasticsearch
	// Warnings are one-line notes on things read but not used (ssh_config
	// options and Match blocks, Ansible arguments we do not apply).
	Warnings []string
	// AnsibleConfig is the ansible.cfg read for an Ansible inventory, or "".
	AnsibleConfig string
	// Notes are harmless things read but not used (BatchMode, LogLevel...),
	// shown with -v only.
	Notes []string
}

// Endpoint is where and as whom to log in.
type Endpoint struct {
	Alias         string // the name looked up in ssh_config
	Host          string // address to dial
	Port          int
	User          string
	IdentityFiles []string
	// CertificateFiles are user certificates to log in with, each paired
	// with the identity file or agent key that holds its private key. Empty:
	// KEY-cert.pub beside each identity file is used, as ssh does.
	CertificateFiles []string
	IdentitiesOnly   bool
	KnownHostsFiles  []string // the first is where accept-new records keys
	// GlobalKnownHostsFiles are read too, never written (ssh's
	// GlobalKnownHostsFile).
	GlobalKnownHostsFiles []string
	HostKeyCheck          string // HostKeyStrict or HostKeyAcceptNew
	ConnectTimeout        time.Duration
	// ServerAliveInterval > 0 sends a keep-alive after that long without
	// traffic; ServerAliveCountMax unanswered ones close the connection.
	ServerAliveInterval time.Duration
	ServerAliveCountMax int
	// ProxyCommand, when set, is the shell command (its %-tokens expanded)
	// whose standard input and output carry the connection instead of TCP,
	// as ssh's ProxyCommand. It may hold a secret: show ProxyProgram.
	ProxyCommand string
}

// ProxyProgram names the proxy command for messages without its arguments,
// which may hold a secret (sshpass -p, a token): the first word when it is
// a plain program name or path, else "command".
func (e Endpoint) ProxyProgram() string { return Program(e.ProxyCommand) }

// Program is the program a shell command runs, for showing a command
// whose arguments may hold a secret: its first word when that is a plain
// path or name, else "command".
func Program(cmd string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(cmd), " ")
	for _, r := range first {
		if !(r == '/' || r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return "command"
		}
	}
	if first == "" {
		return "command"
	}
	return first
}

// Host key checking modes, defined here once: the inventory resolves them
// and sync/hostkeys enforces them. There is deliberately no mode that skips
// the check.
const (
	HostKeyStrict    = "strict"
	HostKeyAcceptNew = "accept-new"
)

// Address is host:port for dialing.
func (e Endpoint) Address() string {
	if strings.Contains(e.Host, ":") {
		return "[" + e.Host + "]:" + strconv.Itoa(e.Port)
	}
	return e.Host + ":" + strconv.Itoa(e.Port)
}

// Node is one Elasticsearch node and how to write its file.
type Node struct {
	Name string
	Endpoint
	// Jump lists bastions to go through, outermost first.
	Jump       []Endpoint
	Path       string
	Owner      string // user name or number; "" keeps the file's owner
	Group      string // group name or number; "" keeps the file's group
	Mode       fs.FileMode
	Sudo       bool
	SFTPServer string // "" = probe on the node when Sudo
	// Backups is how many previous files a push keeps beside the file, as
	// service_tokens.<UTC timestamp>.bak (0: none).
	Backups int
	Groups  []string
	// ESNodeName is the Elasticsearch node.name of this node, from
	// es_node_name; "" means: read it from the node's elasticsearch.yml.
	ESNodeName string
	// HTTPURL is the node's own REST address (es_http_url, else
	// elasticsearch.node_url filled in), "" when unknown: a secret is
	// proven on each node by sending it there, since Elasticsearch
	// authenticates on the node that receives the request.
	HTTPURL string
	// Origin says where each setting came from, by inventory key.
	Origin map[string]string
}

// Defaults of every setting not given anywhere.
const (
	DefaultPort           = 22
	DefaultPath           = "/etc/elasticsearch/service_tokens"
	DefaultMode           = fs.FileMode(0o660)
	DefaultConnectTimeout = 10 * time.Second
)

// Options carry the environment an inventory is resolved in.
type Options struct {
	// SSHConfig is the ssh_config file; "" means ~/.ssh/config.
	SSHConfig string
	Home      string // the user's home directory
	User      string // the current user, the default login
	// ConnectTimeout, when set, overrides every other source; its origin
	// (what `nodes` shows as where the value came from) is
	// ConnectTimeoutOrigin, else "the caller".
	ConnectTimeout       time.Duration
	ConnectTimeoutOrigin string
	// AnsibleConfig is the ansible.cfg to read for an Ansible inventory;
	// "" finds it as Ansible does ($ANSIBLE_CONFIG, ./ansible.cfg,
	// ~/.ansible.cfg, /etc/ansible/ansible.cfg).
	AnsibleConfig string
	// VaultIDs are the Ansible Vault passwords' sources the caller was
	// given, in order; ANSIBLE_VAULT_PASSWORD_FILE or ansible.cfg's
	// vault_password_file follows them, as in Ansible.
	VaultIDs []ansible.VaultID
	// Getenv reads the environment (ANSIBLE_CONFIG and friends, ${VAR} in
	// ssh paths); nil means os.Getenv.
	Getenv func(string) string
}

// Error is a fault in the inventory: the tool exits 78 on it.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
	// Hint is the way out when it lies in the caller's options (a vault
	// password): the caller phrases it (internal/remedy).
	Hint remedy.Message
}

func (e *Error) Error() string { return e.Phrase(nil) }

// Phrase is the message with the hint's options in the caller's words.
func (e *Error) Phrase(name remedy.Namer) string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(safetext.Bounded(e.Key) + ": ") // an unknown key is the file's own text
	}
	b.WriteString(e.Msg)
	if !e.Hint.IsZero() {
		b.WriteString(": " + e.Hint.Phrase(name))
	}
	// File names come from the command line and keys from the file: an
	// error must stay one line whatever they hold.
	return safetext.Escape(b.String())
}

// Load reads an inventory, native or Ansible (told apart by its shape).
func Load(path string, opts Options) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read inventory: %v", fserr.WithoutPath(err))}
	}
	// Only Ansible encrypts inventories: a vault-encrypted one is Ansible's,
	// and its parser decrypts it.
	encrypted := vault.IsEncrypted(data)
	var doc yaml.Node
	if !encrypted {
		if err := checkShape(path, data, &doc); err != nil {
			return nil, err
		}
	}
	if opts.Home == "" {
		opts.Home, _ = os.UserHomeDir()
	}
	sshPath := opts.SSHConfig
	if sshPath == "" {
		sshPath = filepath.Join(opts.Home, ".ssh", "config")
	}
	sc, err := sshconfig.Load(sshPath, opts.Home)
	if err != nil {
		var se *sshconfig.Error
		if errors.As(err, &se) {
			return nil, &Error{File: se.File, Line: se.Line, Msg: se.Msg}
		}
		return nil, &Error{File: sshPath, Msg: fserr.WithoutPath(err).Error()}
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	r := &resolver{opts: opts, ssh: sc, sshPath: sshPath, file: path, warned: map[string]bool{},
		local: currentLocal(opts), configs: map[string]*sshconfig.Config{sshPath: sc}}
	var inv *Inventory
	if encrypted || ansible.Detect(&doc) {
		inv, err = r.loadAnsible(path, data)
	} else {
		inv, err = r.loadNative(path, doc.Content[0])
	}
	if err != nil {
		return nil, err
	}
	inv.Warnings = append(inv.Warnings, r.warnings...)
	inv.Notes = append(inv.Notes, r.notes...)
	return inv, nil
}

// checkShape parses data into doc and refuses what is no inventory at all.
func checkShape(path string, data []byte, doc *yaml.Node) error {
	if err := yaml.Unmarshal(data, doc); err != nil {
		return &Error{File: path, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if d := yamlkeys.Duplicate(doc); d != nil {
		return &Error{File: path, Line: d.Again, Msg: d.Message()}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return &Error{File: path, Line: 1, Msg: "an inventory is a YAML mapping with nodes: (or an Ansible inventory with all:)"}
	}
	return nil
}

var accountRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_.-]{0,31}\$?|[0-9]{1,10})$`)

// validAccount accepts user and group names as useradd does, or numbers.
// The check also keeps names safe to pass to getent on the node.
func validAccount(s string) bool { return accountRE.MatchString(s) }

func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("%q is not a port (1-65535)", safetext.Input(s))
	}
	return p, nil
}

func parseMode(s string) (fs.FileMode, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
	m, err := strconv.ParseUint(t, 8, 32)
	if err != nil || m > 0o7777 {
		return 0, fmt.Errorf("%q is not a file mode: write it in octal, quoted, e.g. \"0660\"", safetext.Input(s))
	}
	if special := specialBits(m); special != "" {
		suggest := m & 0o777
		if permError(suggest) != nil {
			suggest = 0o660
		}
		return 0, fmt.Errorf("%q sets %s: setuid, setgid and sticky bits are not allowed; give the permission bits alone, e.g. \"%04o\"", safetext.Input(s), special, suggest)
	}
	if err := permError(m); err != nil {
		return 0, err
	}
	return fs.FileMode(m), nil
}

// permError refuses permission bits Elasticsearch cannot read through,
// or that let any user add tokens.
func permError(m uint64) error {
	if m&0o400 == 0 && m&0o040 == 0 {
		return fmt.Errorf("mode %04o lets neither the owner nor the group read the file; Elasticsearch could not load it", m)
	}
	if m&0o002 != 0 {
		return fmt.Errorf("mode %04o lets every user on the node write the file, and so add tokens; use \"0660\" or \"0640\"", m)
	}
	return nil
}

// specialBits names the setuid, setgid and sticky bits of an octal mode
// ("setuid and sticky"), "" when it has none.
func specialBits(m uint64) string {
	var set []string
	for _, b := range []struct {
		bit  uint64
		name string
	}{{0o4000, "setuid"}, {0o2000, "setgid"}, {0o1000, "sticky"}} {
		if m&b.bit != 0 {
			set = append(set, b.name)
		}
	}
	switch len(set) {
	case 0:
		return ""
	case 1:
		return set[0]
	}
	return strings.Join(set[:len(set)-1], ", ") + " and " + set[len(set)-1]
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", safetext.Input(s))
}

func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a duration (e.g. 10s, or a number of seconds)", safetext.Input(s))
	}
	return d, nil
}

// finish checks what must hold for the whole inventory.
func finish(inv *Inventory) error {
	if len(inv.Nodes) == 0 {
		return &Error{File: inv.File, Msg: "no nodes"}
	}
	fillNodeURLs(inv)
	for g, members := range inv.Groups {
		sort.Strings(members)
		inv.Groups[g] = members
	}
	byName := map[string]*Node{}
	for _, n := range inv.Nodes {
		byName[n.Name] = n
	}
	names := make([]string, 0, len(inv.Groups))
	for g := range inv.Groups {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		for _, m := range inv.Groups[g] {
			if n := byName[m]; n != nil {
				n.Groups = append(n.Groups, g)
			}
		}
	}
	return nil
}
