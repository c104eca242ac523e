package inventory

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory/sshconfig"
)

// setting is one raw value and where it was written.
type setting struct {
	value  string
	list   []string // for keys that may hold several values
	origin string
	file   string // where line is; "" is the inventory file itself
	line   int
	// ssh marks a value written in ssh's syntax (an ssh -o option from
	// Ansible's ssh arguments): yes/no instead of true/false, %-tokens, paths
	// relative to the working directory as ssh reads them.
	ssh bool
	// final marks a value already resolved elsewhere (a bastion inheriting
	// its node's): used as it is.
	final bool
}

// where is the file the setting was written in: an Ansible vars file, or
// else the inventory.
func (s setting) where(inventory string) string {
	if s.file != "" {
		return s.file
	}
	return inventory
}

// layer is one source of settings; earlier layers win.
type layer map[string]setting

// resolver turns layered raw settings into nodes.
type resolver struct {
	opts     Options
	ssh      *sshconfig.Config // the ssh_config of every node without its own -F
	sshPath  string
	file     string
	local    localInfo
	configs  map[string]*sshconfig.Config // by path, for Ansible's -F FILE
	warnings []string
	notes    []string
	warned   map[string]bool
}

// settingKeys are the per-node settings, in the order nodes prints them.
var settingKeys = []string{"host", "port", "user", "identity_file", "certificate_file", "known_hosts", "host_key_check",
	"connect_timeout", "jump", "path", "owner", "group", "mode", "sudo", "sftp_server", "backups", "es_node_name", "es_http_url"}

// errUnset makes a value count as not given, so that the next source is
// asked: ssh_config identity files that do not exist are skipped, as ssh
// skips them.
var errUnset = errors.New("unset")

// ladder resolves the settings of one host: its layers in order, then its
// ssh_config, then a fallback layer (what a bastion inherits from its
// node), then the built-in default. Every setting goes down the same
// ladder through [get], which records where the value came from.
type ladder struct {
	r      *resolver
	alias  string // the name ssh_config is asked about
	ssh    *sshconfig.Config
	layers []layer
	below  layer
	origin map[string]string
	fail   func(key string, s setting, msg string) error
	err    error // the first fault; later lookups are skipped
}

// find returns the winning raw value of key (sshKey in ssh_config).
func (l *ladder) find(key, sshKey string) (setting, bool) {
	for _, ly := range l.layers {
		if s, ok := ly[key]; ok {
			return s, true
		}
	}
	if sshKey != "" {
		if vs := l.ssh.GetAll(l.alias, sshKey); len(vs) > 0 {
			s := setting{value: vs[0].Value, origin: sshOrigin(vs[0]), file: vs[0].File, line: vs[0].Line, ssh: true}
			for _, v := range vs {
				s.list = append(s.list, v.Value)
			}
			return s, true
		}
	}
	if s, ok := l.below[key]; ok {
		return s, true
	}
	return setting{}, false
}

// get is the one place a setting is resolved: the first source that holds
// key wins, its value is parsed, and its origin recorded under key. A
// parse error stops the ladder with an error naming the key and its line.
func get[T any](l *ladder, key, sshKey string, parse func(setting) (T, error), def T, defOrigin string) T {
	if l.err != nil {
		return def
	}
	s, ok := l.find(key, sshKey)
	if ok {
		// Values are echoed in messages and passed to the node: a control
		// character could forge an output line or name another file.
		for _, v := range append([]string{s.value}, s.list...) {
			if !safetext.Printable(v) {
				shown := fmt.Sprintf("%q", safetext.Input(v))
				if secretSettings[key] {
					shown = "the value"
				}
				l.err = l.fail(key, s, shown+" holds a control or invisible character; use plain text")
				return def
			}
		}
		v, err := parse(s)
		if err == nil {
			l.origin[key] = s.origin
			return v
		}
		if !errors.Is(err, errUnset) {
			l.err = l.fail(key, s, err.Error())
			return def
		}
	}
	l.origin[key] = defOrigin
	return def
}

// secretSettings may hold a secret (sshpass -p in a ProxyCommand): their
// values are never echoed.
var secretSettings = map[string]bool{"proxy_command": true}

// node resolves one node from its layers (highest precedence first),
// adding ssh_config and built-in defaults below them.
func (r *resolver) node(name string, layers []layer, sc *sshconfig.Config) (*Node, error) {
	n, l := r.host("node "+name, name, layers, sc)
	n.Path = get(l, "path", "", filePath, DefaultPath, "built-in default")
	n.Owner = get(l, "owner", "", account, "", "not enforced: an existing file keeps its own")
	n.Group = get(l, "group", "", account, "", "not enforced: an existing file keeps its own")
	n.Mode = get(l, "mode", "", func(s setting) (os.FileMode, error) { return parseMode(s.value) }, DefaultMode, "built-in default")
	if s, ok := l.find("mode", ""); ok && l.err == nil && n.Mode&0o004 != 0 {
		r.warnOnce(fmt.Sprintf("%s:%d: mode %04o lets every user on the node read the token hashes; use \"0660\" or \"0640\"", s.where(r.file), s.line, n.Mode))
	}
	n.Backups = get(l, "backups", "", count, 0, "built-in default (no backups)")
	n.ESNodeName = get(l, "es_node_name", "", text, "", "node.name in the node's elasticsearch.yml, else its hostname")
	n.HTTPURL = get(l, "es_http_url", "", nodeURL, "", "none: the credentials API alone confirms this node")
	if l.err != nil {
		return nil, l.err
	}
	return n, nil
}

// host resolves how to reach and log in to a node or a consumer (label
// names it in errors: "node es-1"): address, login, keys, bastions, sudo.
// The ladder it returns resolves the rest of the host's settings; its err
// is the first fault.
func (r *resolver) host(label, name string, layers []layer, sc *sshconfig.Config) (*Node, *ladder) {
	n := &Node{Name: name, Origin: map[string]string{}}
	l := &ladder{r: r, ssh: sc, layers: layers, origin: n.Origin,
		fail: func(key string, s setting, msg string) error {
			return &Error{File: s.where(r.file), Line: s.line, Key: key, Msg: fmt.Sprintf("%s: %s", label, msg)}
		}}
	if r.opts.ConnectTimeout > 0 {
		origin := r.opts.ConnectTimeoutOrigin
		if origin == "" {
			origin = "the caller"
		}
		l.layers = append([]layer{{"connect_timeout": {value: r.opts.ConnectTimeout.String(), origin: origin}}}, l.layers...)
	}
	l.alias = get(l, "host", "", text, name, "the node name")
	var hops []string
	if l.proxyWins() {
		n.Endpoint = r.endpoint(l, "")
		n.ProxyCommand = r.proxyCommand(l, &n.Endpoint)
		// ssh uses the first of ProxyJump and ProxyCommand it reads.
		l.origin["jump"] = "none: ProxyCommand comes first (" + l.origin["proxy_command"] + ")"
	} else {
		hops = get(l, "jump", "ProxyJump", jumpList, nil, "none")
		n.Endpoint = r.endpoint(l, strings.Join(hops, ","))
	}
	for _, h := range hops {
		if l.err != nil {
			break
		}
		hop, err := r.hop(strings.TrimSpace(h), n.Endpoint, l.ssh, len(n.Jump) == 0)
		if err != nil {
			s, _ := l.find("jump", "ProxyJump")
			l.err = l.fail("jump", s, err.Error())
			break
		}
		n.Jump = append(n.Jump, hop)
	}
	n.Sudo = get(l, "sudo", "", func(s setting) (bool, error) { return parseBool(s.value) }, false, "built-in default")
	n.SFTPServer = get(l, "sftp_server", "", absolute, "", "searched for on the node when sudo is true")
	return n, l
}

// endpoint resolves the connection settings of l.alias: where, as whom,
// with which keys, known_hosts and timeouts. jump is the raw ProxyJump, for
// the %j token.
func (r *resolver) endpoint(l *ladder, jump string) Endpoint {
	ep := Endpoint{Alias: l.alias, Host: l.alias}
	r.noteIgnored(l.ssh, l.alias)
	tk := &tokens{ep: &ep, jump: jump, local: r.local, getenv: r.opts.Getenv}
	// In HostName, %h is the name given (ssh_config(5) allows only %h, %%).
	if s, ok := l.find("hostname", "HostName"); ok {
		ep.Host = expandTokens(s.value, tk, "h")
		l.origin["host"] += "; HostName from " + s.origin
	}
	ep.Port = get(l, "port", "Port", func(s setting) (int, error) { return parsePort(s.value) }, DefaultPort, "built-in default")
	ep.User = get(l, "user", "User", login, r.opts.User, "the current user")
	if l.err == nil && ep.User == "" {
		l.err = l.fail("user", setting{}, "no login user")
	}
	ep.IdentityFiles = get(l, "identity_file", "IdentityFile", r.identityFiles(tk), nil, "ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa")
	// Certificate files are found as identity files are (ssh's missing
	// ones skipped).
	ep.CertificateFiles = get(l, "certificate_file", "CertificateFile", r.identityFiles(tk), nil, "none: KEY-cert.pub beside each identity file, if there is one")
	ep.IdentitiesOnly = get(l, "identities_only", "IdentitiesOnly", yesNo, false, "built-in default")
	ep.KnownHostsFiles = get(l, "known_hosts", "UserKnownHostsFile", r.knownHosts(tk), []string{filepath.Join(r.opts.Home, ".ssh", "known_hosts")}, "built-in default")
	ep.GlobalKnownHostsFiles = get(l, "global_known_hosts", "GlobalKnownHostsFile", globalKnownHosts, DefaultGlobalKnownHosts, "built-in default")
	ep.HostKeyCheck = get(l, "host_key_check", "StrictHostKeyChecking", r.hostKeyCheck, HostKeyStrict, "built-in default")
	ep.ConnectTimeout = get(l, "connect_timeout", "ConnectTimeout", duration, DefaultConnectTimeout, "built-in default")
	ep.ServerAliveInterval = get(l, "server_alive_interval", "ServerAliveInterval", sshTime, 0, "built-in default (off)")
	ep.ServerAliveCountMax = get(l, "server_alive_count_max", "ServerAliveCountMax", count, DefaultServerAliveCountMax, "built-in default")
	return ep
}

// hop resolves one bastion, written [user@]host[:port], through ssh_config
// like any other host. Unless ssh_config says otherwise it uses the node's
// keys, known_hosts and checking mode. The first bastion of a chain may be
// reached through its own ProxyCommand, as ssh -J does; the next ones are
// reached through the one before.
func (r *resolver) hop(spec string, node Endpoint, sc *sshconfig.Config, first bool) (Endpoint, error) {
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
		return Endpoint{}, fmt.Errorf("%q is not [user@]host[:port]", safetext.Input(spec))
	}
	own := layer{"connect_timeout": {value: node.ConnectTimeout.String(), origin: "the node's"}}
	if user != "" {
		own["user"] = setting{value: user, origin: "jump"}
	}
	if port != "" {
		own["port"] = setting{value: port, origin: "jump"}
	}
	inherit := layer{
		"known_hosts":    {value: node.KnownHostsFiles[0], origin: "the node's", final: true},
		"host_key_check": {value: node.HostKeyCheck, origin: "the node's"},
		"user":           {value: node.User, origin: "the node's"},
	}
	if len(node.IdentityFiles) > 0 {
		inherit["identity_file"] = setting{value: node.IdentityFiles[0], origin: "the node's", final: true}
	}
	if len(node.CertificateFiles) > 0 {
		inherit["certificate_file"] = setting{value: node.CertificateFiles[0], list: node.CertificateFiles, origin: "the node's", final: true}
	}
	var err error
	l := &ladder{r: r, alias: host, ssh: sc, layers: []layer{own}, below: inherit, origin: map[string]string{},
		fail: func(k string, s setting, msg string) error {
			if err == nil {
				err = fmt.Errorf("bastion %s: %s: %s", safetext.Input(spec), k, msg)
			}
			return err
		}}
	ep := r.endpoint(l, "")
	if first && l.proxyWins() {
		ep.ProxyCommand = r.proxyCommand(l, &ep)
	}
	return ep, l.err
}

// proxyWins reports whether the node's connection is made by a
// ProxyCommand rather than a ProxyJump: ssh uses whichever of the two it
// reads first, through the sources in order (within ssh_config, Get
// answers only for the first one).
func (l *ladder) proxyWins() bool {
	for _, ly := range l.layers {
		if _, ok := ly["jump"]; ok {
			return false
		}
		if _, ok := ly["proxy_command"]; ok {
			return true
		}
	}
	_, ok := l.ssh.Get(l.alias, "ProxyCommand")
	return ok
}

// proxyTokens are the tokens ssh expands in ProxyCommand
// (expand_proxy_command in OpenSSH's sshconnect.c); %% too.
const proxyTokens = "hknpr"

// proxyCommand resolves ep's ProxyCommand once its host, port and user are
// known: "none" is none, and the tokens are expanded. The value is never
// echoed in a message: it may carry a secret.
func (r *resolver) proxyCommand(l *ladder, ep *Endpoint) string {
	tk := &tokens{ep: ep, local: r.local, getenv: r.opts.Getenv}
	return get(l, "proxy_command", "ProxyCommand", func(s setting) (string, error) {
		if strings.EqualFold(s.value, "none") {
			return "", nil
		}
		if c, ok := unknownToken(s.value, proxyTokens); ok {
			return "", fmt.Errorf("ProxyCommand holds %%%c, which ssh does not expand there: use %%h, %%k, %%n, %%p, %%r or %%%% (a literal %%)", c)
		}
		return expandTokens(s.value, tk, proxyTokens), nil
	}, "", "none")
}

// DefaultGlobalKnownHosts are ssh's system-wide known_hosts files.
var DefaultGlobalKnownHosts = []string{"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"}

// DefaultServerAliveCountMax is ssh's.
const DefaultServerAliveCountMax = 3

func sshOrigin(v sshconfig.Value) string { return fmt.Sprintf("%s:%d", v.File, v.Line) }

// The parsers below read one setting's raw value, in the inventory's
// syntax or, when s.ssh, in ssh_config's.

func text(s setting) (string, error) { return s.value, nil }

func login(s setting) (string, error) {
	if s.value == "" {
		return "", errors.New("no login user")
	}
	return s.value, nil
}

func jumpList(s setting) ([]string, error) {
	if s.ssh {
		if strings.EqualFold(s.value, "none") {
			return nil, nil
		}
		return strings.Split(s.value, ","), nil
	}
	return s.list, nil
}

func filePath(s setting) (string, error) {
	if !filepath.IsAbs(s.value) || strings.HasSuffix(s.value, "/") {
		return "", fmt.Errorf("%q is not an absolute file path", safetext.Input(s.value))
	}
	// Elasticsearch reads no other name; anything else would replace some
	// other file (elasticsearch.yml, /etc/passwd) with tokens.
	if filepath.Base(s.value) != "service_tokens" {
		return "", fmt.Errorf("%q is not a service_tokens file: Elasticsearch reads only CONFIG_DIR/service_tokens; give a path ending in /service_tokens", safetext.Input(s.value))
	}
	return filepath.Clean(s.value), nil
}

func absolute(s setting) (string, error) {
	if !filepath.IsAbs(s.value) {
		return "", fmt.Errorf("%q is not an absolute path", safetext.Input(s.value))
	}
	return s.value, nil
}

func account(s setting) (string, error) {
	if !validAccount(s.value) {
		return "", fmt.Errorf("%q is not a user or group name or number", safetext.Input(s.value))
	}
	return s.value, nil
}

func yesNo(s setting) (bool, error) {
	if s.ssh {
		return strings.EqualFold(s.value, "yes"), nil
	}
	return parseBool(s.value)
}

func duration(s setting) (time.Duration, error) {
	if s.ssh {
		if strings.EqualFold(s.value, "none") {
			return 0, errUnset
		}
		secs, err := strconv.Atoi(s.value)
		if err != nil || secs < 0 {
			return 0, fmt.Errorf("%q is not a whole number of seconds", safetext.Input(s.value))
		}
		if secs == 0 {
			return 0, errUnset // ssh: no timeout; ours is never unbounded
		}
		return time.Duration(secs) * time.Second, nil
	}
	return parseDuration(s.value)
}

func sshTime(s setting) (time.Duration, error) {
	d, err := sshconfig.ParseTime(s.value)
	if err != nil && !s.ssh {
		return parseDuration(s.value)
	}
	return d, err
}

func count(s setting) (int, error) {
	n, err := strconv.Atoi(s.value)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a whole number", safetext.Input(s.value))
	}
	return n, nil
}

func globalKnownHosts(s setting) ([]string, error) {
	// ssh opens these as written: no ~, no %-tokens (ssh -G shows the same).
	var out []string
	for _, f := range (sshconfig.Value{Value: s.value}).Fields() {
		if !strings.EqualFold(f, "none") {
			out = append(out, f)
		}
	}
	return out, nil
}

func (r *resolver) hostKeyCheck(s setting) (string, error) {
	if !s.ssh {
		if s.value != HostKeyStrict && s.value != HostKeyAcceptNew {
			return "", fmt.Errorf("%q is not strict or accept-new (there is no way to skip the check)", safetext.Input(s.value))
		}
		return s.value, nil
	}
	switch strings.ToLower(s.value) {
	case "yes", "ask":
		return HostKeyStrict, nil
	case "accept-new":
		return HostKeyAcceptNew, nil
	}
	// "no" and "off" would skip the check; this tool never does.
	r.warnOnce(fmt.Sprintf("%s: StrictHostKeyChecking %s is not honoured: host keys are always checked (strict)", s.origin, safetext.Input(s.value)))
	return HostKeyStrict, nil
}

// pathList resolves a setting that lists files: as given when final, one
// path relative to the inventory when the inventory set it, and ssh's
// own list through fromSSH, which follows ssh's rules for that setting.
func (r *resolver) pathList(tk *tokens, fromSSH func(setting) ([]string, error)) func(setting) ([]string, error) {
	return func(s setting) ([]string, error) {
		if s.final {
			if len(s.list) > 0 {
				return s.list, nil
			}
			return []string{s.value}, nil
		}
		if !s.ssh {
			p, err := r.inventoryPath(s.value, tk)
			return []string{p}, err
		}
		return fromSSH(s)
	}
}

// identityFiles: a file named in the inventory must exist (checked when
// keys are loaded); ssh's own lists skip missing files, as ssh does.
func (r *resolver) identityFiles(tk *tokens) func(setting) ([]string, error) {
	return r.pathList(tk, func(s setting) ([]string, error) {
		var out []string
		for _, v := range s.list {
			p, err := expandPath(v, tk, true)
			if err != nil {
				return nil, err
			}
			if _, err := os.Stat(p); err == nil {
				out = append(out, p)
			}
		}
		if len(out) == 0 {
			return nil, errUnset
		}
		return out, nil
	})
}

// knownHosts: ssh's UserKnownHostsFile may list several files; none
// would skip the host key check, which this tool never does.
func (r *resolver) knownHosts(tk *tokens) func(setting) ([]string, error) {
	return r.pathList(tk, func(s setting) ([]string, error) {
		var out []string
		for _, f := range (sshconfig.Value{Value: s.value}).Fields() {
			if f == "none" {
				continue
			}
			p, err := expandPath(f, tk, true)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s sets UserKnownHostsFile none: host keys cannot be checked", s.origin)
		}
		return out, nil
	})
}

// inventoryPath resolves a path written in the inventory: relative paths
// are relative to the inventory file, like local_file, so that an
// inventory and its keys can move together.
func (r *resolver) inventoryPath(p string, tk *tokens) (string, error) {
	p, err := expandPath(p, tk, false)
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(absPath(r.file)), p)
	}
	return p, nil
}

// noteIgnored reports, once each, ssh_config options that apply to alias
// but that this tool does not implement: those that would change where or
// how securely it connects as warnings, the harmless rest as notes for -v.
func (r *resolver) noteIgnored(sc *sshconfig.Config, alias string) {
	for _, v := range sc.Ignored(alias) {
		where := sshOrigin(v)
		if r.warned[where] {
			continue
		}
		r.warned[where] = true
		switch {
		case supportedSSHOptions[strings.ToLower(v.Key)]:
			r.warn(fmt.Sprintf("%s: %s is inside a Match block, which is not evaluated; ignored", where, v.Key))
		case harmless(v.Key, v.Value):
			r.notes = append(r.notes, fmt.Sprintf("%s: %s has no effect on es-service-tokens; ignored", where, v.Key))
		default:
			r.warn(fmt.Sprintf("%s: %s is not supported and is ignored", where, v.Key))
		}
	}
}

// supportedSSHOptions are the ssh_config options this tool applies.
var supportedSSHOptions = map[string]bool{"hostname": true, "user": true, "port": true, "identityfile": true,
	"identitiesonly": true, "proxyjump": true, "proxycommand": true, "certificatefile": true, "userknownhostsfile": true, "globalknownhostsfile": true,
	"stricthostkeychecking": true, "connecttimeout": true, "serveraliveinterval": true, "serveralivecountmax": true}

// harmlessSSHOptions only shape an interactive session, ssh's own logging
// or its connection reuse: ignoring them changes neither which machine is
// reached nor how its identity is checked nor which credentials leave this
// machine. Options not listed (ProxyUseFdpass, HostKeyAlias, Ciphers,
// CanonicalizeHostname, forwarding...) keep their warning.
var harmlessSSHOptions = map[string]bool{
	"addkeystoagent": true, "batchmode": true, "checkhostip": true, "clearallforwardings": true,
	"compression": true, "connectionattempts": true, "controlmaster": true, "controlpath": true,
	"controlpersist": true, "enableescapecommandline": true, "escapechar": true,
	"exitonforwardfailure": true, "fingerprinthash": true, "forwardx11": true,
	"forwardx11timeout": true, "forwardx11trusted": true, "gssapiauthentication": true,
	"gssapidelegatecredentials": true, "hashknownhosts": true, "ignoreunknown": true, "ipqos": true,
	"kbdinteractiveauthentication": true, "kbdinteractivedevices": true,
	"challengeresponseauthentication": true, "loglevel": true, "logverbose": true,
	"numberofpasswordprompts": true, "obscurekeystroketiming": true, "passwordauthentication": true,
	"permitlocalcommand": true, "preferredauthentications": true, "pubkeyauthentication": true,
	"requesttty": true, "sendenv": true, "setenv": true, "sessiontype": true, "stdinnull": true,
	"syslogfacility": true, "tcpkeepalive": true, "updatehostkeys": true, "visualhostkey": true,
	"xauthlocation": true, "tag": true, "warnweakcrypto": true, "versionaddendum": true,
	"forkafterauthentication": true, "streamlocalbindmask": true, "streamlocalbindunlink": true,
}

// harmless reports whether ignoring option key set to value is safe to do
// silently.
func harmless(key, value string) bool {
	return harmlessSSHOptions[strings.ToLower(key)]
}

func (r *resolver) warn(msg string) { r.warnings = append(r.warnings, msg) }

func (r *resolver) noteOnce(msg string) {
	if !r.warned[msg] {
		r.warned[msg] = true
		r.notes = append(r.notes, msg)
	}
}

func (r *resolver) warnOnce(msg string) {
	if !r.warned[msg] {
		r.warned[msg] = true
		r.warn(msg)
	}
}
