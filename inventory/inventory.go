// Package inventory reads the list of nodes to push to: es-service-tokens'
// own YAML format or an Ansible YAML inventory, completed from the user's
// ssh_config. Every effective value records where it came from, so that
// `es-service-tokens nodes` can answer "why does it connect there?".
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

	"github.com/es-service-tokens/es-service-tokens/inventory/ansible"
	"github.com/es-service-tokens/es-service-tokens/inventory/sshconfig"
)

// Inventory is a loaded, validated inventory.
type Inventory struct {
	File   string
	Format string // "native" or "ansible"
	// LocalFile is the inventory's local_file, absolute, or "".
	LocalFile string
	Nodes     []*Node
	Groups    map[string][]string // group name -> node names
	// Warnings are one-line notes on things read but not used (ssh_config
	// options and Match blocks, Ansible arguments we do not apply).
	Warnings []string
}

// Endpoint is where and as whom to log in.
type Endpoint struct {
	Alias           string // the name looked up in ssh_config
	Host            string // address to dial
	Port            int
	User            string
	IdentityFiles   []string
	IdentitiesOnly  bool
	KnownHostsFiles []string // the first is where accept-new records keys
	HostKeyCheck    string   // HostKeyStrict or HostKeyAcceptNew
	ConnectTimeout  time.Duration
}

// Host key checking modes. There is deliberately no mode that skips the check.
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
	Groups     []string
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
	// ConnectTimeout from the command line overrides every other source.
	ConnectTimeout time.Duration
}

// Error is a fault in the inventory: the tool exits 78 on it.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Load reads an inventory, native or Ansible (told apart by its shape).
func Load(path string, opts Options) (*Inventory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read inventory: %v", unwrap(err))}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{File: path, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &Error{File: path, Line: 1, Msg: "an inventory is a YAML mapping with nodes: (or an Ansible inventory with all:)"}
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
		return nil, &Error{File: sshPath, Msg: unwrap(err).Error()}
	}
	r := &resolver{opts: opts, ssh: sc, sshPath: sshPath, file: path, warned: map[string]bool{}}
	var inv *Inventory
	if ansible.Detect(&doc) {
		inv, err = r.loadAnsible(path, data)
	} else {
		inv, err = r.loadNative(path, doc.Content[0])
	}
	if err != nil {
		return nil, err
	}
	inv.Warnings = append(inv.Warnings, r.warnings...)
	return inv, nil
}

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// setting is one raw value and where it was written.
type setting struct {
	value  string
	list   []string // for keys that may hold several values
	origin string
	line   int
}

// layer is one source of settings; earlier layers win.
type layer map[string]setting

// resolver turns layered raw settings into nodes.
type resolver struct {
	opts     Options
	ssh      *sshconfig.Config
	sshPath  string
	file     string
	warnings []string
	warned   map[string]bool
}

// settingKeys are the per-node settings, in the order nodes prints them.
var settingKeys = []string{"host", "port", "user", "identity_file", "known_hosts", "host_key_check",
	"connect_timeout", "jump", "path", "owner", "group", "mode", "sudo", "sftp_server"}

// node resolves one node from its layers (highest precedence first),
// adding ssh_config and built-in defaults below them.
func (r *resolver) node(name string, layers []layer) (*Node, error) {
	get := func(key string) (setting, bool) {
		for _, l := range layers {
			if s, ok := l[key]; ok {
				return s, true
			}
		}
		return setting{}, false
	}
	n := &Node{Name: name, Origin: map[string]string{}}
	fail := func(key string, s setting, format string, a ...any) error {
		return &Error{File: r.file, Line: s.line, Key: key, Msg: fmt.Sprintf("node %s: ", name) + fmt.Sprintf(format, a...)}
	}

	alias := name
	if s, ok := get("host"); ok {
		alias = s.value
		n.Origin["host"] = s.origin
	} else {
		n.Origin["host"] = "the node name"
	}
	ep, err := r.endpoint(alias, get, func(key string, s setting, msg string) error { return fail(key, s, "%s", msg) }, n.Origin)
	if err != nil {
		return nil, err
	}
	n.Endpoint = ep

	// Bastions: the inventory's jump, else ssh_config's ProxyJump.
	var hops []string
	n.Origin["jump"] = "none"
	if s, ok := get("jump"); ok {
		hops, n.Origin["jump"] = s.list, s.origin
	} else if v, ok := r.ssh.Get(alias, "ProxyJump"); ok && !strings.EqualFold(v.Value, "none") {
		hops, n.Origin["jump"] = strings.Split(v.Value, ","), r.sshOrigin(v)
	}
	for _, h := range hops {
		hop, err := r.hop(strings.TrimSpace(h), n.Endpoint)
		if err != nil {
			s, _ := get("jump")
			return nil, fail("jump", s, "%v", err)
		}
		n.Jump = append(n.Jump, hop)
	}

	n.Path, n.Origin["path"] = DefaultPath, "built-in default"
	if s, ok := get("path"); ok {
		if !filepath.IsAbs(s.value) || strings.HasSuffix(s.value, "/") {
			return nil, fail("path", s, "%q is not an absolute file path", s.value)
		}
		n.Path, n.Origin["path"] = filepath.Clean(s.value), s.origin
	}
	for _, k := range []string{"owner", "group"} {
		s, ok := get(k)
		if !ok {
			n.Origin[k] = "not enforced: an existing file keeps its own"
			continue
		}
		if !validAccount(s.value) {
			return nil, fail(k, s, "%q is not a user or group name or number", s.value)
		}
		if k == "owner" {
			n.Owner = s.value
		} else {
			n.Group = s.value
		}
		n.Origin[k] = s.origin
	}
	n.Mode, n.Origin["mode"] = DefaultMode, "built-in default"
	if s, ok := get("mode"); ok {
		m, err := parseMode(s.value)
		if err != nil {
			return nil, fail("mode", s, "%v", err)
		}
		n.Mode, n.Origin["mode"] = m, s.origin
	}
	n.Origin["sudo"] = "built-in default"
	if s, ok := get("sudo"); ok {
		b, err := parseBool(s.value)
		if err != nil {
			return nil, fail("sudo", s, "%v", err)
		}
		n.Sudo, n.Origin["sudo"] = b, s.origin
	}
	n.Origin["sftp_server"] = "searched for on the node when sudo is true"
	if s, ok := get("sftp_server"); ok {
		if !filepath.IsAbs(s.value) {
			return nil, fail("sftp_server", s, "%q is not an absolute path", s.value)
		}
		n.SFTPServer, n.Origin["sftp_server"] = s.value, s.origin
	}
	return n, nil
}

// endpoint resolves the connection settings of alias: the layers, then
// ssh_config for alias, then built-in defaults.
func (r *resolver) endpoint(alias string, get func(string) (setting, bool), fail func(string, setting, string) error, origin map[string]string) (Endpoint, error) {
	ep := Endpoint{Alias: alias, Host: alias}
	if v, ok := r.ssh.Get(alias, "HostName"); ok {
		ep.Host = expandTokens(v.Value, alias, "", 0, r.opts.Home)
		origin["host"] += "; HostName from " + r.sshOrigin(v)
	}
	r.noteIgnored(alias)

	// port
	if s, ok := get("port"); ok {
		p, err := parsePort(s.value)
		if err != nil {
			return ep, fail("port", s, err.Error())
		}
		ep.Port, origin["port"] = p, s.origin
	} else if v, ok := r.ssh.Get(alias, "Port"); ok {
		p, _ := parsePort(v.Value)
		ep.Port, origin["port"] = p, r.sshOrigin(v)
	} else {
		ep.Port, origin["port"] = DefaultPort, "built-in default"
	}
	// user
	if s, ok := get("user"); ok {
		ep.User, origin["user"] = s.value, s.origin
	} else if v, ok := r.ssh.Get(alias, "User"); ok {
		ep.User, origin["user"] = v.Value, r.sshOrigin(v)
	} else {
		ep.User, origin["user"] = r.opts.User, "the current user"
	}
	if ep.User == "" {
		return ep, fail("user", setting{}, "no login user")
	}
	// identity files
	if s, ok := get("identity_file"); ok {
		ep.IdentityFiles, origin["identity_file"] = []string{r.inventoryPath(s.value, ep)}, s.origin
	} else if vs := r.existingIdentities(alias, ep); len(vs) > 0 {
		for _, v := range vs {
			ep.IdentityFiles = append(ep.IdentityFiles, r.expandPath(v.Value, ep))
		}
		origin["identity_file"] = r.sshOrigin(vs[0])
	} else {
		origin["identity_file"] = "ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa"
	}
	if v, ok := r.ssh.Get(alias, "IdentitiesOnly"); ok {
		ep.IdentitiesOnly = strings.EqualFold(v.Value, "yes")
	}
	// known_hosts
	if s, ok := get("known_hosts"); ok {
		ep.KnownHostsFiles, origin["known_hosts"] = []string{r.inventoryPath(s.value, ep)}, s.origin
	} else if v, ok := r.ssh.Get(alias, "UserKnownHostsFile"); ok {
		for _, f := range v.Fields() {
			if f == "none" {
				continue
			}
			ep.KnownHostsFiles = append(ep.KnownHostsFiles, r.expandPath(f, ep))
		}
		if len(ep.KnownHostsFiles) == 0 {
			return ep, fail("known_hosts", setting{}, fmt.Sprintf("%s sets UserKnownHostsFile none: host keys cannot be checked", r.sshOrigin(v)))
		}
		origin["known_hosts"] = r.sshOrigin(v)
	} else {
		ep.KnownHostsFiles, origin["known_hosts"] = []string{filepath.Join(r.opts.Home, ".ssh", "known_hosts")}, "built-in default"
	}
	// host key check
	if s, ok := get("host_key_check"); ok {
		if s.value != HostKeyStrict && s.value != HostKeyAcceptNew {
			return ep, fail("host_key_check", s, fmt.Sprintf("%q is not strict or accept-new (there is no way to skip the check)", s.value))
		}
		ep.HostKeyCheck, origin["host_key_check"] = s.value, s.origin
	} else if v, ok := r.ssh.Get(alias, "StrictHostKeyChecking"); ok {
		switch strings.ToLower(v.Value) {
		case "yes", "ask":
			ep.HostKeyCheck = HostKeyStrict
		case "accept-new":
			ep.HostKeyCheck = HostKeyAcceptNew
		default:
			// "no" and "off" would skip the check; this tool never does.
			ep.HostKeyCheck = HostKeyStrict
			r.warn(fmt.Sprintf("%s: StrictHostKeyChecking %s is not honoured: host keys are always checked (strict)", r.sshOrigin(v), v.Value))
		}
		origin["host_key_check"] = r.sshOrigin(v)
	} else {
		ep.HostKeyCheck, origin["host_key_check"] = HostKeyStrict, "built-in default"
	}
	// connect timeout
	switch s, ok := get("connect_timeout"); {
	case r.opts.ConnectTimeout > 0:
		ep.ConnectTimeout, origin["connect_timeout"] = r.opts.ConnectTimeout, "--connect-timeout"
	case ok:
		d, err := parseDuration(s.value)
		if err != nil {
			return ep, fail("connect_timeout", s, err.Error())
		}
		ep.ConnectTimeout, origin["connect_timeout"] = d, s.origin
	default:
		if v, ok := r.ssh.Get(alias, "ConnectTimeout"); ok {
			secs, _ := strconv.Atoi(v.Value)
			ep.ConnectTimeout, origin["connect_timeout"] = time.Duration(secs)*time.Second, r.sshOrigin(v)
		} else {
			ep.ConnectTimeout, origin["connect_timeout"] = DefaultConnectTimeout, "built-in default"
		}
	}
	return ep, nil
}

// existingIdentities are ssh_config's IdentityFile values that exist: like
// ssh, a missing one there is skipped, where one named in the inventory is
// an error.
func (r *resolver) existingIdentities(alias string, ep Endpoint) []sshconfig.Value {
	var out []sshconfig.Value
	for _, v := range r.ssh.GetAll(alias, "IdentityFile") {
		if _, err := os.Stat(r.expandPath(v.Value, ep)); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// hop resolves one bastion, written [user@]host[:port], through ssh_config
// like any other host. Unless ssh_config says otherwise it uses the node's
// keys, known_hosts and checking mode.
func (r *resolver) hop(spec string, node Endpoint) (Endpoint, error) {
	user, hostport := "", spec
	if i := strings.LastIndexByte(spec, '@'); i >= 0 {
		user, hostport = spec[:i], spec[i+1:]
	}
	host, port := hostport, ""
	if strings.HasPrefix(hostport, "[") {
		if i := strings.Index(hostport, "]"); i > 0 {
			host, port = hostport[1:i], strings.TrimPrefix(hostport[i+1:], ":")
		}
	} else if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
		host, port = hostport[:i], hostport[i+1:]
	}
	if host == "" {
		return Endpoint{}, fmt.Errorf("%q is not [user@]host[:port]", spec)
	}
	l := layer{}
	if user != "" {
		l["user"] = setting{value: user, origin: "jump"}
	}
	if port != "" {
		l["port"] = setting{value: port, origin: "jump"}
	}
	get := func(k string) (setting, bool) {
		if s, ok := l[k]; ok {
			return s, true
		}
		switch k {
		case "identity_file":
			if len(node.IdentityFiles) > 0 && len(r.ssh.GetAll(host, "IdentityFile")) == 0 {
				return setting{value: node.IdentityFiles[0], origin: "the node's"}, true
			}
		case "known_hosts":
			if _, ok := r.ssh.Get(host, "UserKnownHostsFile"); !ok {
				return setting{value: node.KnownHostsFiles[0], origin: "the node's"}, true
			}
		case "host_key_check":
			if _, ok := r.ssh.Get(host, "StrictHostKeyChecking"); !ok {
				return setting{value: node.HostKeyCheck, origin: "the node's"}, true
			}
		case "user":
			if _, ok := r.ssh.Get(host, "User"); !ok {
				return setting{value: node.User, origin: "the node's"}, true
			}
		case "connect_timeout":
			return setting{value: node.ConnectTimeout.String(), origin: "the node's"}, true
		}
		return setting{}, false
	}
	return r.endpoint(host, get, func(k string, s setting, msg string) error {
		return fmt.Errorf("bastion %s: %s: %s", spec, k, msg)
	}, map[string]string{})
}

func (r *resolver) sshOrigin(v sshconfig.Value) string {
	return fmt.Sprintf("%s:%d", v.File, v.Line)
}

// noteIgnored reports, once each, ssh_config options that apply to alias
// but that this tool does not implement: silently misreading them would be
// worse than saying so.
func (r *resolver) noteIgnored(alias string) {
	for _, v := range r.ssh.Ignored(alias) {
		key := fmt.Sprintf("%s:%d", v.File, v.Line)
		if r.warned[key] {
			continue
		}
		r.warned[key] = true
		if supportedSSHOptions[strings.ToLower(v.Key)] {
			r.warn(fmt.Sprintf("%s: %s is inside a Match block, which is not evaluated; ignored", key, v.Key))
		} else {
			r.warn(fmt.Sprintf("%s: %s is not supported and is ignored", key, v.Key))
		}
	}
}

// supportedSSHOptions are the ssh_config options this tool applies.
var supportedSSHOptions = map[string]bool{"hostname": true, "user": true, "port": true, "identityfile": true,
	"identitiesonly": true, "proxyjump": true, "userknownhostsfile": true, "stricthostkeychecking": true, "connecttimeout": true}

func (r *resolver) warn(msg string) { r.warnings = append(r.warnings, msg) }

func (r *resolver) expandPath(p string, ep Endpoint) string {
	return expandTokens(p, ep.Alias, ep.User, ep.Port, r.opts.Home)
}

// inventoryPath resolves a path written in the inventory: relative paths
// are relative to the inventory file, like local_file, so that an
// inventory and its keys can move together.
func (r *resolver) inventoryPath(p string, ep Endpoint) string {
	p = r.expandPath(p, ep)
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(absPath(r.file)), p)
	}
	return p
}

// expandTokens expands ~ and the ssh_config tokens %d %h %p %r %u %%.
func expandTokens(s, host, user string, port int, home string) string {
	if s == "~" || strings.HasPrefix(s, "~/") {
		s = home + s[1:]
	}
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'd':
			b.WriteString(home)
		case 'h':
			b.WriteString(host)
		case 'p':
			b.WriteString(strconv.Itoa(port))
		case 'r':
			b.WriteString(user)
		case 'u':
			b.WriteString(user)
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

var accountRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_.-]{0,31}\$?|[0-9]{1,10})$`)

// validAccount accepts user and group names as useradd does, or numbers.
// The check also keeps names safe to pass to getent on the node.
func validAccount(s string) bool { return accountRE.MatchString(s) }

func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("%q is not a port (1-65535)", s)
	}
	return p, nil
}

func parseMode(s string) (fs.FileMode, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
	m, err := strconv.ParseUint(t, 8, 32)
	if err != nil || m > 0o777 {
		return 0, fmt.Errorf("%q is not a file mode: write it in octal, quoted, e.g. \"0660\"", s)
	}
	if m&0o400 == 0 && m&0o040 == 0 {
		return 0, fmt.Errorf("mode %04o lets neither the owner nor the group read the file; Elasticsearch could not load it", m)
	}
	return fs.FileMode(m), nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}

func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a duration (e.g. 10s, or a number of seconds)", s)
	}
	return d, nil
}

// finish checks what must hold for the whole inventory.
func finish(inv *Inventory) error {
	if len(inv.Nodes) == 0 {
		return &Error{File: inv.File, Msg: "no nodes"}
	}
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
