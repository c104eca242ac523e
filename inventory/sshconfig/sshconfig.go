// Package sshconfig reads an OpenSSH client configuration (ssh_config(5),
// usually ~/.ssh/config) and answers "which value applies to this host alias"
// the way ssh(1) from OpenSSH 9.x would, for the handful of options this tool
// acts on: HostName, User, Port, IdentityFile, CertificateFile,
// IdentitiesOnly, ProxyJump, ProxyCommand, UserKnownHostsFile,
// GlobalKnownHostsFile, StrictHostKeyChecking, ConnectTimeout,
// ServerAliveInterval and ServerAliveCountMax.
//
// Host blocks, negated and wildcard patterns, first-obtained-value-wins and
// Include (globs, ~, paths relative to ~/.ssh, nesting inside Host blocks) are
// implemented because getting any of them wrong silently sends a file to the
// wrong machine or as the wrong user.
//
// Deliberately not implemented:
//   - Match is never evaluated. Its criteria (exec, localuser, canonical,
//     final, ...) depend on state this package does not have, so options in a
//     Match block are applied to nothing and are reported by [Config.Ignored]
//     instead of being guessed at.
//   - No %-token, environment variable or ~ expansion of option values; values
//     are returned as written (minus quoting) for the caller to expand.
//     Include paths get ~ expansion only, not the %-tokens recent ssh allows.
//   - Port must be a number and ConnectTimeout a whole number of seconds.
//     ssh also accepts service names ("Port ssh"), time units ("10s") and
//     "none"; those are refused with a line number rather than guessed at.
//     ServerAliveInterval takes ssh's time format (30, 30s, 1m30s).
//   - No system-wide /etc/ssh/ssh_config, no command-line -o options, no
//     CanonicalizeHostname, no ownership/permission checks on the files.
//   - Options other than the fourteen above are not interpreted; those that
//     apply to a host are reported by [Config.Ignored].
package sshconfig

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
)

// maxIncludeDepth mirrors READCONF_MAX_DEPTH in OpenSSH's readconf.c: a file
// nested deeper than this is refused by ssh, so it is refused here too.
const maxIncludeDepth = 16

// Value is one option value and where it was written.
//
// For single-valued options (everything supported except UserKnownHostsFile)
// Value is the single argument with its quotes removed, so
// `IdentityFile "/path with space/id"` yields `/path with space/id`.
// ProxyCommand is the rest of the line as written, quotes and all, since ssh
// hands it to a shell as it is. For
// UserKnownHostsFile, which holds a list, and for the entries reported by
// [Config.Ignored], the arguments are joined by single spaces; an argument
// that itself contains whitespace or quotes is kept double-quoted so that the
// list stays unambiguous. [Value.Fields] splits such a list back.
type Value struct {
	Key   string // canonical option name as in ssh_config(5), e.g. "HostName", "IdentityFile"
	Value string // raw value, quotes removed, no %-token or ~ expansion
	File  string
	Line  int
}

// Fields splits a list value such as UserKnownHostsFile into its arguments,
// honouring the quoting described on [Value]. It is meant for list-valued
// options; a single-valued option's Value should be used as is.
func (v Value) Fields() []string {
	words, err := splitArgs(v.Value, false)
	if err != nil {
		// Values built by this package are always well quoted; a
		// hand-made one with a stray quote is best returned whole.
		return []string{v.Value}
	}
	return words
}

// Error is a configuration problem that ssh itself would refuse to run with,
// located at the line that caused it.
type Error struct {
	File string
	Line int
	Msg  string
	Err  error // underlying I/O error, if any
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

func (e *Error) Unwrap() error { return e.Err }

// Config is a parsed configuration. It is immutable after Load/Parse and safe
// for concurrent use.
type Config struct {
	entries []entry
}

// entry is one option line in the order ssh would read it, with includes
// already inlined.
type entry struct {
	Value
	// when lists every Host block that must match for the line to apply:
	// the block the line sits in plus, for included files, the blocks that
	// were active at each Include. OpenSSH reads a file included from an
	// inactive block with SSHCONF_NEVERMATCH, which makes all of its Host
	// blocks inactive too, so the conditions nest with AND.
	when []*hostBlock
	// inMatch marks lines in a Match block (and the Match line itself):
	// never applied, always reported.
	inMatch bool
}

type hostBlock struct {
	patterns []hostPattern
}

type hostPattern struct {
	// glob is matched case-sensitively, as OpenSSH's match_pattern does
	// ("Host ES-1" does not apply to es-1; ssh -G agrees).
	glob    string
	negated bool
}

// matches follows OpenSSH's Host semantics: one matching negated pattern
// vetoes the block even if a positive pattern also matched, and a block with
// only negated patterns never applies.
func (b *hostBlock) matches(host string) bool {
	matched := false
	for _, p := range b.patterns {
		if !MatchPattern(p.glob, host) {
			continue
		}
		if p.negated {
			return false
		}
		matched = true
	}
	return matched
}

func applies(when []*hostBlock, host string) bool {
	for _, b := range when {
		if !b.matches(host) {
			return false
		}
	}
	return true
}

// Load parses the file at path and every file it Includes. A missing file at
// path is not an error: it returns an empty Config. home is the user's home
// directory (for ~ in Include and for relative Include paths, which OpenSSH
// resolves against ~/.ssh for user configs).
func Load(path, home string) (*Config, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sshconfig: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("sshconfig: %w", err)
	}
	p := &parser{home: home, cfg: &Config{}}
	if err := p.parse(f, path, info, nil, 0); err != nil {
		return nil, err
	}
	return p.cfg, nil
}

// Parse parses config text; name is used in Values and errors. Include
// directives are resolved relative to home/.ssh as above.
func Parse(r io.Reader, name, home string) (*Config, error) {
	p := &parser{home: home, cfg: &Config{}}
	if err := p.parse(r, name, nil, nil, 0); err != nil {
		return nil, err
	}
	return p.cfg, nil
}

// Get returns the first value of key that applies to host alias host (first
// obtained value wins, as in OpenSSH). key is case-insensitive. Only the
// supported options are answered; anything else is reported by Ignored.
//
// For UserKnownHostsFile this is also what ssh uses: the first applicable
// line supplies the whole list and later lines are not added to it.
func (c *Config) Get(host, key string) (Value, bool) {
	key = canonicalKey(key)
	if c == nil || !supported(key) {
		return Value{}, false
	}
	for _, e := range c.entries {
		if e.inMatch || (e.Key != key && !(proxyOption(key) && proxyOption(e.Key))) || !applies(e.when, host) {
			continue
		}
		// ssh takes whichever of ProxyJump and ProxyCommand it reads
		// first and ignores the other (readconf.c).
		return e.Value, e.Key == key
	}
	return Value{}, false
}

// proxyOption reports the two options of which ssh uses only the first set.
func proxyOption(key string) bool { return key == "ProxyJump" || key == "ProxyCommand" }

// GetAll returns every applicable value of key, in order, as ssh would use
// them. IdentityFile and CertificateFile accumulate across blocks, with
// repeats of the same path dropped as ssh does. Every other option, UserKnownHostsFile included, takes
// its value from the first applicable line only (OpenSSH's readconf.c fills
// the known-hosts list only while it is still empty), so for those GetAll
// returns at most one Value, the one Get returns; a UserKnownHostsFile value
// may hold several files, see [Value.Fields].
func (c *Config) GetAll(host, key string) []Value {
	key = canonicalKey(key)
	if key != "IdentityFile" && key != "CertificateFile" {
		if v, ok := c.Get(host, key); ok {
			return []Value{v}
		}
		return nil
	}
	if c == nil {
		return nil
	}
	var out []Value
	for _, e := range c.entries {
		if e.inMatch || e.Key != key || !applies(e.when, host) {
			continue
		}
		if slices.ContainsFunc(out, func(v Value) bool { return v.Value == e.Value.Value }) {
			continue
		}
		out = append(out, e.Value)
	}
	return out
}

// Ignored returns, for host, the options that apply to it but that this
// package does not support, and every Match block (Match is never evaluated:
// the Match line and every line inside the block are reported here, each
// once, with file and line). Each unsupported option name appears once (its
// first occurrence). Match blocks in a file included from a Host block that
// does not apply to host are left out, because ssh could never activate them
// for that host.
func (c *Config) Ignored(host string) []Value {
	if c == nil {
		return nil
	}
	type pos struct {
		file string
		line int
	}
	seenName := map[string]bool{}
	seenLine := map[pos]bool{}
	var out []Value
	for _, e := range c.entries {
		if !applies(e.when, host) {
			continue
		}
		switch {
		case e.inMatch:
			// The same file may be included twice; its lines are
			// still one thing to fix.
			p := pos{e.File, e.Line}
			if seenLine[p] {
				continue
			}
			seenLine[p] = true
		case supported(e.Key):
			continue
		default:
			k := strings.ToLower(e.Key)
			if seenName[k] {
				continue
			}
			seenName[k] = true
		}
		out = append(out, e.Value)
	}
	return out
}

// parser carries the state of one Load/Parse call; nothing is shared
// between calls.
type parser struct {
	home  string
	cfg   *Config
	stack []openFile // files being read, outermost first, for cycle detection
}

type openFile struct {
	name string
	info fs.FileInfo // nil for a reader given to Parse
}

// parse reads one file. outer is the Host context active at the Include that
// brought it in (nil for the top file); it stays in force for every line of
// this file, and a Host line here narrows it rather than replacing it.
func (p *parser) parse(r io.Reader, name string, info fs.FileInfo, outer []*hostBlock, depth int) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("sshconfig: reading %s: %w", name, err)
	}
	p.stack = append(p.stack, openFile{name, info})
	defer func() { p.stack = p.stack[:len(p.stack)-1] }()

	f := &fileState{name: name, outer: outer, depth: depth, when: outer}
	for i, line := range strings.Split(string(data), "\n") {
		if err := p.parseLine(f, i+1, line); err != nil {
			return err
		}
	}
	return nil
}

// fileState is where parse is in one file: the Host blocks it sits in
// (outer, from the Include that read it) and the ones the lines read so
// far apply to.
type fileState struct {
	name    string
	outer   []*hostBlock
	depth   int // of Includes
	when    []*hostBlock
	inMatch bool // after a Match: nothing applies until the next Host
}

// parseLine reads one line: a Host or Match that starts a block, an
// Include, or an option recorded for the blocks it is in.
func (p *parser) parseLine(f *fileState, lineNo int, line string) error {
	errorf := func(format string, args ...any) error {
		return &Error{File: f.name, Line: lineNo, Msg: fmt.Sprintf(format, args...)}
	}
	keyword, args, raw, err := splitLine(line)
	if err != nil {
		return errorf("%v", err)
	}
	if keyword == "" {
		return nil
	}
	key := canonicalKey(keyword)
	val := Value{Key: key, Value: joinArgs(args), File: f.name, Line: lineNo}
	if key == "ProxyCommand" {
		val.Value = raw
	}
	switch key {
	case "Host":
		b, err := parseHost(args)
		if err != nil {
			return errorf("%v", err)
		}
		f.when, f.inMatch = slices.Concat(f.outer, []*hostBlock{b}), false
		return nil
	case "Match":
		// A Match block's criteria are only known to ssh at run time;
		// it applies to nothing here, and anything that follows it up
		// to the next Host/Match is reported, not applied.
		f.when, f.inMatch = f.outer, true
		p.cfg.entries = append(p.cfg.entries, entry{Value: val, when: f.when, inMatch: true})
		return nil
	case "Include":
		if slices.Contains(args, "") {
			return errorf("Include has an empty argument")
		}
		if f.inMatch {
			// Whether ssh would read the file depends on the Match, so it
			// is neither read nor applied.
			p.cfg.entries = append(p.cfg.entries, entry{Value: val, when: f.when, inMatch: true})
			return nil
		}
		for _, arg := range args {
			if err := p.include(arg, f.name, lineNo, f.when, f.depth); err != nil {
				return err
			}
		}
		return nil
	}
	if supported(key) {
		v, err := checkOption(key, args, raw)
		if err != nil {
			return errorf("%v", err)
		}
		val.Value = v
	}
	p.cfg.entries = append(p.cfg.entries, entry{Value: val, when: f.when, inMatch: f.inMatch})
	return nil
}

// include reads every file arg names, in lexical order, as if its lines stood
// at the Include line, under the Host context when.
func (p *parser) include(arg, from string, line int, when []*hostBlock, depth int) error {
	errorf := func(err error, format string, args ...any) error {
		return &Error{File: from, Line: line, Msg: fmt.Sprintf(format, args...), Err: err}
	}
	pattern, err := p.includePath(arg)
	if err != nil {
		return errorf(err, "Include %s: %v", arg, err)
	}
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return errorf(err, "Include %s: %v", arg, err)
	}
	// ssh uses glob(3), whose wildcards never match a leading dot; editor
	// swap and backup files in a config.d/ must not be read as config.
	matches = slices.DeleteFunc(matches, func(m string) bool { return hiddenByGlob(pattern, m) })
	slices.Sort(matches)

	for _, path := range matches {
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // e.g. a dangling symlink: ssh skips it too
		}
		if err != nil {
			return errorf(err, "cannot read included file %s: %v", path, err)
		}
		err = p.includeFile(f, path, from, line, when, depth)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) includeFile(f *os.File, path, from string, line int, when []*hostBlock, depth int) error {
	errorf := func(err error, format string, args ...any) error {
		return &Error{File: from, Line: line, Msg: fmt.Sprintf(format, args...), Err: err}
	}
	info, err := f.Stat()
	if err != nil {
		return errorf(err, "cannot read included file %s: %v", path, err)
	}
	if info.IsDir() {
		// A glob such as config.d/* may match a subdirectory; ssh reads
		// it as an empty file.
		return nil
	}
	for _, o := range p.stack {
		if o.info != nil && os.SameFile(o.info, info) {
			chain := make([]string, 0, len(p.stack)+1)
			for _, o := range p.stack {
				chain = append(chain, o.name)
			}
			chain = append(chain, path)
			return errorf(nil, "include cycle: %s", strings.Join(chain, " -> "))
		}
	}
	if depth+1 > maxIncludeDepth {
		return errorf(nil, "Include nested more than %d levels deep at %s", maxIncludeDepth, path)
	}
	if err := p.parse(f, path, info, when, depth+1); err != nil {
		var perr *Error
		if !errors.As(err, &perr) {
			return errorf(err, "cannot read included file %s: %v", path, err)
		}
		return err
	}
	return nil
}

// includePath anchors an Include argument the way OpenSSH does for a user
// configuration: ~ is the home directory and a relative path lives in ~/.ssh.
func (p *parser) includePath(arg string) (string, error) {
	if filepath.IsAbs(arg) {
		return arg, nil
	}
	if rest, ok := strings.CutPrefix(arg, "~"); ok {
		name, tail, _ := strings.Cut(rest, "/")
		if name == "" {
			if p.home == "" {
				return "", errors.New("no home directory to expand ~ in")
			}
			return filepath.Join(p.home, tail), nil
		}
		u, err := user.Lookup(name)
		if err != nil {
			return "", err
		}
		return filepath.Join(u.HomeDir, tail), nil
	}
	if p.home == "" {
		return "", errors.New("relative path but no home directory to resolve it in")
	}
	return filepath.Join(p.home, ".ssh", arg), nil
}

// hiddenByGlob reports whether glob(3) would have left out match because a
// wildcard component of pattern matched a name starting with a dot.
func hiddenByGlob(pattern, match string) bool {
	pp := strings.Split(filepath.ToSlash(pattern), "/")
	mp := strings.Split(filepath.ToSlash(match), "/")
	if len(pp) != len(mp) {
		return false
	}
	for i := range pp {
		if strings.HasPrefix(mp[i], ".") && !strings.HasPrefix(pp[i], ".") && strings.ContainsAny(pp[i], `*?[\`) {
			return true
		}
	}
	return false
}

func parseHost(args []string) (*hostBlock, error) {
	if len(args) == 0 {
		return nil, errors.New("a Host line needs at least one pattern")
	}
	b := &hostBlock{}
	for _, a := range args {
		if a == "" {
			return nil, errors.New("a Host line has an empty pattern")
		}
		neg := strings.HasPrefix(a, "!")
		b.patterns = append(b.patterns, hostPattern{glob: strings.TrimPrefix(a, "!"), negated: neg})
	}
	return b, nil
}

// checkOption validates a supported option the way ssh would at parse time
// (regardless of whether the block applies, since ssh refuses the whole file)
// and returns the value to store. raw is the line after the keyword.
func checkOption(key string, args []string, raw string) (string, error) {
	if len(args) == 0 || args[0] == "" {
		return "", fmt.Errorf("%s: missing argument", key)
	}
	if key == "ProxyCommand" {
		// A shell command line: ssh passes it on as written.
		return raw, nil
	}
	if key == "UserKnownHostsFile" || key == "GlobalKnownHostsFile" {
		for _, a := range args {
			if a == "" {
				return "", fmt.Errorf("%s: empty argument", key)
			}
			if strings.EqualFold(a, "none") && len(args) > 1 {
				return "", fmt.Errorf(`%s: "none" must appear alone`, key)
			}
		}
		return joinArgs(args), nil
	}
	if len(args) > 1 {
		// OpenSSH 9.x rejects this too ("extra arguments at end of
		// line"); accepting it would quietly drop part of what the user
		// wrote.
		return "", fmt.Errorf("%s: extra arguments after %q", key, safetext.Input(args[0]))
	}
	v := args[0]
	switch key {
	case "Port":
		n, err := strconv.Atoi(v)
		if err != nil || !allDigits(v) || n < 1 || n > 65535 {
			return "", fmt.Errorf("bad Port %q: must be a number from 1 to 65535", safetext.Input(v))
		}
	case "ConnectTimeout":
		if _, err := strconv.ParseInt(v, 10, 32); err != nil || !allDigits(v) {
			return "", fmt.Errorf("bad ConnectTimeout %q: must be a whole number of seconds", safetext.Input(v))
		}
	case "ServerAliveInterval":
		if _, err := ParseTime(v); err != nil {
			return "", fmt.Errorf("bad ServerAliveInterval %q: %v", safetext.Input(v), err)
		}
	case "ServerAliveCountMax":
		if _, err := strconv.ParseInt(v, 10, 32); err != nil || !allDigits(v) {
			return "", fmt.Errorf("bad ServerAliveCountMax %q: must be a whole number", safetext.Input(v))
		}
	}
	return v, nil
}

// ParseTime reads ssh_config's time format (sshd_config(5) TIME FORMATS,
// convtime in OpenSSH's misc.c): a number of seconds, or numbers each
// followed by s, m, h, d or w, as in 1m30s.
func ParseTime(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("empty time")
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, errors.New("must be seconds or a time such as 30s, 5m, 1h")
		}
		n, err := strconv.ParseInt(s[:i], 10, 32)
		if err != nil {
			return 0, errors.New("number out of range")
		}
		unit := time.Second
		if i < len(s) {
			switch s[i] {
			case 's', 'S':
			case 'm', 'M':
				unit = time.Minute
			case 'h', 'H':
				unit = time.Hour
			case 'd', 'D':
				unit = 24 * time.Hour
			case 'w', 'W':
				unit = 7 * 24 * time.Hour
			default:
				return 0, errors.New("must be seconds or a time such as 30s, 5m, 1h")
			}
			i++
		}
		total += time.Duration(n) * unit
		s = s[i:]
	}
	return total, nil
}

// ParseOption reads one option as given to ssh -o ("Key=Value" or "Key
// Value"), validated like a config line. Supported reports whether this
// package interprets the option; an unsupported one is returned with its
// canonical name, for the caller to report.
func ParseOption(opt string) (v Value, supportedOption bool, err error) {
	keyword, args, raw, err := splitLine(opt)
	if err != nil {
		return Value{}, false, err
	}
	if keyword == "" {
		return Value{}, false, errors.New("empty option")
	}
	key := canonicalKey(keyword)
	switch key {
	case "Host", "Match", "Include":
		return Value{Key: key, Value: joinArgs(args)}, false, nil
	}
	if !supported(key) {
		return Value{Key: key, Value: joinArgs(args)}, false, nil
	}
	val, err := checkOption(key, args, raw)
	if err != nil {
		return Value{}, true, err
	}
	return Value{Key: key, Value: val}, true, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func supported(key string) bool {
	switch key {
	case "HostName", "User", "Port", "IdentityFile", "CertificateFile", "IdentitiesOnly", "ProxyJump",
		"ProxyCommand", "UserKnownHostsFile", "GlobalKnownHostsFile", "StrictHostKeyChecking", "ConnectTimeout",
		"ServerAliveInterval", "ServerAliveCountMax":
		return true
	}
	return false
}

// keywords lists the ssh_config(5) keywords of OpenSSH 9.x so that options
// are reported under the spelling users will find in the manual, however they
// were written. HostName uses the spelling most configs use.
const keywords = "Host Match Include HostName User Port IdentityFile IdentitiesOnly " +
	"ProxyJump UserKnownHostsFile StrictHostKeyChecking ConnectTimeout " +
	"AddKeysToAgent AddressFamily BatchMode BindAddress BindInterface " +
	"CanonicalDomains CanonicalizeFallbackLocal CanonicalizeHostname " +
	"CanonicalizeMaxDots CanonicalizePermittedCNAMEs CASignatureAlgorithms " +
	"CertificateFile ChannelTimeout CheckHostIP Ciphers ClearAllForwardings " +
	"Compression ConnectionAttempts ControlMaster ControlPath ControlPersist " +
	"DynamicForward EnableEscapeCommandline EnableSSHKeysign EscapeChar " +
	"ExitOnForwardFailure FingerprintHash ForkAfterAuthentication ForwardAgent " +
	"ForwardX11 ForwardX11Timeout ForwardX11Trusted GatewayPorts " +
	"GlobalKnownHostsFile GSSAPIAuthentication GSSAPIDelegateCredentials " +
	"HashKnownHosts HostbasedAcceptedAlgorithms HostbasedAuthentication " +
	"HostKeyAlgorithms HostKeyAlias IdentityAgent IgnoreUnknown IPQoS " +
	"KbdInteractiveAuthentication KbdInteractiveDevices KexAlgorithms " +
	"KnownHostsCommand LocalCommand LocalForward LogLevel LogVerbose MACs " +
	"NoHostAuthenticationForLocalhost NumberOfPasswordPrompts " +
	"ObscureKeystrokeTiming PasswordAuthentication PermitLocalCommand " +
	"PermitRemoteOpen PKCS11Provider PreferredAuthentications ProxyCommand " +
	"ProxyUseFdpass PubkeyAcceptedAlgorithms PubkeyAuthentication " +
	"RefuseConnection RekeyLimit RemoteCommand RemoteForward RequestTTY " +
	"RequiredRSASize RevokedHostKeys SecurityKeyProvider SendEnv " +
	"ServerAliveCountMax ServerAliveInterval SessionType SetEnv StdinNull " +
	"StreamLocalBindMask StreamLocalBindUnlink SyslogFacility TCPKeepAlive Tag " +
	"Tunnel TunnelDevice UpdateHostKeys VerifyHostKeyDNS VersionAddendum " +
	"VisualHostKey WarnWeakCrypto XAuthLocation"

// canonicalKey maps a keyword to its ssh_config(5) spelling; an unknown
// keyword is returned as written, which is how the user will recognise it.
func canonicalKey(k string) string {
	for kw := range strings.FieldsSeq(keywords) {
		if strings.EqualFold(kw, k) {
			return kw
		}
	}
	return k
}

// splitLine splits a config line the way OpenSSH's readconf.c does: the
// keyword ends at whitespace or at one "=", and the rest is split into
// arguments with quotes and a trailing comment removed. raw is that rest as
// written (what ssh keeps for ProxyCommand). A blank or comment line yields
// an empty keyword.
func splitLine(line string) (keyword string, args []string, raw string, err error) {
	line = strings.TrimLeft(strings.TrimRight(line, " \t\r\n\f"), " \t")
	if line == "" || line[0] == '#' {
		return "", nil, "", nil
	}
	end := strings.IndexAny(line, " \t=")
	if end < 0 {
		return line, nil, "", fmt.Errorf("%s: missing argument", canonicalKey(line))
	}
	keyword, rest := line[:end], line[end:]
	// Accept "Key value", "Key=value" and "Key = value", but only one "=".
	rest = strings.TrimLeft(rest, " \t")
	if strings.HasPrefix(line[end:], "=") {
		rest = strings.TrimLeft(line[end+1:], " \t")
	} else if strings.HasPrefix(rest, "=") {
		rest = strings.TrimLeft(rest[1:], " \t")
	}
	args, err = splitArgs(rest, true)
	if err != nil {
		return keyword, nil, "", err
	}
	if len(args) == 0 {
		return keyword, nil, "", fmt.Errorf("%s: missing argument", canonicalKey(keyword))
	}
	return keyword, args, rest, nil
}

// splitArgs follows OpenSSH's argv_split: arguments are separated by spaces
// or tabs, single or double quotes group words and are removed, and a
// backslash escapes a quote, a backslash or (outside quotes) a space. With
// comments set, an unquoted "#" at the start of an argument ends the line.
func splitArgs(s string, comments bool) ([]string, error) {
	var args []string
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' {
			continue
		}
		if comments && s[i] == '#' {
			break
		}
		var b strings.Builder
		var quote byte
		for ; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\' && i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '"' || s[i+1] == '\\' || (quote == 0 && s[i+1] == ' ')):
				i++
				b.WriteByte(s[i])
				continue
			case quote == 0 && (c == ' ' || c == '\t'):
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
				continue
			case quote != 0 && c == quote:
				quote = 0
				continue
			default:
				b.WriteByte(c)
				continue
			}
			break // unquoted whitespace ends the argument
		}
		if quote != 0 {
			return nil, errors.New("unterminated quote")
		}
		args = append(args, b.String())
	}
	return args, nil
}

// joinArgs is the inverse of splitArgs (without comments) for display and for
// list values: plain arguments are joined with spaces and only those that
// would not survive a split are quoted.
func joinArgs(args []string) string {
	escape := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	parts := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\"'\\") {
			parts[i] = a
			continue
		}
		parts[i] = `"` + escape.Replace(a) + `"`
	}
	return strings.Join(parts, " ")
}

// MatchPattern matches s against an OpenSSH pattern (match_pattern in
// OpenSSH's match.c), where "*" is any run of characters (including none)
// and "?" exactly one; nothing else is special. Matching is case-sensitive,
// as in OpenSSH; known_hosts lower-cases both sides first.
func MatchPattern(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0 // last "*" seen and where in s it started matching
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			// Let the last "*" swallow one more character and retry.
			mark++
			p, i = star+1, mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
