package inventory

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/internal/fserr"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory/ansible"
	"github.com/es-service-tokens/es-service-tokens/inventory/sshconfig"
)

// ansibleVars maps Ansible connection variables, and this tool's own
// es_service_tokens_* variables, to node settings. Earlier names win over
// the legacy aliases after them.
var ansibleVars = []struct {
	key   string
	names []string
}{
	{"host", []string{"ansible_host", "ansible_ssh_host"}},
	{"port", []string{"ansible_port", "ansible_ssh_port"}},
	{"user", []string{"ansible_user", "ansible_ssh_user"}},
	{"identity_file", []string{"ansible_ssh_private_key_file", "ansible_private_key_file"}},
	{"certificate_file", []string{"es_service_tokens_certificate_file"}},
	{"sudo", []string{"ansible_become"}},
	{"path", []string{"es_service_tokens_path"}},
	{"owner", []string{"es_service_tokens_owner"}},
	{"group", []string{"es_service_tokens_group"}},
	{"mode", []string{"es_service_tokens_mode"}},
	{"sftp_server", []string{"es_service_tokens_sftp_server"}},
	{"backups", []string{"es_service_tokens_backups"}},
	{"es_node_name", []string{"es_service_tokens_es_node_name"}},
	{"es_http_url", []string{"es_service_tokens_es_http_url"}},
	{"known_hosts", []string{"es_service_tokens_known_hosts"}},
	{"host_key_check", []string{"es_service_tokens_host_key_check"}},
	{"connect_timeout", []string{"es_service_tokens_connect_timeout", "ansible_ssh_timeout", "ansible_timeout"}},
}

// loadAnsible reads an Ansible YAML inventory as it is, with the
// ansible.cfg Ansible would read.
func (r *resolver) loadAnsible(path string, data []byte) (*Inventory, error) {
	cfg, err := r.ansibleConfig()
	if err != nil {
		return nil, err
	}
	ai, err := ansible.ParseVault(path, data, ansible.NewVault(r.opts.VaultIDs, cfg))
	if err != nil {
		return nil, ansibleError(path, err)
	}
	inv, err := r.ansibleInventory(path, ai, cfg)
	if err != nil {
		return nil, hideVaulted(err, ai)
	}
	return inv, nil
}

// ansibleConfig is the ansible.cfg Ansible would read (or the one given).
func (r *resolver) ansibleConfig() (*ansible.Config, error) {
	cfgPath := r.opts.AnsibleConfig
	if cfgPath == "" {
		cfgPath = ansible.FindConfig(r.opts.Getenv, r.opts.Home)
	}
	cfg, err := ansible.LoadConfig(cfgPath, r.opts.Getenv)
	if err != nil {
		return nil, ansibleError(cfgPath, err)
	}
	return cfg, nil
}

// hideVaulted keeps a decrypted value out of an error about it: the error
// names the file, line and key, and says why it shows no more.
func hideVaulted(err error, ai *ansible.Inventory) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	for _, h := range ai.Hosts {
		for _, v := range h.Vars {
			if v.Vaulted && v.File == e.File && (v.Line == e.Line || e.Line == 0) {
				return &Error{File: e.File, Line: e.Line, Key: e.Key,
					Msg: "this vault-encrypted value is not valid here (its decrypted text is not shown)"}
			}
		}
	}
	return err
}

// ansibleInventory maps a parsed Ansible inventory to nodes, groups,
// consumers and the Elasticsearch section.
func (r *resolver) ansibleInventory(path string, ai *ansible.Inventory, cfg *ansible.Config) (*Inventory, error) {
	inv := &Inventory{File: path, Format: "ansible", Groups: map[string][]string{}, AnsibleConfig: cfg.File}
	r.warnings = append(r.warnings, ai.Warnings...)
	consumers := map[string]bool{}
	for _, m := range ai.Groups[AnsibleConsumerGroup] {
		consumers[m] = true
	}
	for g, all := range ai.Groups {
		var members []string // nodes only: groups select nodes
		for _, m := range all {
			if !consumers[m] {
				members = append(members, m)
			}
		}
		if g == "all" || len(members) == 0 {
			continue // every node is in all; a limit of all means every node anyway
		}
		inv.Groups[g] = members
	}
	if s, ok := cfg.Get("defaults", "host_key_checking"); ok && isFalse(s.Value) {
		r.warnOnce(fmt.Sprintf("%s: host_key_checking = %s is not honoured: host keys are always checked", s.Origin, safetext.Input(s.Value)))
	}
	var nodeHosts []ansible.Host
	for _, h := range ai.Hosts {
		layers, sc, err := r.ansibleLayers(h, cfg)
		if err != nil {
			return nil, err
		}
		if isConsumer(h) {
			c, err := r.ansibleConsumer(h, layers, sc)
			if err != nil {
				return nil, err
			}
			inv.Consumers = append(inv.Consumers, c)
			continue
		}
		nodeHosts = append(nodeHosts, h)
		n, err := r.node(h.Name, layers, sc)
		if err != nil {
			return nil, err
		}
		inv.Nodes = append(inv.Nodes, n)
	}
	if err := ansibleInventoryVars(path, nodeHosts, inv); err != nil {
		return nil, err
	}
	es, err := r.ansibleElasticsearch(nodeHosts)
	if err != nil {
		return nil, err
	}
	inv.Elasticsearch = es
	return inv, finish(inv)
}

// ansibleInventoryVars reads the variables that are the inventory's, not
// a node's: every host that sets one must give it the same value.
func ansibleInventoryVars(path string, hosts []ansible.Host, inv *Inventory) error {
	v, err := oneValue(hosts, "es_service_tokens_local_file", "must be a file path", "every node gets the same file")
	if err != nil {
		return err
	}
	if v.Node != nil {
		inv.LocalFile = v.Value
		if !filepath.IsAbs(inv.LocalFile) {
			inv.LocalFile = filepath.Join(filepath.Dir(absPath(path)), inv.LocalFile)
		}
	}
	v, err = oneValue(hosts, "es_service_tokens_max_token_age", "must be an age such as 90d", "token ages are judged once, for the local file")
	if err != nil || v.Node == nil {
		return err
	}
	return setMaxTokenAge(inv, v.File, v.Line, "es_service_tokens_max_token_age", v.Value)
}

// oneValue is the value of an inventory-wide variable, which hosts that
// set it must agree on (why says why): the zero Var when none sets it.
// empty is the error for an empty value.
func oneValue(hosts []ansible.Host, name, empty, why string) (ansible.Var, error) {
	var from ansible.Var
	for _, h := range hosts {
		v, ok := h.Vars[name]
		if !ok {
			continue
		}
		if v.Value == "" {
			return from, &Error{File: v.File, Line: v.Line, Key: name, Msg: empty}
		}
		if from.Node != nil && v.Value != from.Value {
			return from, &Error{File: v.File, Line: v.Line, Key: name, Msg: fmt.Sprintf("host %s: %q differs from %q (%s:%d); %s, so give one value, e.g. in group all", h.Name, safetext.Input(v.Value), safetext.Input(from.Value), from.File, from.Line, why)}
		}
		from = v
	}
	return from, nil
}

func ansibleError(path string, err error) error {
	var ae *ansible.Error
	if errors.As(err, &ae) {
		return &Error{File: ae.File, Line: ae.Line, Msg: ae.Msg, Hint: ae.Hint}
	}
	return &Error{File: path, Msg: err.Error()}
}

func isFalse(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "false", "no", "off", "0", "n", "f":
		return true
	}
	return false
}

// ansibleLayers builds a host's settings in the order ssh would see them
// on the command line Ansible's ssh connection plugin builds, where the
// first value of each option wins: ssh_args, then Ansible's own -o Port,
// IdentityFile and User (from the host's variables, else ansible.cfg), then
// ansible_ssh_common_args, then ansible_ssh_extra_args. The ssh_config is
// the last -F FILE among them, else the usual one.
func (r *resolver) ansibleLayers(h ansible.Host, cfg *ansible.Config) ([]layer, *sshconfig.Config, error) {
	vars, err := r.ansibleVarsLayer(h)
	if err != nil {
		return nil, nil, err
	}
	fromCfg := r.ansibleCfgLayer(cfg)
	var sshPath string // the last -F given
	var args [3]layer
	for i, a := range []struct{ hostVar, cfgKey string }{
		{"ansible_ssh_args", "ssh_args"},
		{"ansible_ssh_common_args", "ssh_common_args"},
		{"ansible_ssh_extra_args", "ssh_extra_args"},
	} {
		l, cfgFile, err := r.ansibleSSHArgs(h, cfg, a.hostVar, a.cfgKey)
		if err != nil {
			return nil, nil, err
		}
		if cfgFile != "" {
			sshPath = cfgFile
		}
		args[i] = l
	}
	sc := r.ssh
	if sshPath != "" {
		if sc, err = r.sshConfig(sshPath); err != nil {
			return nil, nil, err
		}
	}
	first, common, extra := args[0], args[1], args[2]
	return []layer{first, vars, fromCfg, common, extra}, sc, nil
}

// ansibleCfgLayer is the connection settings ansible.cfg (or its
// environment variables) gives every host.
func (r *resolver) ansibleCfgLayer(cfg *ansible.Config) layer {
	fromCfg := layer{}
	for _, m := range []struct{ key, section, name string }{
		{"user", "defaults", "remote_user"},
		{"port", "defaults", "remote_port"},
		{"identity_file", "defaults", "private_key_file"},
		{"connect_timeout", "defaults", "timeout"},
	} {
		s, ok := cfg.Get(m.section, m.name)
		if !ok {
			continue
		}
		if m.key != "identity_file" {
			fromCfg[m.key] = setting{value: s.Value, origin: s.Origin}
			continue
		}
		// ssh opens it from the working directory; ansible.cfg's relative
		// paths are relative to the file.
		v := expandHome(s.Value, r.opts.Home)
		if s.Dir != "" && !filepath.IsAbs(v) {
			v = filepath.Join(s.Dir, v)
		}
		fromCfg[m.key] = setting{value: v, list: []string{v}, origin: s.Origin, ssh: true}
	}
	return fromCfg
}

// ansibleSSHArgs reads one of the ssh argument strings: the host's
// variable hostVar, else ansible.cfg's [ssh_connection] cfgKey. It
// returns the settings and the -F file, if any.
func (r *resolver) ansibleSSHArgs(h ansible.Host, cfg *ansible.Config, hostVar, cfgKey string) (layer, string, error) {
	if v, ok := h.Vars[hostVar]; ok {
		if err := plainVar(h, hostVar, v); err != nil {
			return nil, "", err
		}
		return r.sshArgs(v.Value, fmt.Sprintf("%s:%d (%s, %s)", v.File, v.Line, v.Source, hostVar), v.File, v.Line)
	}
	if s, ok := cfg.Get("ssh_connection", cfgKey); ok {
		return r.sshArgs(s.Value, s.Origin, "", 0)
	}
	return layer{}, "", nil
}

// sshConfig loads (once) an ssh_config named by ssh -F.
func (r *resolver) sshConfig(path string) (*sshconfig.Config, error) {
	if sc, ok := r.configs[path]; ok {
		return sc, nil
	}
	sc := &sshconfig.Config{}
	if path != "none" {
		if _, err := os.Stat(path); err != nil {
			return nil, &Error{File: path, Msg: fmt.Sprintf("ssh -F %s: %v", path, fserr.WithoutPath(err))}
		}
		var err error
		if sc, err = sshconfig.Load(path, r.opts.Home); err != nil {
			var se *sshconfig.Error
			if errors.As(err, &se) {
				return nil, &Error{File: se.File, Line: se.Line, Msg: se.Msg}
			}
			return nil, &Error{File: path, Msg: fserr.WithoutPath(err).Error()}
		}
	}
	r.configs[path] = sc
	return sc, nil
}

func expandHome(p, home string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		return home + p[1:]
	}
	return p
}

func plainVar(h ansible.Host, name string, v ansible.Var) error {
	if err := stillEncrypted(name, v); err != nil {
		return err
	}
	if strings.Contains(v.Value, "{{") {
		return &Error{File: v.File, Line: v.Line, Key: name, Msg: fmt.Sprintf("host %s: Jinja templates are not evaluated; give a plain value", h.Name)}
	}
	return nil
}

// stillEncrypted is the error for a variable the tool reads whose inline
// "!vault" value could not be decrypted: no password, or none that fits.
func stillEncrypted(name string, v ansible.Var) error {
	if v.VaultErr == nil {
		return nil
	}
	var ae *ansible.Error
	if errors.As(v.VaultErr, &ae) {
		return &Error{File: v.File, Line: v.Line, Key: name, Msg: ae.Msg, Hint: ae.Hint}
	}
	return &Error{File: v.File, Line: v.Line, Key: name, Msg: v.VaultErr.Error()}
}

func (r *resolver) ansibleVarsLayer(h ansible.Host) (layer, error) {
	l := layer{}
	origin := func(v ansible.Var) string { return fmt.Sprintf("%s:%d (%s)", v.File, v.Line, v.Source) }
	for _, m := range ansibleVars {
		for _, name := range m.names {
			v, ok := h.Vars[name]
			if !ok {
				continue
			}
			if err := plainVar(h, name, v); err != nil {
				return nil, err
			}
			l[m.key] = setting{value: v.Value, origin: origin(v), file: v.File, line: v.Line}
			break
		}
	}
	for _, name := range []string{"es_service_tokens_local_file", "es_service_tokens_max_token_age"} {
		if v, ok := h.Vars[name]; ok {
			if err := plainVar(h, name, v); err != nil {
				return nil, err
			}
		}
	}
	if v, ok := h.Vars["ansible_become_user"]; ok && v.Value != "root" {
		return nil, &Error{File: v.File, Line: v.Line, Key: "ansible_become_user", Msg: fmt.Sprintf("host %s: only root is supported (sudo runs sftp-server as root)", h.Name)}
	}
	if v, ok := h.Vars["ansible_become_method"]; ok && v.Value != "sudo" {
		return nil, &Error{File: v.File, Line: v.Line, Key: "ansible_become_method", Msg: fmt.Sprintf("host %s: only sudo is supported", h.Name)}
	}
	if v, ok := h.Vars["ansible_connection"]; ok && v.Value != "ssh" && v.Value != "paramiko" && v.Value != "smart" {
		r.warnOnce(fmt.Sprintf("%s:%d: ansible_connection=%s is ignored; es-service-tokens always connects over SSH", v.File, v.Line, safetext.Input(v.Value)))
	}
	for _, name := range []string{"ansible_password", "ansible_ssh_pass", "ansible_become_password", "ansible_become_pass"} {
		if v, ok := h.Vars[name]; ok {
			r.warnOnce(fmt.Sprintf("%s:%d: %s is ignored; es-service-tokens logs in with keys and needs passwordless sudo", v.File, v.Line, name))
		}
	}
	return l, nil
}

// sshOptionKeys map the ssh options this tool applies to node settings.
var sshOptionKeys = map[string]string{
	"HostName": "hostname", "User": "user", "Port": "port", "IdentityFile": "identity_file", "CertificateFile": "certificate_file",
	"IdentitiesOnly": "identities_only", "ProxyJump": "jump", "ProxyCommand": "proxy_command", "UserKnownHostsFile": "known_hosts",
	"GlobalKnownHostsFile": "global_known_hosts", "StrictHostKeyChecking": "host_key_check",
	"ConnectTimeout": "connect_timeout", "ServerAliveInterval": "server_alive_interval",
	"ServerAliveCountMax": "server_alive_count_max",
}

// proxyRival pairs the two settings of which ssh keeps only the first.
var proxyRival = map[string]string{"jump": "proxy_command", "proxy_command": "jump"}

// sshFlagOptions are ssh's flags that take an argument, by the option
// they set; "" for those with no ssh_config equivalent.
var sshFlagOptions = map[byte]string{
	'B': "BindInterface", 'b': "BindAddress", 'c': "Ciphers", 'D': "DynamicForward", 'E': "",
	'e': "EscapeChar", 'F': "", 'I': "PKCS11Provider", 'i': "IdentityFile", 'J': "ProxyJump",
	'L': "LocalForward", 'l': "User", 'm': "MACs", 'O': "", 'o': "", 'P': "Tag", 'p': "Port",
	'Q': "", 'R': "RemoteForward", 'S': "ControlPath", 'W': "", 'w': "Tunnel",
}

// harmlessFlags are ssh flags without an argument that only shape an
// interactive session or ssh's own output.
const harmlessFlags = "46CqvTtnxXYaksKMNfgGV"

// sshArgs reads ssh command-line arguments (as Ansible passes them, split
// like a shell would) into a layer, first value winning as in ssh. It
// returns the -F file, if any.
func (r *resolver) sshArgs(text, origin, file string, line int) (layer, string, error) {
	if file == "" {
		file = r.file
	}
	a := &sshArgReader{r: r, origin: origin, file: file, line: line, l: layer{}}
	words, err := shellSplit(text)
	if err != nil {
		return nil, "", a.fail("%v", err)
	}
	for i := 0; i < len(words); i++ {
		w := words[i]
		if len(w) < 2 || w[0] != '-' {
			a.ignored(w, "")
			continue
		}
		optKey, takesArg := sshFlagOptions[w[1]]
		if !takesArg {
			a.switches(w)
			continue
		}
		arg := w[2:]
		if arg == "" {
			if i+1 == len(words) {
				return nil, "", a.fail("%s needs an argument", w)
			}
			i++
			arg = words[i]
		}
		if err := a.option(w[1], optKey, arg); err != nil {
			return nil, "", err
		}
	}
	return a.l, a.configFile, nil
}

// sshArgReader gathers the settings of one ssh argument string, written
// at file:line (origin names it for messages).
type sshArgReader struct {
	r          *resolver
	origin     string
	file       string
	line       int
	l          layer
	configFile string // -F
}

func (a *sshArgReader) fail(format string, args ...any) error {
	return &Error{File: a.file, Line: a.line, Msg: a.origin + ": " + fmt.Sprintf(format, args...)}
}

// option reads one flag that takes an argument: -o, -F, or a flag that
// stands for an ssh_config option (-p, -l, -i, ...).
func (a *sshArgReader) option(flag byte, optKey, arg string) error {
	switch flag {
	case 'o':
		opt, ok, err := sshconfig.ParseOption(arg)
		if err != nil {
			return a.fail("-o %s: %v", arg, err)
		}
		if ok {
			a.set(opt)
		} else if harmless(opt.Key, "") {
			a.ignored("-o "+arg, opt.Key)
		} else {
			// The value may hold a secret (ProxyCommand="sshpass -p ...").
			a.ignored("-o "+opt.Key+" (value not shown)", opt.Key)
		}
	case 'F':
		a.configFile = arg
	case 'E', 'O', 'Q', 'W':
		a.ignored("-"+string(flag)+" "+arg, "")
	default:
		if sshOptionKeys[optKey] != "" {
			a.set(sshconfig.Value{Key: optKey, Value: arg})
		} else {
			a.ignored("-"+string(flag)+" "+arg, optKey)
		}
	}
	return nil
}

// switches reads flags without arguments (-4, -vT): those that change
// nothing here pass in silence, the others are ignored with a word.
func (a *sshArgReader) switches(w string) {
	for _, f := range []byte(w[1:]) {
		if !strings.ContainsRune(harmlessFlags, rune(f)) {
			a.ignored("-"+string(f), "")
		}
	}
}

// set records an option as its setting. ssh keeps the first value of an
// option, and every IdentityFile and CertificateFile.
func (a *sshArgReader) set(opt sshconfig.Value) {
	key := sshOptionKeys[opt.Key]
	s, ok := a.l[key]
	if ok && key != "identity_file" && key != "certificate_file" {
		return
	}
	// ssh uses the first of ProxyJump and ProxyCommand it is given.
	if rival, ok := proxyRival[key]; ok {
		if _, set := a.l[rival]; set {
			return
		}
	}
	if !ok {
		s = setting{value: opt.Value, origin: a.origin, file: a.file, line: a.line, ssh: true}
	}
	s.list = append(s.list, opt.Value)
	a.l[key] = s
}

// ignored tells the user about what is not honoured: a note for what
// has no effect on this tool (option key), a warning for the rest.
func (a *sshArgReader) ignored(what string, key string) {
	msg := fmt.Sprintf("%s: %s", a.origin, what)
	if key != "" && harmless(key, "") {
		a.r.noteOnce(msg + " has no effect on es-service-tokens; ignored")
	} else {
		a.r.warnOnce(msg + " is not supported and is ignored")
	}
}

// shellSplit splits like Python's shlex.split, which Ansible applies to
// ssh arguments: whitespace separates words, single quotes keep everything,
// double quotes keep everything but \" and \\, a backslash outside quotes
// escapes the next character.
func shellSplit(s string) ([]string, error) {
	var words []string
	var b strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				b.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("unterminated double quote")
			}
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
			inWord = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, b.String())
				b.Reset()
				inWord = false
			}
		default:
			b.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, b.String())
	}
	return words, nil
}
