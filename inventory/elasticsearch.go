package inventory

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory/ansible"
)

// Elasticsearch is the inventory's optional elasticsearch: section: where
// the cluster's REST API is and how to log in to it, to confirm that every
// node loaded a pushed file. Secrets are never held here, only the files
// that hold them; files are absolute.
type Elasticsearch struct {
	URLs           []string
	CA             string // PEM file
	CAFingerprint  string // SHA-256 hex, as Elasticsearch prints at first start
	APIKeyFile     string
	Username       string
	PasswordFile   string
	ConfirmTimeout time.Duration // 0: not set
	// NodeURL is the template of every node's own REST address, such as
	// https://{host}:9200 ({host}: the address SSH dials, {name}: the
	// inventory name), "" when not set; a node's es_http_url wins.
	NodeURL string
	// NodeURLOrigin says where node_url was written (file:line).
	NodeURLOrigin string
	// Origin says where the section was written (file:line).
	Origin string
}

// esKeys are the keys of the elasticsearch: section.
var esKeys = []string{"url", "ca", "ca_fingerprint", "api_key_file", "username", "password_file", "confirm_timeout", "node_url"}

// loadElasticsearch reads the native elasticsearch: mapping.
func (r *resolver) loadElasticsearch(path string, m *yaml.Node) (*Elasticsearch, error) {
	if m.Kind != yaml.MappingNode {
		return nil, &Error{File: path, Line: m.Line, Key: "elasticsearch", Msg: "must be a mapping with url: and credentials"}
	}
	raw := map[string]esValue{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		known := false
		for _, e := range esKeys {
			known = known || e == k.Value
		}
		if !known {
			return nil, &Error{File: path, Line: k.Line, Key: "elasticsearch." + k.Value, Msg: "unknown key; valid keys: " + strings.Join(esKeys, ", ")}
		}
		ev := esValue{file: path, line: v.Line, key: "elasticsearch." + k.Value}
		switch {
		case k.Value == "url" && v.Kind == yaml.SequenceNode:
			for _, u := range v.Content {
				ev.list = append(ev.list, u.Value)
			}
		case v.Kind != yaml.ScalarNode || v.Tag == "!!null":
			return nil, &Error{File: path, Line: v.Line, Key: ev.key, Msg: "must be a single value"}
		default:
			ev.list = []string{v.Value}
		}
		raw[k.Value] = ev
	}
	return r.elasticsearch(raw, fmt.Sprintf("%s:%d", path, m.Line))
}

// esValue is one raw elasticsearch setting and where it was written.
type esValue struct {
	list      []string
	file, key string
	line      int
}

func (v esValue) one() string { return v.list[0] }

// fail is an inventory error at where the setting was written.
func (v esValue) fail(format string, a ...any) error {
	return &Error{File: v.file, Line: v.line, Key: v.key, Msg: fmt.Sprintf(format, a...)}
}

// elasticsearch validates the raw settings, whichever format gave them.
func (r *resolver) elasticsearch(raw map[string]esValue, origin string) (*Elasticsearch, error) {
	es := &Elasticsearch{Origin: origin}
	var err error
	if es.URLs, err = r.esURLs(raw); err != nil {
		return nil, err
	}
	if es.CA, es.CAFingerprint, err = r.esTrust(raw); err != nil {
		return nil, err
	}
	if err := r.esLogin(raw, es); err != nil {
		return nil, err
	}
	if v, ok := raw["confirm_timeout"]; ok {
		d, err := parseDuration(v.one())
		if err != nil {
			return nil, v.fail("%v", err)
		}
		es.ConfirmTimeout = d
	}
	if v, ok := raw["node_url"]; ok {
		if err := checkNodeURLTemplate(v.one()); err != nil {
			return nil, v.fail("%v", err)
		}
		es.NodeURL, es.NodeURLOrigin = v.one(), v.file
		if v.line > 0 {
			es.NodeURLOrigin = fmt.Sprintf("%s:%d", v.file, v.line)
		}
	}
	return es, nil
}

// esURLs are the cluster's addresses: at least one, http or https, and
// without credentials (those come from files).
func (r *resolver) esURLs(raw map[string]esValue) ([]string, error) {
	u, ok := raw["url"]
	if !ok {
		return nil, &Error{File: r.file, Key: "elasticsearch.url", Msg: "missing: give the cluster's https:// address (or a list of them)"}
	}
	var urls []string
	for _, s := range u.list {
		p, err := url.Parse(s)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.User != nil {
			return nil, u.fail("%s is not an http(s)://host:port address without credentials (credentials come from api_key_file or username + password_file)", safetext.URL(s))
		}
		urls = append(urls, strings.TrimRight(s, "/"))
	}
	if len(urls) == 0 {
		return nil, u.fail("give at least one address")
	}
	return urls, nil
}

// esTrust is how the cluster's certificate is checked: a CA file or the
// CA's fingerprint, not both.
func (r *resolver) esTrust(raw map[string]esValue) (ca, fingerprint string, err error) {
	if ca, err = r.esPath(raw, "ca"); err != nil {
		return "", "", err
	}
	v, ok := raw["ca_fingerprint"]
	if !ok {
		return ca, "", nil
	}
	fp := strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(v.one()))
	if len(fp) != 64 || strings.Trim(fp, "0123456789abcdef") != "" {
		return "", "", v.fail("%q is not a SHA-256 fingerprint (64 hex digits, colons allowed)", safetext.Input(v.one()))
	}
	if ca != "" {
		return "", "", v.fail("give ca or ca_fingerprint, not both")
	}
	return ca, fp, nil
}

// esLogin reads the credentials' files: an API key, or a username with
// its password file, never both and never the secrets themselves.
func (r *resolver) esLogin(raw map[string]esValue, es *Elasticsearch) error {
	var err error
	if es.APIKeyFile, err = r.esPath(raw, "api_key_file"); err != nil {
		return err
	}
	if es.PasswordFile, err = r.esPath(raw, "password_file"); err != nil {
		return err
	}
	v, ok := raw["username"]
	if !ok {
		if v, ok := raw["password_file"]; ok {
			return v.fail("needs username")
		}
		return nil
	}
	es.Username = v.one()
	switch {
	case es.Username == "":
		return v.fail("must not be empty")
	case es.PasswordFile == "":
		return v.fail("needs password_file: the file holding the password (never the password itself)")
	case es.APIKeyFile != "":
		return v.fail("give api_key_file or username and password_file, not both")
	}
	return nil
}

// esPath reads a file setting: ~ is the user's home, and a relative path
// is relative to the inventory file. Empty when not set.
func (r *resolver) esPath(raw map[string]esValue, key string) (string, error) {
	v, ok := raw[key]
	if !ok {
		return "", nil
	}
	if v.one() == "" {
		return "", v.fail("must be a file path")
	}
	p := v.one()
	if p == "~" || strings.HasPrefix(p, "~/") {
		p = r.opts.Home + p[1:]
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(absPath(r.file)), p)
	}
	return p, nil
}

// ansibleESVars map es_service_tokens_es_* variables to the
// elasticsearch: keys. They are cluster-wide, so they are usually set in
// group all's vars; every host must agree on them.
var ansibleESVars = map[string]string{
	"es_service_tokens_es_url":            "url",
	"es_service_tokens_es_ca":             "ca",
	"es_service_tokens_es_ca_fingerprint": "ca_fingerprint",
	"es_service_tokens_es_api_key_file":   "api_key_file",
	"es_service_tokens_es_username":       "username",
	"es_service_tokens_es_password_file":  "password_file",
	"es_service_tokens_confirm_timeout":   "confirm_timeout",
	"es_service_tokens_es_node_url":       "node_url",
}

// ansibleElasticsearch gathers the elasticsearch settings from the hosts'
// variables; nil when none is set. Every host must have the same value.
func (r *resolver) ansibleElasticsearch(hosts []ansible.Host) (*Elasticsearch, error) {
	raw := map[string]esValue{}
	for name, key := range ansibleESVars {
		var firstHost string
		for i, h := range hosts {
			v, ok := h.Vars[name]
			if !ok {
				if i > 0 && firstHost != "" {
					return nil, &Error{File: r.file, Key: name, Msg: fmt.Sprintf("set for host %s but not for host %s: the Elasticsearch settings are cluster-wide (set them in all's vars)", firstHost, h.Name)}
				}
				continue
			}
			if i > 0 && firstHost == "" {
				return nil, &Error{File: v.File, Line: v.Line, Key: name, Msg: fmt.Sprintf("set for host %s but not for host %s: the Elasticsearch settings are cluster-wide (set them in all's vars)", h.Name, hosts[0].Name)}
			}
			if err := stillEncrypted(name, v); err != nil {
				return nil, err
			}
			if strings.Contains(v.Value, "{{") {
				return nil, &Error{File: v.File, Line: v.Line, Key: name, Msg: "templates are not evaluated; give a plain value"}
			}
			ev := esValue{file: v.File, line: v.Line, key: name}
			if v.Node != nil && v.Node.Kind == yaml.SequenceNode {
				for _, c := range v.Node.Content {
					ev.list = append(ev.list, c.Value)
				}
			} else {
				ev.list = []string{v.Value}
			}
			if firstHost == "" {
				firstHost, raw[key] = h.Name, ev
			} else if strings.Join(raw[key].list, ",") != strings.Join(ev.list, ",") {
				return nil, &Error{File: v.File, Line: v.Line, Key: name, Msg: fmt.Sprintf("host %s has a different value than host %s: the Elasticsearch settings are cluster-wide", h.Name, firstHost)}
			}
		}
	}
	if len(raw) == 0 {
		return nil, nil
	}
	return r.elasticsearch(raw, r.file)
}
