// Package esconfig finds the service_tokens file and the hashing setting
// the way Elasticsearch's own CLI does, from flags, environment variables
// and elasticsearch.yml.
package esconfig

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/es-service-tokens/es-service-tokens/internal/remedy"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// FileName is the name of the token file in the config directory.
const FileName = "service_tokens"

// Sources are the places the file's location may come from, most specific
// first. Env reads environment variables (os.Getenv in production).
type Sources struct {
	File      string // the file given (remedy.File)
	PathConf  string // the config directory given (remedy.PathConf)
	ESHome    string // the Elasticsearch home given (remedy.ESHome)
	Inventory string // local_file of the inventory, already absolute
	Env       func(string) string
}

// Location is where the token file is and why.
type Location struct {
	File      string
	ConfigDir string         // where elasticsearch.yml is looked for
	From      remedy.Message // the option, inventory key or variable that decided
}

// ErrNoLocation means none of the sources named a file.
var ErrNoLocation = remedy.Errorf(remedy.File, "no service_tokens file: give %v PATH, %v DIR (or set ES_PATH_CONF), or %v DIR (or set ES_HOME)",
	remedy.File, remedy.PathConf, remedy.ESHome)

// Locate picks the token file: the file, config directory or home given,
// the inventory's local_file, then ES_PATH_CONF and ES_HOME as Elasticsearch
// reads them.
func Locate(s Sources) (Location, error) {
	env := s.Env
	if env == nil {
		env = os.Getenv
	}
	inDir := func(dir string, from remedy.Message) Location {
		return Location{File: filepath.Join(dir, FileName), ConfigDir: dir, From: from}
	}
	switch {
	case s.File != "":
		return Location{File: s.File, ConfigDir: filepath.Dir(s.File), From: remedy.Sprintf("%v", remedy.File)}, nil
	case s.PathConf != "":
		return inDir(s.PathConf, remedy.Sprintf("%v", remedy.PathConf)), nil
	case s.ESHome != "":
		return inDir(filepath.Join(s.ESHome, "config"), remedy.Sprintf("%v", remedy.ESHome)), nil
	case s.Inventory != "":
		return Location{File: s.Inventory, ConfigDir: filepath.Dir(s.Inventory), From: remedy.Text("inventory local_file")}, nil
	case env("ES_PATH_CONF") != "":
		return inDir(env("ES_PATH_CONF"), remedy.Text("ES_PATH_CONF")), nil
	case env("ES_HOME") != "":
		return inDir(filepath.Join(env("ES_HOME"), "config"), remedy.Text("ES_HOME")), nil
	}
	return Location{}, ErrNoLocation
}

// UsageError is a bad -E option; Elasticsearch exits 64 for these.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// ConfigError is a bad setting or an unreadable elasticsearch.yml; the
// tool exits 78 for these where Elasticsearch prints a stack trace.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

// Settings are the node settings Elasticsearch's CLI reads before any
// command runs (EnvironmentAwareCommand): the -E options, then
// elasticsearch.yml in the config directory. Every command loads them, so
// a bad option or an unparsable file stops list and delete as it stops
// create, before the token file is read.
type Settings struct {
	overrides map[string]string
	yml       string                // elasticsearch.yml's path
	file      map[string]*yaml.Node // its settings, flattened; nil when absent
}

// LoadSettings checks the -E options (key=value each) as Elasticsearch 8.x
// does (a *UsageError), then reads and flattens configDir/elasticsearch.yml
// if it exists (a *ConfigError when it cannot be read or parsed).
func LoadSettings(configDir string, opts []string) (*Settings, error) {
	overrides, err := parseOverrides(opts)
	if err != nil {
		return nil, err
	}
	s := &Settings{overrides: overrides, yml: filepath.Join(configDir, "elasticsearch.yml")}
	if s.file, err = readYAML(s.yml); err != nil {
		return nil, err
	}
	return s, nil
}

// parseOverrides reads -E key=value options with Elasticsearch's checks
// and words. A missing name is refused too: Elasticsearch would carry a
// setting named "" along silently.
func parseOverrides(opts []string) (map[string]string, error) {
	out := map[string]string{}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		if k == "" && v != "" {
			// The value is not echoed: it is all the option holds.
			return nil, &UsageError{"setting name missing in -E =...: write -E key=value"}
		}
		// Elasticsearch's words; the key is bounded (a pasted blob stays
		// one short line).
		if v == "" {
			return nil, &UsageError{fmt.Sprintf("setting [%s] must not be empty", safetext.Bounded(k))}
		}
		if _, ok := out[k]; ok {
			return nil, &UsageError{fmt.Sprintf("setting [%s] set twice via command line -E", safetext.Bounded(k))}
		}
		out[k] = v
	}
	return out, nil
}

// HashingAlgorithm resolves tokens.HashingSetting: from -E, else from
// elasticsearch.yml, else the default. It returns where the value came
// from, for messages.
func (s *Settings) HashingAlgorithm(env func(string) string) (tokens.Algorithm, string, error) {
	if env == nil {
		env = os.Getenv
	}
	value, found, from, err := s.lookup(tokens.HashingSetting)
	if err != nil || !found {
		return tokens.DefaultAlgorithm, "default", err
	}
	// "-E name" already names the setting; a file needs it after its path.
	where := from
	if !strings.HasPrefix(from, "-E ") {
		where = from + ": " + tokens.HashingSetting
	}
	value, err = replacePlaceholders(value, env)
	if err != nil {
		return tokens.Algorithm{}, "", &ConfigError{fmt.Sprintf("%s: %v", where, err)}
	}
	alg, err := tokens.ParseAlgorithm(value)
	if err != nil {
		return tokens.Algorithm{}, "", &ConfigError{fmt.Sprintf("%s: %v", where, err)}
	}
	return alg, from, nil
}

// lookup finds a setting's value and where it came from: -E wins over
// elasticsearch.yml, as in Elasticsearch.
func (s *Settings) lookup(key string) (value string, found bool, from string, err error) {
	if v, ok := s.overrides[key]; ok {
		return v, true, "-E " + key, nil
	}
	n, ok := s.file[key]
	if !ok || n.Tag == "!!null" {
		return "", false, "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", false, "", &ConfigError{fmt.Sprintf("%s:%d: %s must be a single value", s.yml, n.Line, key)}
	}
	return n.Value, true, s.yml, nil
}

// readYAML reads elasticsearch.yml flattened ("a.b.c: v", nested, or
// mixed, as Elasticsearch flattens YAML); a missing file has no settings.
func readYAML(path string) (map[string]*yaml.Node, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &ConfigError{fmt.Sprintf("cannot read %s: %v", path, err)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &ConfigError{fmt.Sprintf("%s: %v", path, err)}
	}
	flat := map[string]*yaml.Node{}
	if len(doc.Content) == 0 || doc.Content[0].Tag == "!!null" {
		return flat, nil // empty, or comments only
	}
	if root := doc.Content[0]; root.Kind != yaml.MappingNode {
		return nil, &ConfigError{fmt.Sprintf("%s:%d: not a map of settings (write key: value lines)", path, root.Line)}
	}
	if err := flatten("", doc.Content[0], flat); err != nil {
		return nil, &ConfigError{fmt.Sprintf("%s: %v", path, err)}
	}
	return flat, nil
}

func flatten(prefix string, n *yaml.Node, out map[string]*yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		if prefix != "" {
			out[prefix] = n
		}
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if prefix != "" {
			k = prefix + "." + k
		}
		v := n.Content[i+1]
		if v.Kind == yaml.MappingNode {
			if err := flatten(k, v, out); err != nil {
				return err
			}
			continue
		}
		if prev, dup := out[k]; dup {
			return fmt.Errorf("line %d: duplicate settings key [%s], first set on line %d", n.Content[i].Line, safetext.Input(k), prev.Line)
		}
		out[k] = v
	}
	return nil
}

// replacePlaceholders expands ${VAR} and ${VAR:default} from the
// environment, as Elasticsearch does for elasticsearch.yml and -E values.
func replacePlaceholders(v string, env func(string) string) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(v, "${")
		if i < 0 {
			b.WriteString(v)
			return b.String(), nil
		}
		j := strings.IndexByte(v[i:], '}')
		if j < 0 {
			b.WriteString(v)
			return b.String(), nil
		}
		b.WriteString(v[:i])
		name, def, hasDef := strings.Cut(v[i+2:i+j], ":")
		val := env(name)
		if val == "" {
			if !hasDef {
				return "", fmt.Errorf("could not resolve placeholder '%s'", safetext.Input(name))
			}
			val = def
		}
		b.WriteString(val)
		v = v[i+j+1:]
	}
}
