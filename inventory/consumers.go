package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory/ansible"
	"github.com/es-service-tokens/es-service-tokens/inventory/sshconfig"
	svctokens "github.com/es-service-tokens/es-service-tokens/tokens"
)

// Consumer is a service that authenticates with a token (Kibana, Fleet
// Server, an application): where it runs, which token it uses and how it
// receives the token's secret.
type Consumer struct {
	Name string
	// Token is the qualified name of the token it uses,
	// namespace/service/name.
	Token  string
	Method Method
	// Host is how to reach the consumer's machine, resolved like a node's
	// (defaults, ssh_config, bastions, sudo). For the file and env_file
	// methods its Path, Owner, Group and Mode are those of the file that
	// holds the secret (Mode 0 for an env_file: the existing file's mode);
	// Origin says where each setting came from.
	Host *Node
	// Keystore is the kibana-keystore program, Setting the keystore entry
	// it sets (kibana_keystore).
	Keystore, Setting string
	// EnvKey is the variable an env_file assigns the secret to.
	EnvKey string
	// Command reads the secret on its standard input (command).
	Command string
	// Restart, when set, runs after the secret is stored; Health, when
	// set, runs until it exits 0 or HealthTimeout passes.
	Restart, Health string
	HealthTimeout   time.Duration
}

// Method is how a consumer receives a secret.
type Method string

// The delivery methods.
const (
	MethodKibanaKeystore Method = "kibana_keystore"
	MethodFile           Method = "file"
	MethodEnvFile        Method = "env_file"
	MethodCommand        Method = "command"
)

// Consumer defaults.
const (
	// DefaultKibanaKeystore is where Kibana's deb and rpm packages put it.
	DefaultKibanaKeystore = "/usr/share/kibana/bin/kibana-keystore"
	// DefaultKeystoreSetting is the setting Kibana reads its service
	// account token from.
	DefaultKeystoreSetting = "elasticsearch.serviceAccountToken"
	// DefaultConsumerMode keeps a secret to its owner.
	DefaultConsumerMode  = fs.FileMode(0o600)
	DefaultHealthTimeout = 60 * time.Second
)

// methods are the method keys; a consumer has exactly one.
var methods = []Method{MethodKibanaKeystore, MethodFile, MethodEnvFile, MethodCommand}

// consumerKeys are a consumer's own settings, besides the connection
// settings it shares with nodes.
var consumerKeys = []string{"token", "kibana_keystore", "setting", "file", "env_file", "key", "command",
	"owner", "group", "mode", "restart", "health", "health_timeout"}

// connectionKeys are the node settings a consumer takes: how to reach and
// log in to its machine. The defaults: section gives consumers these only.
var connectionKeys = []string{"host", "port", "user", "identity_file", "certificate_file", "known_hosts", "host_key_check",
	"connect_timeout", "jump", "sudo", "sftp_server"}

// envKeyRE is a variable name systemd accepts in an EnvironmentFile.
var envKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// nativeConsumers reads the consumers: list. nodes are the nodes' names
// (by the line they are on), which a consumer must not take: messages and
// reports name both.
func (r *resolver) nativeConsumers(path string, list *yaml.Node, defaults layer, nodes map[string]int, inv *Inventory) error {
	if list.Kind != yaml.SequenceNode {
		return errAt(path, list, "consumers", "must be a list of consumers, each with name, host, token and one of kibana_keystore, file, env_file, command")
	}
	seen := map[string]int{}
	common := onlyKeys(defaults, connectionKeys)
	for i, item := range list.Content {
		key := fmt.Sprintf("consumers[%d]", i)
		name, err := nodeName(path, item, key, "consumer", seen)
		if err != nil {
			return err
		}
		if line, clash := nodes[name]; clash {
			return errAt(path, item, key+".name", "%s is the name of a node (line %d): give the consumer a name of its own", name, line)
		}
		own, err := r.consumerSettings(path, item, name)
		if err != nil {
			return err
		}
		c, err := r.consumer(name, []layer{own, common}, r.ssh)
		if err != nil {
			return err
		}
		inv.Consumers = append(inv.Consumers, c)
	}
	return nil
}

// onlyKeys is the part of l with the given keys.
func onlyKeys(l layer, keys []string) layer {
	out := layer{}
	for _, k := range keys {
		if s, ok := l[k]; ok {
			out[k] = s
		}
	}
	return out
}

// consumerSettings reads a consumer's mapping: its own settings and the
// connection settings it shares with nodes.
func (r *resolver) consumerSettings(path string, m *yaml.Node, name string) (layer, error) {
	valid := append(append([]string{"name"}, consumerKeys...), connectionKeys...)
	l := layer{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Value == "name" {
			continue
		}
		if !contains(valid, k.Value) {
			return nil, errAt(path, k, k.Value, "unknown key in consumer %s; valid keys: %s", name, strings.Join(valid, ", "))
		}
		s := setting{origin: fmt.Sprintf("%s:%d (consumer %s)", path, v.Line, name), file: path, line: v.Line, value: v.Value}
		switch {
		case k.Value == "jump" && v.Kind == yaml.SequenceNode:
			for _, h := range v.Content {
				s.list = append(s.list, h.Value)
			}
		case v.Kind != yaml.ScalarNode:
			return nil, errAt(path, v, k.Value, "must be a single value")
		case v.Tag == "!!null":
			return nil, errAt(path, v, k.Value, "has no value")
		case k.Value == "jump":
			s.list = strings.Split(v.Value, ",")
		}
		l[k.Value] = s
	}
	return l, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// consumer resolves one consumer from its layers: its machine like a
// node's, then how it receives the secret.
func (r *resolver) consumer(name string, layers []layer, sc *sshconfig.Config) (*Consumer, error) {
	n, l := r.host("consumer "+name, name, layers, sc)
	c := &Consumer{Name: name, Host: n}
	c.Token = get(l, "token", "", qualifiedToken, "", "")
	if l.err == nil && c.Token == "" {
		l.err = l.fail("token", setting{}, "missing: name the token it uses, as namespace/service/name (e.g. elastic/kibana/kibana-1)")
	}
	c.Method = r.consumerMethod(l)
	r.methodSettings(l, c)
	c.Restart = get(l, "restart", "", command, "", "none")
	c.Health = get(l, "health", "", command, "", "none: delivered once the secret is stored (and restart ran)")
	c.HealthTimeout = get(l, "health_timeout", "", duration, DefaultHealthTimeout, "built-in default")
	if _, ok := l.find("health_timeout", ""); ok && c.Health == "" && l.err == nil {
		s, _ := l.find("health_timeout", "")
		l.err = l.fail("health_timeout", s, "there is no health command to wait for: set health too, or remove health_timeout")
	}
	if l.err != nil {
		return nil, l.err
	}
	return c, nil
}

// consumerMethod is the one method key the consumer sets.
func (r *resolver) consumerMethod(l *ladder) Method {
	var found []Method
	for _, m := range methods {
		if _, ok := l.find(string(m), ""); ok {
			found = append(found, m)
		}
	}
	if l.err != nil {
		return ""
	}
	if len(found) == 1 {
		s, _ := l.find(string(found[0]), "")
		l.origin["method"] = s.origin
		return found[0]
	}
	names := make([]string, len(methods))
	for i, m := range methods {
		names[i] = string(m)
	}
	if len(found) == 0 {
		l.err = l.fail("", setting{}, "says nowhere how it receives the secret: set one of "+strings.Join(names, ", "))
		return ""
	}
	s, _ := l.find(string(found[1]), "")
	l.err = l.fail(string(found[1]), s, fmt.Sprintf("a consumer receives the secret one way: set one of %s, not both %s and %s", strings.Join(names, ", "), found[0], found[1]))
	return ""
}

// methodSettings reads the settings of c's method, refusing those of
// other methods (a key that would silently do nothing).
func (r *resolver) methodSettings(l *ladder, c *Consumer) {
	belongs := map[string]Method{"setting": MethodKibanaKeystore, "key": MethodEnvFile}
	for k, m := range belongs {
		if s, ok := l.find(k, ""); ok && l.err == nil && c.Method != m {
			l.err = l.fail(k, s, fmt.Sprintf("belongs to %s; this consumer uses %s", m, c.Method))
		}
	}
	for _, k := range []string{"owner", "group", "mode"} {
		if s, ok := l.find(k, ""); ok && l.err == nil && c.Method != MethodFile && c.Method != MethodEnvFile {
			l.err = l.fail(k, s, fmt.Sprintf("applies to file and env_file; this consumer uses %s", c.Method))
		}
	}
	n := c.Host
	switch c.Method {
	case MethodKibanaKeystore:
		c.Keystore = get(l, "kibana_keystore", "", keystorePath, DefaultKibanaKeystore, "built-in default")
		c.Setting = get(l, "setting", "", keystoreSetting, DefaultKeystoreSetting, "built-in default")
	case MethodFile, MethodEnvFile:
		n.Path = get(l, string(c.Method), "", secretPath, "", "")
		n.Owner = get(l, "owner", "", account, "", "not enforced: an existing file keeps its own")
		n.Group = get(l, "group", "", account, "", "not enforced: an existing file keeps its own")
		mode, origin := DefaultConsumerMode, "built-in default"
		if c.Method == MethodEnvFile {
			// A service's environment file is often read by its group:
			// an existing file keeps its mode unless one is given.
			mode, origin = 0, "not enforced: an existing file keeps its own (0600 for a new one)"
		}
		n.Mode = get(l, "mode", "", func(s setting) (fs.FileMode, error) { return parseSecretMode(s.value) }, mode, origin)
		if c.Method == MethodEnvFile {
			c.EnvKey = get(l, "key", "", envKey, "", "")
			if l.err == nil && c.EnvKey == "" {
				s, _ := l.find("env_file", "")
				l.err = l.fail("key", s, "missing: name the variable env_file assigns the secret to (e.g. key: ELASTICSEARCH_SERVICE_TOKEN)")
			}
		}
	case MethodCommand:
		c.Command = get(l, "command", "", command, "", "")
	}
}

// The parsers of consumer settings.

func qualifiedToken(s setting) (string, error) {
	principal, name, ok := svctokens.SplitQualifiedName(s.value)
	if !ok || strings.Count(s.value, "/") != 2 {
		return "", fmt.Errorf("%q is not namespace/service/name (e.g. elastic/kibana/kibana-1)", safetext.Input(s.value))
	}
	if _, known := svctokens.LookupAccount(principal); !known {
		return "", errors.New(svctokens.UnknownPrincipalMessage(principal))
	}
	if !svctokens.ValidTokenName(name) {
		return "", errors.New(svctokens.InvalidTokenNameMessage(name))
	}
	return s.value, nil
}

// keystorePath is true (the package's path) or the program's absolute path.
func keystorePath(s setting) (string, error) {
	if b, err := parseBool(s.value); err == nil {
		if !b {
			return "", errors.New("false: to deliver otherwise, remove kibana_keystore and set file, env_file or command")
		}
		return DefaultKibanaKeystore, nil
	}
	if !filepath.IsAbs(s.value) {
		return "", fmt.Errorf("%q is neither true (the package's %s) nor an absolute path to kibana-keystore", safetext.Input(s.value), DefaultKibanaKeystore)
	}
	return s.value, nil
}

// settingRE keeps keystore settings to what Kibana's settings look like,
// which also keeps them safe as a word of a shell command.
var settingRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

func keystoreSetting(s setting) (string, error) {
	if !settingRE.MatchString(s.value) {
		return "", fmt.Errorf("%q is not a Kibana setting name (letters, digits, '.', '_', '-'), e.g. %s", safetext.Input(s.value), DefaultKeystoreSetting)
	}
	return s.value, nil
}

func secretPath(s setting) (string, error) {
	if !filepath.IsAbs(s.value) || strings.HasSuffix(s.value, "/") {
		return "", fmt.Errorf("%q is not an absolute file path", safetext.Input(s.value))
	}
	return filepath.Clean(s.value), nil
}

func envKey(s setting) (string, error) {
	if !envKeyRE.MatchString(s.value) {
		return "", fmt.Errorf("%q is not a variable name (letters, digits and '_', not starting with a digit)", safetext.Input(s.value))
	}
	return s.value, nil
}

func command(s setting) (string, error) {
	if strings.TrimSpace(s.value) == "" {
		return "", errors.New("is empty: give a shell command")
	}
	return s.value, nil
}

// parseSecretMode reads the mode of a file holding a secret: readable by
// its owner, and by nobody beyond owner and group.
func parseSecretMode(v string) (fs.FileMode, error) {
	m, err := parseMode(v)
	if err != nil {
		return 0, err
	}
	if m&0o007 != 0 {
		return 0, fmt.Errorf("mode %04o lets every user on the consumer's machine at the secret; use \"0600\" or \"0640\"", m)
	}
	return m, nil
}

// ConsumersOf are the consumers that use token, by same (e.g. equal names,
// or names of one rotation lineage).
func (inv *Inventory) ConsumersOf(token string, same func(a, b string) bool) []*Consumer {
	var out []*Consumer
	for _, c := range inv.Consumers {
		if same(c.Token, token) {
			out = append(out, c)
		}
	}
	return out
}

// AnsibleConsumerGroup holds the hosts of an Ansible inventory that are
// consumers rather than Elasticsearch nodes (directly or through children).
const AnsibleConsumerGroup = "es_service_tokens_consumers"

// ansibleConsumerPrefix starts the variables of a consumer's own settings
// (es_service_tokens_consumer_token, ..._file, ...): distinct from the
// nodes' es_service_tokens_owner and friends, which group all often sets.
const ansibleConsumerPrefix = "es_service_tokens_consumer_"

// ansibleConsumer resolves a host of AnsibleConsumerGroup: its connection
// settings like a node's, its own from es_service_tokens_consumer_*.
func (r *resolver) ansibleConsumer(h ansible.Host, layers []layer, sc *sshconfig.Config) (*Consumer, error) {
	own := layer{}
	for _, k := range consumerKeys {
		v, ok := h.Vars[ansibleConsumerPrefix+k]
		if !ok {
			continue
		}
		if err := plainVar(h, ansibleConsumerPrefix+k, v); err != nil {
			return nil, err
		}
		own[k] = setting{value: v.Value, origin: fmt.Sprintf("%s:%d (%s)", v.File, v.Line, v.Source), file: v.File, line: v.Line}
	}
	connection := []layer{own}
	for _, l := range layers {
		connection = append(connection, onlyKeys(l, connectionKeys))
	}
	return r.consumer(h.Name, connection, sc)
}

// isConsumer reports whether an Ansible host is a consumer.
func isConsumer(h ansible.Host) bool { return contains(h.Groups, AnsibleConsumerGroup) }
