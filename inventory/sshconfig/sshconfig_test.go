package sshconfig

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeHome lays files out under a fresh home directory (paths relative to
// it) and returns the home directory.
func writeHome(t *testing.T, files map[string]string) string {
	t.Helper()
	home := t.TempDir()
	for name, body := range files {
		p := filepath.Join(home, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return home
}

// load loads home/.ssh/config and fails the test on error.
func load(t *testing.T, home string) *Config {
	t.Helper()
	c, err := Load(filepath.Join(home, ".ssh", "config"), home)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// where renders a Value as "value@file:line" with file relative to home, so
// a test states both what applies and which line it came from.
func where(home string, v Value) string {
	rel, err := filepath.Rel(home, v.File)
	if err != nil || strings.HasPrefix(rel, "..") {
		rel = v.File
	}
	return fmt.Sprintf("%s@%s:%d", v.Value, filepath.ToSlash(rel), v.Line)
}

func TestGet(t *testing.T) {
	tests := []struct {
		name   string
		config string
		host   string
		key    string
		want   string // value@file:line, "" when nothing applies
	}{
		{
			name:   "first value wins across blocks",
			config: "Host web*\n  HostName 10.0.0.1\nHost *\n  HostName fallback\n",
			host:   "web1", key: "HostName",
			want: "10.0.0.1@.ssh/config:2",
		},
		{
			name:   "a later specific block does not override an earlier Host *",
			config: "Host *\n  User root\nHost db\n  User admin\n",
			host:   "db", key: "User",
			want: "root@.ssh/config:2",
		},
		{
			name:   "non-matching block is skipped",
			config: "Host web*\n  HostName 10.0.0.1\nHost *\n  HostName fallback\n",
			host:   "db1", key: "HostName",
			want: "fallback@.ssh/config:4",
		},
		{
			name:   "negated pattern excludes a host the positive pattern matches",
			config: "Host *.prod !bastion.prod\n  User deploy\n",
			host:   "bastion.prod", key: "User",
			want: "",
		},
		{
			name:   "negated pattern leaves other hosts alone",
			config: "Host *.prod !bastion.prod\n  User deploy\n",
			host:   "app.prod", key: "User",
			want: "deploy@.ssh/config:2",
		},
		{
			name:   "block with only negated patterns applies to nothing",
			config: "Host !bastion\n  User deploy\n",
			host:   "app", key: "User",
			want: "",
		},
		{
			name:   "options before the first Host apply to every host",
			config: "User everyone\nHost db\n  User admin\n",
			host:   "db", key: "User",
			want: "everyone@.ssh/config:1",
		},
		{
			name:   "question mark matches exactly one character",
			config: "Host es?\n  Port 9300\n",
			host:   "es10", key: "Port",
			want: "",
		},
		{
			name:   "keywords and the key asked for are case-insensitive",
			config: "HOST es-*\n  hostname 10.1.1.1\n",
			host:   "es-Node1", key: "HOSTNAME",
			want: "10.1.1.1@.ssh/config:2",
		},
		{
			name:   "host patterns are case-sensitive, as in ssh",
			config: "Host ES-*\n  HostName 10.1.1.1\n",
			host:   "es-node1", key: "HostName",
			want: "",
		},
		{
			name:   "Key=value",
			config: "Host db\n  Port=2222\n",
			host:   "db", key: "Port",
			want: "2222@.ssh/config:2",
		},
		{
			name:   "Key = value",
			config: "Host=db\n  User = deploy\n",
			host:   "db", key: "User",
			want: "deploy@.ssh/config:2",
		},
		{
			name:   "double-quoted value loses its quotes and keeps its spaces",
			config: "Host db\n  IdentityFile \"/keys/with space/id\"\n",
			host:   "db", key: "IdentityFile",
			want: "/keys/with space/id@.ssh/config:2",
		},
		{
			name:   "quoted Host pattern",
			config: "Host \"db\" web\n  User deploy\n",
			host:   "db", key: "User",
			want: "deploy@.ssh/config:2",
		},
		{
			name:   "trailing comment is not part of the value",
			config: "Host db\n  Port 2222 # not the default\n",
			host:   "db", key: "Port",
			want: "2222@.ssh/config:2",
		},
		{
			name:   "comments, blank lines, indentation and CRLF are ignored",
			config: "# header\r\n\r\n   \r\n\tHost db \r\n\t\t# User nobody\r\n\t\tUser deploy\t\r\n",
			host:   "db", key: "User",
			want: "deploy@.ssh/config:6",
		},
		{
			name:   "UserKnownHostsFile keeps its list, quoting only the file with a space",
			config: "Host db\n  UserKnownHostsFile ~/.ssh/kh \"/etc/ssh/my hosts\"\n",
			host:   "db", key: "UserKnownHostsFile",
			want: `~/.ssh/kh "/etc/ssh/my hosts"@.ssh/config:2`,
		},
		{
			name:   "unsupported options are not answered",
			config: "Host db\n  ForwardAgent yes\n",
			host:   "db", key: "ForwardAgent",
			want: "",
		},
		{
			// ssh gives the rest of the line to a shell as written.
			name:   "ProxyCommand is the line as written",
			config: "Host db\n  ProxyCommand = ssh -W '[%h]:%p' \"bastion one\"  # via b\n",
			host:   "db", key: "ProxyCommand",
			want: `ssh -W '[%h]:%p' "bastion one"  # via b@.ssh/config:2`,
		},
		{
			name:   "the first of ProxyJump and ProxyCommand wins: ProxyJump",
			config: "Host db\n  ProxyJump b1\nHost *\n  ProxyCommand nc %h %p\n",
			host:   "db", key: "ProxyCommand",
			want: "",
		},
		{
			name:   "the first of ProxyJump and ProxyCommand wins: ProxyCommand",
			config: "Host db\n  ProxyCommand nc %h %p\nHost *\n  ProxyJump b1\n",
			host:   "db", key: "ProxyJump",
			want: "",
		},
		{
			name:   "ProxyCommand none is a value that wins too",
			config: "Host db\n  ProxyCommand none\nHost *\n  ProxyCommand nc %h %p\n",
			host:   "db", key: "ProxyCommand",
			want: "none@.ssh/config:2",
		},
		{
			name:   "options inside Match are not applied",
			config: "Match host db\n  User matched\nHost *\n  User plain\n",
			host:   "db", key: "User",
			want: "plain@.ssh/config:4",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := writeHome(t, map[string]string{".ssh/config": tt.config})
			v, ok := load(t, home).Get(tt.host, tt.key)
			got := ""
			if ok {
				got = where(home, v)
			}
			if got != tt.want {
				t.Errorf("Get(%q, %q) = %q, want %q", tt.host, tt.key, got, tt.want)
			}
		})
	}
}

func TestGetAll(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		host  string
		key   string
		want  []string
	}{
		{
			name: "IdentityFile accumulates over global, specific and catch-all blocks",
			files: map[string]string{".ssh/config": "IdentityFile ~/.ssh/global\n" +
				"Host es-*\n  IdentityFile ~/.ssh/es\nHost db\n  IdentityFile ~/.ssh/db\n" +
				"Host *\n  IdentityFile ~/.ssh/id_ed25519\n"},
			host: "es-1", key: "identityfile",
			want: []string{"~/.ssh/global@.ssh/config:1", "~/.ssh/es@.ssh/config:3", "~/.ssh/id_ed25519@.ssh/config:7"},
		},
		{
			name: "a repeated IdentityFile is offered once, at its first position",
			files: map[string]string{".ssh/config": "Host es-*\n  IdentityFile ~/.ssh/es\n" +
				"Host *\n  IdentityFile ~/.ssh/other\n  IdentityFile ~/.ssh/es\n"},
			host: "es-1", key: "IdentityFile",
			want: []string{"~/.ssh/es@.ssh/config:2", "~/.ssh/other@.ssh/config:4"},
		},
		{
			name: "IdentityFile from an included file comes at the Include position",
			files: map[string]string{
				".ssh/config":    "IdentityFile ~/.ssh/first\nInclude keys.conf\nIdentityFile ~/.ssh/last\n",
				".ssh/keys.conf": "IdentityFile ~/.ssh/middle\n",
			},
			host: "any", key: "IdentityFile",
			want: []string{"~/.ssh/first@.ssh/config:1", "~/.ssh/middle@.ssh/keys.conf:1", "~/.ssh/last@.ssh/config:3"},
		},
		{
			// ssh fills the known-hosts list from the first applicable
			// line only; merging a later Host * list would make ssh and
			// this tool trust different keys.
			name: "UserKnownHostsFile comes from the first applicable line only",
			files: map[string]string{".ssh/config": "Host lab-*\n  UserKnownHostsFile ~/.ssh/lab_hosts\n" +
				"Host *\n  UserKnownHostsFile ~/.ssh/known_hosts ~/.ssh/known_hosts2\n"},
			host: "lab-1", key: "UserKnownHostsFile",
			want: []string{"~/.ssh/lab_hosts@.ssh/config:2"},
		},
		{
			name: "CertificateFile accumulates like IdentityFile",
			files: map[string]string{".ssh/config": "Host es-*\n  CertificateFile ~/.ssh/es-cert.pub\n" +
				"Host *\n  CertificateFile ~/.ssh/all-cert.pub\n  CertificateFile ~/.ssh/es-cert.pub\n"},
			host: "es-1", key: "CertificateFile",
			want: []string{"~/.ssh/es-cert.pub@.ssh/config:2", "~/.ssh/all-cert.pub@.ssh/config:4"},
		},
		{
			name:  "nothing applicable",
			files: map[string]string{".ssh/config": "Host db\n  IdentityFile ~/.ssh/db\n"},
			host:  "web", key: "IdentityFile",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := writeHome(t, tt.files)
			var got []string
			for _, v := range load(t, home).GetAll(tt.host, tt.key) {
				got = append(got, where(home, v))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("GetAll(%q, %q) =\n  %q\nwant\n  %q", tt.host, tt.key, got, tt.want)
			}
		})
	}
}

func TestValueFields(t *testing.T) {
	home := writeHome(t, map[string]string{".ssh/config": `UserKnownHostsFile ~/.ssh/kh "/etc/ssh/my hosts" /x\"y` + "\n"})
	v, ok := load(t, home).Get("db", "UserKnownHostsFile")
	if !ok {
		t.Fatal("UserKnownHostsFile not found")
	}
	want := []string{"~/.ssh/kh", "/etc/ssh/my hosts", `/x"y`}
	if got := v.Fields(); !slices.Equal(got, want) {
		t.Errorf("Fields() = %q, want %q", got, want)
	}
}

func TestInclude(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		host  string
		key   string
		want  string // value@file:line, "" when nothing applies
	}{
		{
			name: "relative glob is resolved in ~/.ssh and read in lexical order",
			files: map[string]string{
				".ssh/config":             "Include conf.d/*.conf\nHost *\n  User fallback\n",
				".ssh/conf.d/20-b.conf":   "Host es-*\n  User second\n",
				".ssh/conf.d/10-a.conf":   "Host es-*\n  User first\n",
				".ssh/conf.d/ignored.txt": "Host es-*\n  User wrong-extension\n",
			},
			host: "es-1", key: "User",
			want: "first@.ssh/conf.d/10-a.conf:2",
		},
		{
			name: "glob wildcards skip dot files, as glob(3) does",
			files: map[string]string{
				".ssh/config":               "Include conf.d/*\n",
				".ssh/conf.d/.00-swap.conf": "User from-dotfile\n",
				".ssh/conf.d/50-real.conf":  "User real\n",
			},
			host: "es-1", key: "User",
			want: "real@.ssh/conf.d/50-real.conf:1",
		},
		{
			name: "tilde path and several paths on one line",
			files: map[string]string{
				".ssh/config":  "Include ~/other/none.conf ~/other/a.conf\n",
				"other/a.conf": "Port 2201\n",
			},
			host: "db", key: "Port",
			want: "2201@other/a.conf:1",
		},
		{
			name: "Host context at the Include continues into the included file",
			files: map[string]string{
				".ssh/config":  "Host db\n  Include db.conf\nHost *\n  User fallback\n",
				".ssh/db.conf": "User dbadmin\n",
			},
			host: "web", key: "User",
			want: "fallback@.ssh/config:4",
		},
		{
			name: "Host context at the Include applies to the matching host",
			files: map[string]string{
				".ssh/config":  "Host db\n  Include db.conf\nHost *\n  User fallback\n",
				".ssh/db.conf": "User dbadmin\n",
			},
			host: "db", key: "User",
			want: "dbadmin@.ssh/db.conf:1",
		},
		{
			name: "context active at the Include resumes after the included file's own Host blocks",
			files: map[string]string{
				".ssh/config":    "Host db\n  Include more.conf\n  User after-include\n",
				".ssh/more.conf": "Host web\n  User web-user\n",
			},
			host: "db", key: "User",
			want: "after-include@.ssh/config:3",
		},
		{
			name: "Host block in a file included from a non-matching block never applies",
			files: map[string]string{
				".ssh/config":    "Host db\n  Include more.conf\n",
				".ssh/more.conf": "Host *\n  User everyone\n",
			},
			host: "web", key: "User",
			want: "",
		},
		{
			name: "include from the global section applies its Host blocks normally",
			files: map[string]string{
				".ssh/config":    "Include more.conf\nHost *\n  User fallback\n",
				".ssh/more.conf": "Host web\n  User web-user\n",
			},
			host: "web", key: "User",
			want: "web-user@.ssh/more.conf:2",
		},
		{
			name: "missing include file and glob matching nothing are not errors",
			files: map[string]string{
				".ssh/config": "Include nothere.conf conf.d/*.conf\nUser still-read\n",
			},
			host: "db", key: "User",
			want: "still-read@.ssh/config:2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := writeHome(t, tt.files)
			v, ok := load(t, home).Get(tt.host, tt.key)
			got := ""
			if ok {
				got = where(home, v)
			}
			if got != tt.want {
				t.Errorf("Get(%q, %q) = %q, want %q", tt.host, tt.key, got, tt.want)
			}
		})
	}
}

func TestIgnored(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		host  string
		want  []string // Key value@file:line
	}{
		{
			name: "unsupported option is reported once, at its first applicable line",
			files: map[string]string{".ssh/config": "Host db\n  ForwardAgent yes\n  User deploy\n" +
				"Host *\n  forwardagent no\n  TCPKeepAlive no\n"},
			host: "db",
			want: []string{"ForwardAgent yes@.ssh/config:2", "TCPKeepAlive no@.ssh/config:6"},
		},
		{
			name:  "unsupported option in a block that does not apply is not reported",
			files: map[string]string{".ssh/config": "Host db\n  ForwardAgent yes\nHost web\n  User deploy\n"},
			host:  "web",
			want:  nil,
		},
		{
			name:  "unknown keyword is reported as written, not an error",
			files: map[string]string{".ssh/config": "FrobnicateWidgets yes please\n"},
			host:  "db",
			want:  []string{"FrobnicateWidgets yes please@.ssh/config:1"},
		},
		{
			name: "Match line and every line of its block are reported for every host, and the block ends at Host",
			files: map[string]string{".ssh/config": "Match host db exec \"true\"\n  User matched\n  ForwardAgent yes\n" +
				"Host *\n  User plain\n"},
			host: "anything",
			want: []string{"Match host db exec true@.ssh/config:1", "User matched@.ssh/config:2", "ForwardAgent yes@.ssh/config:3"},
		},
		{
			name: "Include inside Match is reported and its file is not read",
			files: map[string]string{
				".ssh/config":     "Match all\n  Include match.conf\nHost *\n  User plain\n",
				".ssh/match.conf": "User from-match-include\nPort 0\n",
			},
			host: "db",
			want: []string{"Match all@.ssh/config:1", "Include match.conf@.ssh/config:2"},
		},
		{
			name: "included files are deduplicated by line, not re-reported",
			files: map[string]string{
				".ssh/config": "Include m.conf\nInclude m.conf\n",
				".ssh/m.conf": "Match user root\n  User x\n",
			},
			host: "db",
			want: []string{"Match user root@.ssh/m.conf:1", "User x@.ssh/m.conf:2"},
		},
		{
			name:  "supported options are never reported",
			files: map[string]string{".ssh/config": "HostName h\nUser u\nPort 22\nIdentityFile k\nIdentitiesOnly yes\nProxyJump j\nUserKnownHostsFile f\nStrictHostKeyChecking accept-new\nConnectTimeout 5\n"},
			host:  "db",
			want:  nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := writeHome(t, tt.files)
			var got []string
			for _, v := range load(t, home).Ignored(tt.host) {
				got = append(got, v.Key+" "+where(home, v))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Ignored(%q) =\n  %q\nwant\n  %q", tt.host, got, tt.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	// Eighteen files each including the next: ssh allows 16 levels of
	// Include below the top file.
	chain := func(levels int) map[string]string {
		files := map[string]string{".ssh/config": "Include l1\n"}
		for i := 1; i <= levels; i++ {
			body := "User deep\n"
			if i < levels {
				body = fmt.Sprintf("Include l%d\n", i+1)
			}
			files[fmt.Sprintf(".ssh/l%d", i)] = body
		}
		return files
	}
	tests := []struct {
		name  string
		files map[string]string
		links map[string]string // symlink name -> target, relative to home
		want  string            // file:line: fragment of the message; "" for no error
	}{
		{name: "keyword with no value", files: map[string]string{".ssh/config": "Host db\n  Port\n"}, want: ".ssh/config:2: Port: missing argument"},
		{name: "keyword with only a comment", files: map[string]string{".ssh/config": "\n\nUser # nobody\n"}, want: ".ssh/config:3: User: missing argument"},
		{name: "port zero", files: map[string]string{".ssh/config": "Host db\n  Port 0\n"}, want: `.ssh/config:2: bad Port "0"`},
		{name: "port too large", files: map[string]string{".ssh/config": "Port 65536\n"}, want: `.ssh/config:1: bad Port "65536"`},
		{name: "port not a number, even in a block for another host", files: map[string]string{".ssh/config": "Host nobody\n\n  Port ssh2\n"}, want: `.ssh/config:3: bad Port "ssh2"`},
		{name: "highest port is fine", files: map[string]string{".ssh/config": "Port 65535\n"}, want: ""},
		{name: "Host with no patterns", files: map[string]string{".ssh/config": "User u\nHost   # todo\n"}, want: ".ssh/config:2: Host: missing argument"},
		{name: "ConnectTimeout with a unit", files: map[string]string{".ssh/config": "ConnectTimeout 10s\n"}, want: `.ssh/config:1: bad ConnectTimeout "10s"`},
		{name: "negative ConnectTimeout", files: map[string]string{".ssh/config": "ConnectTimeout -1\n"}, want: `.ssh/config:1: bad ConnectTimeout "-1"`},
		{name: "unterminated quote", files: map[string]string{".ssh/config": "IdentityFile \"/a b\n"}, want: ".ssh/config:1: unterminated quote"},
		{name: "extra words after a single-valued option", files: map[string]string{".ssh/config": "HostName a b\n"}, want: `.ssh/config:1: HostName: extra arguments after "a"`},
		{name: "error inside an included file names that file", files: map[string]string{".ssh/config": "Include x.conf\n", ".ssh/x.conf": "\nPort 99999\n"}, want: `.ssh/x.conf:2: bad Port "99999"`},
		{
			name:  "include cycle",
			files: map[string]string{".ssh/config": "Host *\nInclude a.conf\n", ".ssh/a.conf": "Include b.conf\n", ".ssh/b.conf": "\nInclude config\n"},
			want:  ".ssh/b.conf:2: include cycle: ",
		},
		{name: "file including itself", files: map[string]string{".ssh/config": "Include config\n"}, want: ".ssh/config:1: include cycle"},
		{name: "includes 16 deep are fine", files: chain(16), want: ""},
		{name: "includes 17 deep are refused", files: chain(17), want: ".ssh/l16:1: Include nested more than 16 levels deep"},
		{
			name:  "unreadable included file",
			files: map[string]string{".ssh/config": "User u\nInclude loop.conf\n"},
			links: map[string]string{".ssh/loop.conf": "loop.conf"},
			want:  ".ssh/config:2: cannot read included file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := writeHome(t, tt.files)
			for name, target := range tt.links {
				if err := os.Symlink(target, filepath.Join(home, name)); err != nil {
					t.Fatal(err)
				}
			}
			c, err := Load(filepath.Join(home, ".ssh", "config"), home)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Load: unexpected error %v", err)
				}
				return
			}
			if c != nil || err == nil {
				t.Fatalf("Load = %v, %v; want error %q", c, err, tt.want)
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			got := strings.TrimPrefix(filepath.ToSlash(err.Error()), filepath.ToSlash(home)+"/")
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("error = %q, want prefix %q", got, tt.want)
			}
			if want := fmt.Sprintf("%s:%d: %s", perr.File, perr.Line, perr.Msg); err.Error() != want {
				t.Errorf("Error() = %q, want file:line: msg = %q", err.Error(), want)
			}
		})
	}
}

func TestLoadMissingFileIsEmpty(t *testing.T) {
	home := t.TempDir()
	c, err := Load(filepath.Join(home, ".ssh", "config"), home)
	if err != nil {
		t.Fatalf("Load of a missing file: %v", err)
	}
	if v, ok := c.Get("db", "User"); ok {
		t.Errorf("Get on empty config = %v, want nothing", v)
	}
	if got := c.GetAll("db", "IdentityFile"); got != nil {
		t.Errorf("GetAll on empty config = %v, want nil", got)
	}
	if got := c.Ignored("db"); got != nil {
		t.Errorf("Ignored on empty config = %v, want nil", got)
	}
}

func TestParseUsesNameAndHome(t *testing.T) {
	home := writeHome(t, map[string]string{".ssh/extra.conf": "Host db\n  User from-include\n"})
	c, err := Parse(strings.NewReader("Include extra.conf\nHost *\n  Port 2200\n"), "inline", home)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if v, _ := c.Get("db", "User"); where(home, v) != "from-include@.ssh/extra.conf:2" {
		t.Errorf("User = %q, want it from the included file", where(home, v))
	}
	if v, _ := c.Get("db", "Port"); v != (Value{Key: "Port", Value: "2200", File: "inline", Line: 3}) {
		t.Errorf("Port = %+v, want it attributed to inline:3", v)
	}
	_, err = Parse(strings.NewReader("Port 0\n"), "inline", home)
	if err == nil || err.Error() != `inline:1: bad Port "0": must be a number from 1 to 65535` {
		t.Errorf("Parse error = %v", err)
	}
}

// ssh -o takes "Key=Value" or "Key Value"; a ProxyCommand keeps its words
// and quotes for the shell.
func TestParseOptionProxyCommand(t *testing.T) {
	for _, opt := range []string{`ProxyCommand=ssh -W "%h:%p" b`, `proxycommand ssh -W "%h:%p" b`} {
		v, ok, err := ParseOption(opt)
		if err != nil || !ok || v.Key != "ProxyCommand" || v.Value != `ssh -W "%h:%p" b` {
			t.Errorf("ParseOption(%q) = %+v, %v, %v", opt, v, ok, err)
		}
	}
}
