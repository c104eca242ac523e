package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/cmd/es-service-tokens/internal/exit"
)

// message is one error text written in the code, as its format string.
type message struct {
	pos    string
	format string
}

// errorMessages finds every error message the tool's own code can make:
// the format of exit.Fail(), remedy.Errorf(), fmt.Errorf() and
// errors.New(), and the msg of an exit.Error or a cmdline.UsageError, in
// every non-test file of the module except test helpers.
func errorMessages(t *testing.T) []message {
	t.Helper()
	var out []message
	eachSource(t, func(root, path string, f *ast.File, fset *token.FileSet) {
		literal := func(e ast.Expr) (string, bool) {
			if call, ok := e.(*ast.CallExpr); ok && isCall(call, "fmt", "Sprintf") && len(call.Args) > 0 {
				e = call.Args[0]
			}
			lit, ok := e.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return "", false
			}
			s, err := strconv.Unquote(lit.Value)
			return s, err == nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var e ast.Expr
			switch n := n.(type) {
			case *ast.CallExpr:
				switch {
				case isCall(n, "fmt", "Errorf"), isCall(n, "errors", "New"):
					if len(n.Args) > 0 {
						e = n.Args[0]
					}
				case isCall(n, "exit", "Fail") && len(n.Args) > 1, isCall(n, "remedy", "Errorf") && len(n.Args) > 1:
					e = n.Args[1]
				}
			case *ast.KeyValueExpr:
				if isIdent(n.Key, "msg") {
					e = n.Value
				}
			case *ast.CompositeLit:
				if sel, ok := n.Type.(*ast.SelectorExpr); ok && isIdent(sel.X, "exit") && sel.Sel.Name == "Error" {
					for _, el := range n.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok && isIdent(kv.Key, "Msg") {
							e = kv.Value
						}
					}
				}
			}
			if e != nil {
				if s, ok := literal(e); ok {
					p := fset.Position(e.Pos())
					rp, _ := filepath.Rel(root, p.Filename)
					out = append(out, message{rp + ":" + strconv.Itoa(p.Line), s})
				}
			}
			return true
		})
	})
	return out
}

// eachSource calls visit with every non-test Go file of the module that
// ships (test harnesses, the benchmark and examples left out), parsed.
func eachSource(t *testing.T, visit func(root, path string, f *ast.File, fset *token.FileSet)) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch rel {
			case "internal/testkit/sshdtest", "internal/testkit/sftptest", "internal/testkit/estest", "internal/testkit/swaptest", "internal/bench", "examples", ".git", "testdata":
				return filepath.SkipDir
			}
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		visit(root, path, f, fset)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func isCall(c *ast.CallExpr, pkg, fn string) bool {
	sel, ok := c.Fun.(*ast.SelectorExpr)
	return ok && isIdent(sel.X, pkg) && sel.Sel.Name == fn
}

// wrapper is a message that only puts context ("stat PATH: ") before an
// error that says what went wrong and what to do.
var wrapper = regexp.MustCompile(`^[^:]{0,40}: %[wv]$|^%[sqwv]$`)

// Why a message may lack a remedy of its own.
const (
	// Elasticsearch's own words, kept verbatim: scripts and people match
	// them, and the usage line printed with them shows what to type.
	esWords = "=es"
	// Printed with the command's usage line, which is the remedy.
	withUsage = "=usage"
	// A part of a message the caller completes: it names where (file and
	// line, node, option) and the remedy; see the comment in the table.
	part = "=part"
	// A verify result, not an error: it says why Elasticsearch would
	// refuse the token, and the token's owner knows what to do.
	result = "=result"
	// Cannot reach a user (a sentinel compared by the code, a bug guard).
	internal = "=internal"
)

// remedies is the table of every error message the tool can print, by
// its format string: either the words of the remedy it must contain, or
// why it has none of its own. A message added to the code without an entry
// here fails TestEveryMessageNamesItsRemedy.
var remedies = map[string]string{
	// cmd: usage errors (exit 64) print the command's usage line too.
	"%s needs a value: %s VALUE": "%s VALUE",
	"Missing required command":   esWords,
	"Option(s) [v/verbose] are unavailable given other options on the command line":     esWords, // joptsimple's, for -s with -v
	"%s takes no arguments, found [%s]":                                                 withUsage,
	"--against compares two local files; drop -i, or drop --against to check the nodes": "drop -i, or drop --against",
	"check needs an inventory (-i FILE) or --against OTHER_FILE":                        "-i FILE",
	"it is a symbolic link, which this tool does not follow: name the file itself":      "name the file itself",
	"it is a FIFO or a socket that nothing reads: name a file":                          "name a file",
	"%s %s: %s (nothing was changed)":                                                   part, // audit.RefusedError's What: the remedy
	"pull takes one node name":                                                          withUsage,
	"pull reads the one node it names: drop --limit":                                    "drop --limit",
	"pull needs --out FILE, a file that does not exist yet":                             "needs --out FILE",
	"%s needs an inventory: -i FILE":                                                    "-i FILE",
	"no node named %q in %s: `nodes` lists them":                                        "`nodes` lists them",
	"pull %s: %s": part, // the failure's own Describe text
	"completion for %q: choose bash, zsh or fish":                                                                     "choose bash, zsh or fish",
	"Missing service-account-principal and token-name arguments":                                                      esWords,
	"Missing token-name argument":                                                                                     esWords,
	"Expected two arguments, service-account-principal and token-name, found extra: [%s]":                             esWords,
	"--format %q: use text or json":                                                                                   "use text or json",
	"token file [%s] already exists; give a new path (a token file is never overwritten)":                             "give a new path",
	"Service token [%s] already exists":                                                                               esWords,
	"Service token [%s] does not exist":                                                                               esWords,
	"cannot write the token to standard output (%v) and cannot remove it from %s again: %v; delete [%s] by hand":      "delete [%s] by hand",
	"cannot write the token to standard output (%v): nobody received its secret, so [%s] was removed from %s again%s": "was removed",
	"Expected at most one argument, service-account-principal, found extra: [%s]":                                     esWords,
	"Expected at most one argument, the bearer token, found extra: [%d arguments]":                                    withUsage,
	"no bearer token on standard input":                                                                               withUsage,
	"the bearer token on standard input is not the secret of %s in %s (%v): nothing was delivered; give the bearer token create printed or wrote to its token file for the token now in %s": "give the bearer token create printed",
	"cannot create token file [%s]: %s is not a directory; give a path in an existing directory (nothing was changed)":                                                                      "give a path in an existing directory",
	"no terminal to ask for it":                                             part, // "identity file X is encrypted: ..." then asks for ssh-agent
	"--%s needs an inventory (-i FILE)":                                     "-i FILE",
	"--concurrency %d: give at least 1":                                     "give at least 1",
	"%s does not exist: %s":                                                 part, // the caller says what to do: "create a token first, or pull one"
	"%s %s: %v; create its directory or fix the path (nothing was changed)": "create its directory or fix the path",

	// inventory: every one is wrapped as "FILE:LINE: KEY: ..." by the loader,
	// and the value's expected form is the remedy.
	"%s: inventory %q names %d sources; es-service-tokens reads one YAML inventory: give it with -i FILE": "give it with -i FILE",
	"%s: inventory %s is a directory; es-service-tokens reads one YAML inventory: give it with -i FILE":   "give it with -i FILE",
	"unterminated range, missing ']'":                                                  "missing ']'",
	"expands to more than %d hosts":                                                    part, // --limit / host pattern, named by the caller
	"range [%s] must be begin:end or begin:end:step":                                   "must be begin:end",
	"range [%s] has invalid step %q, want a positive integer":                          "want a positive integer",
	"range [%s] must specify an end value":                                             "must specify an end value",
	"range [%s] starts after its end":                                                  part, // the range is named; swap its ends
	"range [%s] must be numeric (1:9) or alphabetic (a:f), not a mix":                  "numeric (1:9) or alphabetic (a:f)",
	"range [%s] must use the same number of digits for begin and end when zero-padded": "same number of digits",
	"range [%s] has out-of-range numbers":                                              part,
	"unterminated single quote":                                                        part, // Ansible ssh args, wrapped with the variable and host
	"unterminated double quote":                                                        part,
	"%q is not a port (1-65535)":                                                       "(1-65535)",
	"%q is not a file mode: write it in octal, quoted, e.g. \"0660\"":                  "write it in octal",
	"%q sets %s: setuid, setgid and sticky bits are not allowed; give the permission bits alone, e.g. \"%04o\"": "give the permission bits alone",
	"mode %04o lets neither the owner nor the group read the file; Elasticsearch could not load it":             part, // wrapped with file:line of mode
	"mode %04o lets every user on the node write the file, and so add tokens; use \"0660\" or \"0640\"":         "use \"0660\" or \"0640\"",
	"%q is not true or false":                                 "true or false",
	"%q is not a duration (e.g. 10s, or a number of seconds)": "e.g. 10s, or a number of seconds",
	"unset":                           internal,
	"%q is not [user@]host[:port]":    "[user@]host[:port]",
	"bastion %s: %s: %s":              part,
	"no login user":                   internal, // the current user always has a name
	"%q is not an absolute file path": "absolute file path",
	"%q is not a service_tokens file: Elasticsearch reads only CONFIG_DIR/service_tokens; give a path ending in /service_tokens": "give a path ending in /service_tokens",
	"%q is not an absolute path":                                         "absolute path",
	"%q is not a user or group name or number":                           "name or number",
	"%q is not a whole number of seconds":                                "whole number of seconds",
	"%q is not a whole number":                                           "whole number",
	"%q is not strict or accept-new (there is no way to skip the check)": "strict or accept-new",
	"%s sets UserKnownHostsFile none: host keys cannot be checked":       part, // ssh_config file:line, and the inventory's known_hosts is the way
	"%q: unterminated ${":                                                "unterminated ${",
	"%q: environment variable %s is not set":                             "is not set",

	// ssh_config: wrapped as "ssh_config FILE:LINE: ..." by the parser.
	"sshconfig: reading %s: %w":                                part,
	"no home directory to expand ~ in":                         part, // HOME unset: the path is named by the caller
	"relative path but no home directory to resolve it in":     part,
	"a Host line needs at least one pattern":                   "at least one pattern",
	"a Host line has an empty pattern":                         part,
	"%s: missing argument":                                     part,
	"%s: empty argument":                                       part,
	"%s: \"none\" must appear alone":                           "must appear alone",
	"%s: extra arguments after %q":                             part,
	"bad Port %q: must be a number from 1 to 65535":            "must be a number from 1 to 65535",
	"bad ConnectTimeout %q: must be a whole number of seconds": "must be a whole number of seconds",
	"bad ServerAliveCountMax %q: must be a whole number":       "must be a whole number",
	"empty time": part,
	"must be seconds or a time such as 30s, 5m, 1h": "seconds or a time such as 30s",
	"number out of range":                           part,
	"empty option":                                  part,
	"unterminated quote":                            part,

	// sync: node failures, printed as "KIND: message" per node.
	"pull: no node, or no Dialer to reach it":          internal,
	"check: no Dialer to reach the nodes":              internal, // cmd always gives one
	"push: no Dialer to reach the nodes":               internal,
	"push: batch %d-%d does not follow %d of %d nodes": internal, // cmd's batches come from rollout.Batches
	"push: the batches cover %d of %d nodes":           internal,
	"no result within %v (%v)":                         "(%v)",
	"host key check %q: use strict or accept-new":      "use strict or accept-new",
	"no known_hosts file configured":                   internal, // the inventory always resolves one
	"record host key: lock %s: %w":                     part,
	"probe":                                            internal,
	"the directory %s does not exist on the node: is Elasticsearch installed there, and is path right?": "is path right?",
	"the directory %s does not exist on %s: create it, or fix the consumer's %s path":                   "create it, or fix the consumer's %s path",
	"%s is not a directory: fix path": "fix path",
	"could not remove %s, the temporary file of the run whose lock was taken over (%w): its rename could still land after this run's; nothing was written: remove it on the node, then push again": "remove it on the node",
	"more than %d symbolic links on the way to %s: fix path": "fix path",
	"%s is %s (mode %s): whoever can write it can replace %s with a link and send this write to another directory; not written: make %s owned by root and writable by nobody else":                                                                "make %s owned by root",
	"%s is %s (mode %s): whoever can write it can swap %s for a link to another file while this run reads it, and have that file's content, owner or mode taken into the new one; not written: make %s owned by root and writable by nobody else": "make %s owned by root",
	"%w (or give the consumer owner and group, which the new file then takes instead of the old one's)":                                                                                                                                           "give the consumer owner and group",
	"lock: read %s: %w":                      part,
	"lock: cannot create %s (hard link): %w": part,
	"lock: take over %s: %w":                 part,
	"stopped before the lock was taken: %w":  part,     // interrupted or out of time: the kind says which
	"the file was changed again since":       internal, // store.ErrChangedSince: cmd says what it means in its own words
	"lock: %s is %s, where this tool keeps its lock file (a regular file it makes and removes); remove it from the node (nothing of es-service-tokens makes one), then run again": "remove it from the node",
	// localproc: a process this host cannot look at is "unknown", and its
	// lock is waited for; the error is quoted in that reason at most.
	"/proc/%d/stat: no command name":    part,
	"/proc/%d/stat: %d fields":          part,
	"kern.proc.pid %d: no such process": part,
	"not supported on this system":      internal, // Self then names no host, and every lock waits for its lease
	"locked: this run's lock on the node was taken over (%s), so nothing was renamed": part, // the push report says to run again
	"%s already exists; pull never overwrites a file: give a new path":                "give a new path",
	"the node has no backup of %s (backups: N in the inventory keeps them)":           "backups: N in the inventory",
	"the node has no backup %s of %s; it has %v":                                      "it has",
	"%s does not exist on the node":                                                   part, // pull NODE: ...; the node's path is named
	"%s does not read back with sha256:%s; removed it":                                "removed it",
	"conflict during write":                                                           internal,
	"create %s: %w%s":                                                                 part, // %s: rootHint or diagnose (read-only, no space)
	"write %s: %w%s":                                                                  part,
	"create %s: %w%s%s":                                                               part,
	"stat %s: %w%s":                                                                   part,
	"open %s: %w%s":                                                                   part,
	"the connection closed while %s (%v)":                                             part, // the push report says what is on the node and to run again
	"no such file on the node: %s (sudo: %s); fix sftp_server":                        "fix sftp_server",
	"`sudo -n %s` failed: %s; allow it without a password (sudoers: %s ALL=(root) NOPASSWD: %s) or log in as root": "or log in as root",
	"no %s %q in the node's /etc/%s, and getent cannot run: %v":                                                    part,
	"no %s %q on the node: create it there, or fix owner or group in the inventory":                                "fix owner or group in the inventory",
	"getent %s %s gave %q": part,
	"%s is %s; refusing to replace it (point path at the real file)":                             "point path at the real file",
	"%s is %d bytes, larger than any service_tokens file: point path at the service_tokens file": "point path",
	"setting %s needs root on the node, and %s is uid %d: log in as root, or set sudo: true":     "log in as root, or set sudo: true",
	"the node's SFTP server created %s with mode %04o, not the 0600 asked for, so someone on the node could have opened it before it was made private; nothing was written to it: use OpenSSH's sftp-server, or have yours honour the mode of OPEN (or start it with a umask of 077)": "use OpenSSH's sftp-server",
	"an SFTP packet of %d bytes, more than %d: the stream is out of step":                                                                                               internal, // this client's own packets: a bug, not the user's to fix
	"the node's SFTP server lacks posix-rename@openssh.com, so the file cannot be replaced atomically; refusing to write it non-atomically (use OpenSSH's sftp-server)": "use OpenSSH's sftp-server",
	"chown %s: %w; setting owner and group needs root on the node: log in as root, or set sudo: true":                                                                   "log in as root, or set sudo: true",
	"no SSH key: start ssh-agent with your key, set identity_file, or create %s":                                                                                        "start ssh-agent",
	"identity file %s does not exist: fix identity_file, or create the key (ssh-keygen -t ed25519 -f %s)":                                                               "fix identity_file",
	"identity file %s is encrypted and no terminal is available to ask its passphrase: load it into ssh-agent (ssh-add %s) and retry":                                   "ssh-add",
	"identity file %s: wrong passphrase, three times":                                                                                                                   part, // run again; cmd wraps it with the node and inventory line
	"identity file %s has mode %04o: a private key readable by others is refused, as OpenSSH does: chmod 600 %s":                                                        "chmod 600",
	"no TCP connection within %v: is the node up, and are host and port right?":                                                                                         "is the node up",
	"ProxyCommand holds %%%c, which ssh does not expand there: use %%h, %%k, %%n, %%p, %%r or %%%% (a literal %%)":                                                      "use %%h",
	// How a ProxyCommand ended, then its own words on stderr (nc: connect
	// ... refused, ssh: Permission denied), which say what to fix.
	"certificate %s does not exist: fix certificate_file":                                                                                                 "fix certificate_file",
	"certificate %s is not an OpenSSH certificate: sign the public key with ssh-keygen -s CA_KEY":                                                         "ssh-keygen -s",
	"certificate %s is a host certificate; logging in needs a user certificate (ssh-keygen -s without -h)":                                                "ssh-keygen -s",
	"certificate %s is for key %s %s, which no identity file or ssh-agent key holds: set identity_file to that key, or add it to ssh-agent (ssh-add KEY)": "set identity_file",
	// The certificate's path, then validity(): "expired at T (valid from A
	// to B): get a new one from your SSH CA" or "is not valid yet (...):
	// check this machine's clock, or wait".
	"certificate %s %s": part,
	// The keys offered, then certHints: whom a certificate is for ("log in
	// as one of them (user), or get a certificate for U from your SSH CA"),
	// or its validity (as above).
	"%s@%s refused every key offered (%s); %s":                                                 part,
	"unknown marker @%s":                                                                       part, // known_hosts FILE:LINE: ..., and no line of the file is valid: fix that line
	"known_hosts %s:%d: %v, and no line of the file is valid: fix that line":                   "fix that line",
	"%s; its stderr: %s":                                                                       part,
	"%s; it wrote nothing on stderr":                                                           part,
	"no SSH handshake within %v: the node accepted the connection but did not answer":          part, // unreachable: the node's sshd hangs
	"%s@%s refused every key offered (%s); check identity_file and the node's authorized_keys": "check identity_file",

	// tokens: verify results, and file errors wrapped as
	// "FILE:LINE: ...; Elasticsearch would refuse this file, fix the line and retry".
	"the secret does not match the stored hash":                         result,
	"namespace [%s] is not elastic":                                     result,
	"[%s] is not a service account":                                     result,
	"the secret is %d characters long; Elasticsearch needs at least %d": result,
	"no such token in %s":                                               result,
	"no service_tokens file: give %v PATH, %v DIR (or set ES_PATH_CONF), or %v DIR (or set ES_HOME)":                                      "give %v PATH",
	"line %d: duplicate settings key [%s], first set on line %d":                                                                          part, // elasticsearch.yml, named by the caller
	"could not resolve placeholder '%s'":                                                                                                  esWords,
	"starts with '#': written back, Elasticsearch would read it as a comment and drop it; remove or rename that line of the file by hand": "remove or rename that line",
	"Invalid algorithm: %s. Valid values for password hashing are [%s]":                                                                   esWords,
	"bcrypt hash is %d characters long, expected 60":                                                                                      part,
	"bcrypt cost %q is not a number":                                                                                                      part,
	"bcrypt cost %d is not allowed (Elasticsearch accepts 4 to 14)":                                                                       "accepts 4 to 14",
	"the number of iterations could not be determined from the PBKDF2 hash (no '$' after %s)":                                             part,
	"the number of iterations %q in the PBKDF2 hash is not a number":                                                                      part,
	"PBKDF2 iteration count %d is not allowed (Elasticsearch accepts %s)":                                                                 "Elasticsearch accepts",
	"PBKDF2 hash is too short for Elasticsearch 7.13 to 8.6, which expect a 44-character salt and key":                                    part,
	"PBKDF2 salt or key is not 44 characters long: Elasticsearch 7.13 to 8.6 cannot read this hash":                                       part,
	"PBKDF2 key length must be positive and multiple of [128 bits]":                                                                       esWords,
	"PBKDF2 salt must be at least [8 bytes] long":                                                                                         esWords,
	"SSHA256 hash is too short":                                                                                                           part,
	"not a number":                                                                                                                        internal,
	"illegal base64 padding":                                                                                                              result,
	"illegal base64 character":                                                                                                            result,
	"base64 ends with one dangling character":                                                                                             result,
	"not a service account token":                                                                                                         result,
	"%w: it does not start with the service token prefix (AAEAA)":                                                                         result,
	"%w: no ':' between name and secret":                                                                                                  result,
	"%w: name %q is not namespace/service/token":                                                                                          result,
	"%w: empty namespace or service in %q":                                                                                                result,
	"%w: %s":                                                                                                                              result,
	// Elasticsearch (issue 9): inventory values are wrapped as
	// "FILE:LINE: elasticsearch.KEY: ..."; the expected form is the remedy.
	"--confirm-timeout %s: give a positive duration (30s, 2m) or a number of seconds":                                               "give a positive duration",
	"--es-ca and --es-insecure-http need --es-url or the inventory's elasticsearch section":                                         "need --es-url",
	"--confirm-timeout and --no-confirm need --es-url or the inventory's elasticsearch section":                                     "need --es-url",
	"%s is not an http(s)://host:port address without credentials (credentials come from api_key_file or username + password_file)": "http(s)://host:port",
	"give at least one address": "give at least one address",
	"must be a file path":       "must be a file path",
	"%q is not a SHA-256 fingerprint (64 hex digits, colons allowed)":                "64 hex digits",
	"give ca or ca_fingerprint, not both":                                            "not both",
	"must not be empty":                                                              "must not be empty",
	"needs password_file: the file holding the password (never the password itself)": "needs password_file",
	"give api_key_file or username and password_file, not both":                      "not both",
	"needs username":                  "needs username",
	"%q is not namespace/service":     internal, // principals come from the built-in account list
	"elasticsearch is not configured": internal, // a sentinel: the caller skips the cluster
	"elasticsearch URL %s: give https://host:port, without credentials (they come from the inventory's files or the environment)":           "give https://host:port",
	"elasticsearch URL %s is plain http: tokens and credentials would cross the network in clear; use https, or pass %v for a test cluster": "use https, or pass %v",
	"elasticsearch CA %s holds no PEM certificate": part, // the file is named: give the PEM CA (http_ca.crt)
	"elasticsearch %s %s is empty":                 part, // the key (api_key_file, password_file) and file are named
	"ES_USERNAME is set but ES_PASSWORD is not":    part, // names the missing variable
	"no elasticsearch credentials: set elasticsearch.api_key_file (or username and password_file) in the inventory, or ES_API_KEY (or ES_USERNAME and ES_PASSWORD) in the environment": "set elasticsearch.api_key_file",
	"no connection": internal, // the transport never asks with an empty pool
	// tokens/meta: a metadata line is wrapped as "FILE:LINE: ..." and cmd
	// adds the fix (correct or remove the line); --comment and ages are
	// wrapped with the option or inventory key.
	"--max-age judges the tokens of the cluster's local file: drop --against, or drop --max-age": "drop --against, or drop --max-age",
	"--comment %q: %v": part, // the comment's own problem and its remedy follow
	// rotate: usage, setup, and a rotation that cannot go on (each with the
	// command that takes it on). A failed step's error is part of the
	// report, which prints what each node or consumer said and the command
	// that continues.
	"--finish and --abort exclude each other: give one":                                                                      "give one",
	"give the token as <principal> <token-name>, or --consumer, or --older-than: one of them":                                withUsage,
	"--finish and --abort act on one rotation: give its <principal> <token-name>":                                            "give its <principal> <token-name>",
	"Missing service-account-principal and token-name arguments (or --consumer NAME, or --older-than AGE)":                   withUsage,
	"a rotation is proven on every node and removes the old token from every node: drop --limit":                             "drop --limit",
	"--consumer %q: not a consumer of %s; its consumers: %s":                                                                 "its consumers",
	"--consumer %q: no consumer of that name in %s; `nodes` lists them":                                                      "`nodes` lists them",
	"consumer %s uses %s, and %s holds no token of that name (nor a rotation of it): create it, or fix the consumer's token": "create it, or fix the consumer's token",
	"a rotation proves the new token on every Elasticsearch node before anyone uses it, and that the old one is gone: give %s an elasticsearch section (url and credentials; node_url for proof by secret), or --es-url": "give %s an elasticsearch section",
	"--token-file is for a rotation without consumers, and %s goes to %s: drop --token-file":                                                                                                                             "drop --token-file",
	"%v; set XDG_STATE_HOME to a directory of your own":                       "set XDG_STATE_HOME",
	"no way to hand the new token over":                                       internal, // cmd always gives HandOver
	"another rotation of this file runs on this host":                         internal, // rotation.ErrBusy: cmd says to let it end
	"another rotate of %s runs on this host: let it end, then run this again": "let it end",
	"%v: %s": part, // the StateError says to finish that rotation first; the command follows
	"%v; continue the rotation with: %s (or give it up with: %s)": "continue the rotation with",
	"%v: start one with: %s": "start one with",
	"%v; once what used %s runs with the new token, finish with: %s; if nothing uses %s, delete it: %s": "finish with",
	"%v; continue it with: %s": "continue it with",
	"%v; run it on that host, as that user, where the secret is kept: %s; if that secret is lost, delete the new token: %s, then rotate again: %s (a consumer that received it fails until it receives the next)": "run it on that host, as that user",
	"%v; restore the metadata file to continue that rotation, or delete the one nothing uses: %s, or: %s":                                                                                                         "delete the one nothing uses",
	"push: %s":     part,
	"delivery: %s": part,
	"not every node accepts the new token's secret":    part,
	"not every Elasticsearch node lists the new token": part,
	"some Elasticsearch node still lists %s":           part,
	"--older-than: %v":                                 part,
	// sync/prove: callers ask prove.Addressed first, and say which
	// inventory lacks the addresses and how to give them.
	"no node has its own address": internal,
	// sync/rotate: the state directory that keeps a successor's secret.
	"state directory %s is not a directory: move it away":                                                                     "move it away",
	"state directory %s is a symbolic link, not a directory: move it away":                                                    "move it away",
	"--grace %s: give a duration of 0 or more (5m, 1h)":                                                                       "give a duration of 0 or more",
	"state directory %s belongs to uid %d, not to this user: give each user their own":                                        "give each user their own",
	"state directory %s has mode %04o: others could read the secrets kept there; chmod 700 %s":                                "chmod 700",
	"%s is not a service account Elasticsearch knows: no token of it authenticates, so there is nothing to renew (delete it)": "(delete it)",
	"a git conflict marker (%s): finish the merge by hand, keeping both sides' records":                                       "finish the merge by hand",
	"not a JSON object (%v)":                            part,
	"no \"token\": every record names its token":        part,
	"not a string":                                      part,
	"%q is not namespace/service/name":                  part,
	"%q is not an RFC 3339 time (2026-01-31T12:00:00Z)": "(2026-01-31T12:00:00Z)",
	"%q is not a rotation phase":                        part,
	"%d characters; keep it to %d":                      "keep it to %d",
	"it holds a control or invisible character (%s); keep it to one line of printable text": "keep it to one line",
	"%q is not an age: give days (90d), weeks (12w), hours (36h) or seconds (3600)":         "give days (90d)",
	"%q: give an age above zero":                                         "give an age above zero",
	"%v %d: give a number of nodes, at least 1":                          "give a number of nodes",
	"%v %q: give a number of nodes (e.g. 2) or a percentage (e.g. 25%%)": "give a number of nodes",
	// inventory's limit expressions (remedy.Limit, phrased --limit).
	"%v %q names no node (an empty variable?): give node or group names, or leave %v out to select every node": "give node or group names",
	"%v %s selects no node":                 part, // the limit is named: the user chose it
	"%v %s: cannot read the limit file: %v": part, // the file and the OS's reason are named
	"%v %s: no node or group matches %q":    part, // `nodes` lists them; the term is named
	"%v: bad pattern %q: %v":                part,
	// inventory/ansible/vault: the caller names the file and adds "encrypt it again with ansible-vault".
	"not valid ansible-vault data":                             part,
	"the vault password does not decrypt it":                   internal, // a sentinel: the caller names the passwords tried
	"%w: no $ANSIBLE_VAULT header":                             part,
	"%w: format %q is not 1.1 or 1.2":                          part,
	"%w: cipher %q is not AES256, the only one Ansible writes": part,
	"%w: the body is not hex":                                  part,
	"%w: the body is not salt, HMAC and ciphertext":            part,
	"%w: the ciphertext or the HMAC has the wrong length":      part,
	"%s: asking for the vault password on the terminal is not supported: give a password file or script":                                                                                                 "give a password file or script",
	"%s gives an empty password: put the vault password in it, or make the script print it":                                                                                                              "put the vault password in it",
	"vault password script failed (%v)%s; run it by hand to see why":                                                                                                                                     "run it by hand",
	"%v: %q: Ansible reads a trailing [N] or [N:M] as a subscript (the Nth host of a group), which es-service-tokens does not support; name the nodes, or write the range as a pattern such as es-[12]*": "name the nodes",
}

// TestEveryMessageNamesItsRemedy is the table test of every error message
// the code can print: each names its remedy, or the table says why it
// needs none of its own (Elasticsearch's words, printed with the usage
// line, completed by its caller, a verify result).
func TestEveryMessageNamesItsRemedy(t *testing.T) {
	msgs := errorMessages(t)
	if len(msgs) < 100 {
		t.Fatalf("found only %d messages: the scan is broken", len(msgs))
	}
	for _, m := range msgs {
		if wrapper.MatchString(m.format) {
			continue
		}
		want, ok := remedies[m.format]
		switch {
		case !ok:
			t.Errorf("%s: %q is not in the table: make the message name its remedy and add it to remedies with those words (or say why it needs none)", m.pos, m.format)
		case strings.HasPrefix(want, "="):
		case !strings.Contains(m.format, want):
			t.Errorf("%s: %q does not name its remedy %q", m.pos, m.format, want)
		}
	}
}

// The messages a user meets most, end to end: each names what to do.
func TestCommonErrorsNameTheirRemedy(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args   []string
		code   int
		remedy string
	}{
		{[]string{"push"}, exit.Usage, "-i FILE"},
		{[]string{"push", "--dryrun"}, exit.Usage, "did you mean --dry-run?"},
		{[]string{"creat"}, exit.Usage, "did you mean create?"},
		{[]string{"--file", dir + "/st", "list", "--format", "yml"}, exit.Usage, "use text or json"},
		{[]string{"list"}, exit.Config, "give --file PATH"},
		{[]string{"--file", dir + "/st", "create", "elastic/kibana", "k", "--limit", "x"}, exit.Usage, "needs an inventory (-i FILE)"},
		{[]string{"check"}, exit.Usage, "-i FILE) or --against"},
		{[]string{"completion", "tcsh"}, exit.Usage, "choose bash, zsh or fish"},
	} {
		var stdout, stderr strings.Builder
		code := run(append([]string{"es-service-tokens"}, c.args...), strings.NewReader(""), &stdout, &stderr, func(string) string { return "" })
		if code != c.code || !strings.Contains(stderr.String(), c.remedy) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d naming %q", c.args, code, stderr.String(), c.code, c.remedy)
		}
	}
}
