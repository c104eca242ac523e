package inventory

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// localInfo is what ssh's tokens say about this machine and user.
type localInfo struct {
	user string // %u: the local user name
	home string // %d
	uid  string // %i
	host string // %l; %L is its first label
}

func currentLocal(opts Options) localInfo {
	h, _ := os.Hostname()
	return localInfo{user: opts.User, home: opts.Home, uid: strconv.Itoa(os.Getuid()), host: h}
}

// tokens expands ssh_config's %-tokens for one endpoint. It points at the
// endpoint being resolved: like ssh, paths are expanded with the final
// HostName, port and remote user, which are resolved before them.
type tokens struct {
	ep     *Endpoint
	jump   string // %j: the ProxyJump as written
	local  localInfo
	getenv func(string) string
}

// fileTokens are the tokens ssh_config(5) defines for IdentityFile and
// UserKnownHostsFile.
const fileTokens = "CdhijkLlnpru"

// expandPath expands ~, the file tokens and, with env (ssh's syntax),
// ${VAR} environment references.
func expandPath(p string, tk *tokens, env bool) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		p = tk.local.home + p[1:]
	}
	if env && strings.Contains(p, "${") {
		var err error
		if p, err = expandEnv(p, tk.getenv); err != nil {
			return "", err
		}
	}
	return expandTokens(p, tk, fileTokens), nil
}

// expandTokens expands the %-tokens of ssh_config(5) that allowed lists
// (%% always). An unknown token is kept as written, as this tool always did
// for inventory paths; ssh would refuse the file.
//
// Hand-written because ssh's token language exists in no Go library.
func expandTokens(s string, tk *tokens, allowed string) string {
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
		c := s[i]
		if c == '%' {
			b.WriteByte('%')
			continue
		}
		v, ok := tk.value(c)
		if !ok || !strings.ContainsRune(allowed, rune(c)) {
			b.WriteByte('%')
			b.WriteByte(c)
			continue
		}
		b.WriteString(v)
	}
	return b.String()
}

// unknownToken returns the first %-token of s that is not %% and not in
// allowed: ssh refuses such a value rather than run it.
func unknownToken(s, allowed string) (byte, bool) {
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		i++
		if s[i] != '%' && !strings.ContainsRune(allowed, rune(s[i])) {
			return s[i], true
		}
	}
	return 0, false
}

// value is one token's value, as ssh(1) defines it.
func (tk *tokens) value(c byte) (string, bool) {
	ep := tk.ep
	switch c {
	case 'd':
		return tk.local.home, true
	case 'h':
		return ep.Host, true // the HostName, once resolved
	case 'n', 'k':
		return ep.Alias, true // the name given; %k is it too without HostKeyAlias
	case 'p':
		return strconv.Itoa(ep.Port), true
	case 'r':
		return ep.User, true
	case 'u':
		return tk.local.user, true
	case 'i':
		return tk.local.uid, true
	case 'l':
		return tk.local.host, true
	case 'L':
		short, _, _ := strings.Cut(tk.local.host, ".")
		return short, true
	case 'j':
		return tk.jump, true
	case 'C':
		// OpenSSH 9.2's connection hash: SHA-1 of %l%h%p%r.
		sum := sha1.Sum([]byte(tk.local.host + ep.Host + strconv.Itoa(ep.Port) + ep.User))
		return hex.EncodeToString(sum[:]), true
	}
	return "", false
}

// expandEnv replaces ${NAME} as ssh does in paths; an unset variable is an
// error there too.
func expandEnv(s string, getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("%q: unterminated ${", safetext.Input(s))
		}
		name := s[i+2 : i+j]
		v := getenv(name)
		if v == "" {
			return "", fmt.Errorf("%q: environment variable %s is not set", safetext.Input(s), safetext.Input(name))
		}
		b.WriteString(s[:i])
		b.WriteString(v)
		s = s[i+j+1:]
	}
}
