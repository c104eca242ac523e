// Package remotefile reads and replaces one file on a node over SFTP:
// atomically (a temporary file in the same directory, flushed, given its
// owner, group and mode, then renamed over the target with
// posix-rename@openssh.com), and never leaving the temporary file behind.
package remotefile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/es-service-tokens/es-service-tokens/internal/libtext"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
)

// MaxSize bounds what is read from a node: a service_tokens file of
// 100,000 tokens is 12 MB.
const MaxSize = 64 << 20

// SFTPServers are where distributions install OpenSSH's sftp-server.
var SFTPServers = []string{
	"/usr/lib/openssh/sftp-server",     // Debian, Ubuntu
	"/usr/libexec/openssh/sftp-server", // RHEL, Fedora, SUSE
	"/usr/lib/ssh/sftp-server",         // Arch
	"/usr/libexec/sftp-server",         // Alpine, BSD
	"/usr/local/libexec/sftp-server",
}

// Conn is an SFTP session on one node, as the user the node's settings
// say (directly, or root through sudo).
type Conn struct {
	sftp *sftp.Client
	// identityKnown says whether uid and gids, the writer's identity on
	// the node, are known (from /etc/passwd and /etc/group, or sudo).
	identityKnown bool
	uid           int
	gids          []int
	// ownerUID and groupGID are the node's numbers for the requested owner
	// and group, or -1 when not enforced.
	ownerUID int
	groupGID int

	// Names of the numbers seen on the node, for messages.
	userNames  map[int]string
	groupNames map[int]string

	// flushed is closed when the directory's flush that the last Replace
	// started has ended (Flushed).
	flushed chan struct{}

	// looks are the looks by name Open took ahead (lookAhead), and
	// listing the listing of the file's directory it started; each is
	// there until it is used once or anything is changed on the node.
	looksMu sync.Mutex
	looks   map[string]look
	listing *listing

	node     *inventory.Node
	client   *ssh.Client
	session  *ssh.Session
	closeSSH func()
}

// Error is a failure with the step it happened in and its kind, set
// here where the cause is known. An empty Kind leaves it to the wrapped
// error (a lost connection, a permission denied).
type Error struct {
	Step string
	Kind failure.Kind
	Err  error
}

func (e *Error) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// FailureKind is Kind, or the kind of the wrapped error.
func (e *Error) FailureKind() failure.Kind {
	if e.Kind != "" {
		return e.Kind
	}
	return failure.Of(e.Err)
}

// alive reports whether the SSH connection still answers. A request that
// failed on a dead connection says little ("EOF", or an empty passwd file
// that makes every user unknown); this tells a lost connection from a
// real refusal.
func (c *Conn) alive() bool {
	if c.client == nil {
		return true
	}
	_, _, err := c.client.SendRequest("keepalive@openssh.com", true, nil)
	return err == nil
}

// lostError describes a connection that died during step.
func lostError(step, doing string, err error) *Error {
	return &Error{step, failure.ConnectionLost, fmt.Errorf("the connection closed while %s (%v)", doing, err)}
}

// Open starts SFTP on a logged-in client and resolves the node's owner
// and group. With sudo it runs the node's sftp-server through `sudo -n`,
// so the session can write and chown as root.
//
// Everything happens in one SSH session: starting a session costs a
// process (and the login shell's start-up files) on the node, and nodes
// are many.
func Open(client *ssh.Client, n *inventory.Node) (*Conn, error) {
	c := &Conn{node: n, client: client, ownerUID: -1, groupGID: -1, userNames: map[int]string{}, groupNames: map[int]string{}}
	if n.Sudo {
		if err := c.openSudo(client); err != nil {
			return nil, err
		}
	} else {
		if err := c.openSubsystem(client); err != nil {
			return nil, err
		}
	}
	looked := c.lookAhead(n.Path)
	users, groups := c.readAccounts()
	looked()
	if n.Sudo {
		c.uid, c.gids, c.identityKnown = 0, []int{0}, true
	} else if u, ok := users.byName[n.User]; ok {
		c.uid, c.gids, c.identityKnown = u.id, append([]int{u.gid}, groups.memberOf[n.User]...), true
	}
	for id, name := range users.byID {
		c.userNames[id] = name
	}
	for id, name := range groups.byID {
		c.groupNames[id] = name
	}
	var err error
	if c.ownerUID, err = c.resolve(n.Owner, "passwd", users); err != nil {
		c.Close()
		return nil, err
	}
	if c.groupGID, err = c.resolve(n.Group, "group", groups); err != nil {
		c.Close()
		return nil, err
	}
	if c.ownerUID >= 0 {
		c.userNames[c.ownerUID] = n.Owner
	}
	if c.groupGID >= 0 {
		c.groupNames[c.groupGID] = n.Group
	}
	return c, nil
}

// look is the answer to an lstat.
type look struct {
	fi  fs.FileInfo
	err error
}

// listing is a directory's listing under way or done.
type listing struct {
	dir  string
	done chan struct{} // closed when ents and err are set
	ents []fs.FileInfo
	err  error
}

// lookAhead looks by name (lstat) at p, the node's file, and at every
// directory on the way to it, alongside the reading of the node's
// accounts: those are the looks a run's first steps take (TrustDir walks
// the directories, Read looks before it opens), and each would otherwise
// cost a round trip of its own, one after the other. It returns what
// waits for the answers. It also starts listing p's directory (what
// check, and a push that finds the file right, list next, for files a
// killed run left), which nothing waits for until Siblings asks.
//
// A look taken ahead is an answer the node gave a moment earlier, which
// changes nothing those steps rely on: TrustDir's proof holds from the
// moment it holds (only root and this session's user can change the
// directories it accepts), and Read takes nothing from its look but
// whether there is a file to open and how large to read it; the rest
// comes from the handle. Each is used once, and all are dropped at the
// first request that changes anything on the node (forget), so a read
// after a write always looks again.
func (c *Conn) lookAhead(p string) (wait func()) {
	if !path.IsAbs(p) {
		return func() {}
	}
	p = path.Clean(p)
	names := []string{p}
	for d := path.Dir(p); ; d = path.Dir(d) {
		names = append(names, d)
		if d == "/" {
			break
		}
	}
	c.looks = make(map[string]look, len(names))
	l := &listing{dir: path.Dir(p), done: make(chan struct{})}
	c.listing = l
	go func() {
		defer close(l.done)
		l.ents, l.err = c.sftp.ReadDir(l.dir)
	}()
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fi, err := c.sftp.Lstat(name)
			c.looksMu.Lock()
			c.looks[name] = look{fi, err}
			c.looksMu.Unlock()
		}()
	}
	return wg.Wait
}

// lstat looks at p by name: with the look taken ahead, if there is one
// still, else with a request of its own.
func (c *Conn) lstat(p string) (fs.FileInfo, error) {
	c.looksMu.Lock()
	l, ok := c.looks[p]
	delete(c.looks, p)
	c.looksMu.Unlock()
	if ok {
		return l.fi, l.err
	}
	return c.sftp.Lstat(p)
}

// readDir lists dir: with the listing started ahead, if it is still
// there and of dir, else with requests of its own.
func (c *Conn) readDir(dir string) ([]fs.FileInfo, error) {
	c.looksMu.Lock()
	l := c.listing
	if l != nil && l.dir == dir {
		c.listing = nil
	} else {
		l = nil
	}
	c.looksMu.Unlock()
	if l != nil {
		<-l.done
		return l.ents, l.err
	}
	return c.sftp.ReadDir(dir)
}

// forget drops the looks and the listing taken ahead: the node is about
// to change.
func (c *Conn) forget() {
	c.looksMu.Lock()
	c.looks, c.listing = nil, nil
	c.looksMu.Unlock()
}

// openSubsystem starts the node's sftp subsystem, as sftp.NewClient
// does, with privateCreate between the client and the channel.
func (c *Conn) openSubsystem(client *ssh.Client) error {
	fail := func(err error) error {
		if !c.alive() {
			return lostError("sftp", "starting SFTP", err)
		}
		return &Error{"sftp", failure.Refused, fmt.Errorf("cannot start the sftp subsystem: %w", err)}
	}
	s, err := client.NewSession()
	if err != nil {
		return fail(err)
	}
	w, r, err := pipes(s)
	if err != nil {
		s.Close()
		return &Error{"sftp", "", err}
	}
	if err := s.RequestSubsystem("sftp"); err != nil {
		s.Close()
		return fail(err)
	}
	sc, err := sftp.NewClientPipe(r, &privateCreate{w: w})
	if err != nil {
		s.Close()
		return fail(err)
	}
	c.sftp, c.session = sc, s
	return nil
}

// pipes are a session's stdin and stdout, for an SFTP client to speak
// through.
func pipes(s *ssh.Session) (io.WriteCloser, io.Reader, error) {
	w, err := s.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	r, err := s.StdoutPipe()
	return w, r, err
}

// scriptMarker starts the messages of openSudo's shell script.
const scriptMarker = "es-service-tokens: "

// openSudo starts sftp-server as root. The search for its path runs in the
// login user's shell, so sudoers needs to allow only sftp-server itself.
func (c *Conn) openSudo(client *ssh.Client) error {
	s, err := client.NewSession()
	if err != nil {
		return lostError("sudo", "starting sftp-server through sudo", err)
	}
	w, r, err := pipes(s)
	if err != nil {
		s.Close()
		return &Error{"sudo", "", err}
	}
	var stderr bytes.Buffer
	s.Stderr = &stderr
	candidates := SFTPServers
	if c.node.SFTPServer != "" {
		candidates = []string{c.node.SFTPServer}
	}
	if err := s.Start(sudoScript(c.node.SFTPServer, candidates)); err != nil {
		s.Close()
		if !c.alive() {
			return lostError("sudo", "starting sftp-server through sudo", err)
		}
		return &Error{"sudo", failure.Refused, fmt.Errorf("cannot start sftp-server through sudo: %w", err)}
	}
	sc, err := sftp.NewClientPipe(r, &privateCreate{w: w})
	if err != nil {
		// The command has ended (sudo refused, or no sftp-server): wait for
		// its stderr to be copied before reading it.
		w.Close()
		waitEnded(s)
		return c.sudoRefused(err, strings.TrimSpace(stderr.String()), candidates[0])
	}
	c.sftp, c.session = sc, s
	return nil
}

// sudoScript runs the node's sftp_server, or the first of candidates
// that is there, through `sudo -n`. The script's own complaints start
// with scriptMarker, so they are told apart from sudo's.
//
// OpenSSH's sftp-server found among the candidates runs with `-u 077`, so
// a file it creates is 0600 even where the mode privateCreate adds to
// OPEN did not reach it. A sudoers line that names the program without
// arguments allows them. An sftp_server of the inventory's own is run as
// it is: it may not be OpenSSH's, and take no -u.
func sudoScript(sftpServer string, candidates []string) string {
	say := func(msg string) string { return "printf '%s\\n' " + shellQuote(scriptMarker+msg) + " >&2; exit 127" }
	if p := sftpServer; p != "" {
		return fmt.Sprintf(`if [ -x %[1]s ]; then exec sudo -n -- %[1]s; elif [ -e %[1]s ]; then %[2]s; else %[3]s; fi`, shellQuote(p),
			say(fmt.Sprintf("%s is not executable on the node: fix sftp_server", p)),
			say(fmt.Sprintf("no such file on the node: %s; fix sftp_server (OpenSSH's sftp-server is usually one of %s)", p, strings.Join(SFTPServers, ", "))))
	}
	var cmd strings.Builder
	cmd.WriteString("for p in")
	for _, p := range candidates {
		cmd.WriteString(" " + shellQuote(p))
	}
	fmt.Fprintf(&cmd, `; do if [ -x "$p" ]; then exec sudo -n -- "$p" -u 077; fi; done; %s`,
		say(fmt.Sprintf("no sftp-server on the node in %s: install OpenSSH's sftp-server, or set sftp_server to its path", strings.Join(candidates, ", "))))
	return cmd.String()
}

// waitEnded waits for a session's command to end, so that its stderr has
// been copied. Closing the session bounds the wait should it not have
// ended.
func waitEnded(s *ssh.Session) {
	waited := make(chan struct{})
	go func() { s.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		s.Close()
		<-waited
	}
	s.Close()
}

// sudoRefused says why sftp-server did not start through sudo, from what
// the command wrote to stderr (msg): this tool's script, a missing
// server, or sudo refusing. err is SFTP's own failure to start.
func (c *Conn) sudoRefused(err error, msg, server string) error {
	if msg == "" {
		// sudo says why it refuses; silence with a dead connection is
		// sshd going away, not sudo.
		if !c.alive() {
			return lostError("sudo", "starting sftp-server through sudo", err)
		}
		msg = err.Error()
	}
	if rest, ok := strings.CutPrefix(msg, scriptMarker); ok { // our own script's words, above
		return &Error{"sudo", failure.Refused, errors.New(rest)}
	}
	if libtext.Of(errors.New(msg)).Kind == libtext.SudoCommandNotFound { // root cannot see it either
		return &Error{"sudo", failure.Refused, fmt.Errorf("no such file on the node: %s (sudo: %s); fix sftp_server", server, msg)}
	}
	return &Error{"sudo", failure.Permission, fmt.Errorf("`sudo -n %s` failed: %s; allow it without a password (sudoers: %s ALL=(root) NOPASSWD: %s) or log in as root",
		server, msg, c.node.User, server)}
}

// accounts is a node's /etc/passwd or /etc/group.
type accounts struct {
	byName   map[string]account
	byID     map[int]string
	memberOf map[string][]int // group file only: user -> supplementary gids
}

type account struct{ id, gid int }

// readAccounts reads the node's local user and group databases. They may
// be unreadable or incomplete (LDAP users); resolve then asks getent. The
// two files are read at once, each into its own maps: their requests
// share round trips.
func (c *Conn) readAccounts() (users, groups accounts) {
	users = accounts{byName: map[string]account{}, byID: map[int]string{}}
	groups = accounts{byName: map[string]account{}, byID: map[int]string{}, memberOf: map[string][]int{}}
	passwd := make(chan struct{})
	go func() { defer close(passwd); c.eachLine("/etc/passwd", users.addUser) }()
	c.eachLine("/etc/group", groups.addGroup)
	<-passwd
	return users, groups
}

// addUser adds a line of /etc/passwd (name:x:uid:gid:...).
func (users accounts) addUser(f []string) {
	if len(f) < 4 {
		return
	}
	id, err1 := strconv.Atoi(f[2])
	gid, err2 := strconv.Atoi(f[3])
	if err1 == nil && err2 == nil {
		users.byName[f[0]] = account{id, gid}
		if _, dup := users.byID[id]; !dup {
			users.byID[id] = f[0]
		}
	}
}

// addGroup adds a line of /etc/group (name:x:gid:members).
func (groups accounts) addGroup(f []string) {
	if len(f) < 4 {
		return
	}
	id, err := strconv.Atoi(f[2])
	if err != nil {
		return
	}
	groups.byName[f[0]] = account{id: id}
	if _, dup := groups.byID[id]; !dup {
		groups.byID[id] = f[0]
	}
	for _, m := range strings.Split(f[3], ",") {
		if m != "" {
			groups.memberOf[m] = append(groups.memberOf[m], id)
		}
	}
}

// eachLine calls fn with the fields of each line of file, a system file
// in a directory only root can write (/etc/passwd, /etc/group). Its size
// is looked at alongside the open, so that one read asks for all of it,
// sent together with the handle's attributes (readOpen); a file of any
// size costs one round trip after the open, and no more memory than it
// holds. A file that cannot be read gives no lines: resolve then asks
// getent.
func (c *Conn) eachLine(file string, fn func([]string)) {
	looked := make(chan int64, 1)
	go func() {
		var size int64 // unknown: readOpen asks the handle first
		if fi, err := c.sftp.Lstat(file); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
		looked <- size
	}()
	f, err := c.sftp.Open(file)
	size := <-looked
	if err != nil {
		return
	}
	defer closeLater(f)
	got := readOpen(f, size, MaxSize)
	if got.statErr != nil || got.readErr != nil || !got.info.Mode().IsRegular() {
		return
	}
	for line := range strings.Lines(string(got.data)) {
		fn(strings.Split(strings.TrimRight(line, "\n"), ":"))
	}
}

// resolve turns an owner or group into its number on the node: a number
// as it is, a name from the node's files, else from getent (which knows
// users of LDAP and other NSS services).
func (c *Conn) resolve(name, db string, local accounts) (int, error) {
	if name == "" {
		return -1, nil
	}
	if n, err := strconv.Atoi(name); err == nil {
		return n, nil
	}
	if a, ok := local.byName[name]; ok {
		return a.id, nil
	}
	kind := map[string]string{"passwd": "user", "group": "group"}[db]
	s, err := c.client.NewSession()
	if err != nil {
		if !c.alive() {
			return 0, lostError("resolve", fmt.Sprintf("looking up %s %q", kind, safetext.Input(name)), err)
		}
		return 0, &Error{"resolve", failure.Refused, fmt.Errorf("no %s %q in the node's /etc/%s, and getent cannot run: %v", kind, safetext.Input(name), db, err)}
	}
	defer s.Close()
	// Names are validated by the inventory; quoting is a second defence.
	out, err := s.Output("getent " + db + " " + shellQuote(name))
	if err != nil {
		if !c.alive() {
			return 0, lostError("resolve", fmt.Sprintf("looking up %s %q", kind, safetext.Input(name)), err)
		}
		return 0, &Error{"resolve", failure.Refused, fmt.Errorf("no %s %q on the node: create it there, or fix owner or group in the inventory", kind, safetext.Input(name))}
	}
	f := strings.Split(strings.TrimSpace(string(out)), ":")
	if len(f) < 3 {
		return 0, &Error{"resolve", failure.Refused, fmt.Errorf("getent %s %s gave %q", db, name, safetext.Input(string(out)))}
	}
	id, err := strconv.Atoi(f[2])
	if err != nil {
		return 0, &Error{"resolve", failure.Refused, fmt.Errorf("getent %s %s gave %q", db, name, safetext.Input(string(out)))}
	}
	return id, nil
}

// Close ends the session.
func (c *Conn) Close() {
	if c.sftp != nil {
		c.sftp.Close()
	}
	if c.session != nil {
		c.session.Close()
	}
	if c.closeSSH != nil {
		c.closeSSH()
	}
}

// Target is what the node's settings ask of its file: the node's numbers
// for the owner and group (-1 where not enforced), and the mode.
func (c *Conn) Target() Attrs { return Attrs{UID: c.ownerUID, GID: c.groupGID, Mode: c.node.Mode} }

// UserName is a uid as the node names it, or the number.
func (c *Conn) UserName(uid int) string {
	if n, ok := c.userNames[uid]; ok {
		return n
	}
	return strconv.Itoa(uid)
}

// GroupName is a gid as the node names it, or the number.
func (c *Conn) GroupName(gid int) string {
	if n, ok := c.groupNames[gid]; ok {
		return n
	}
	return strconv.Itoa(gid)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Dial connects to n with d and opens SFTP. The connection closes when
// ctx ends, which interrupts any request in flight.
func Dial(ctx context.Context, d *sshconn.Dialer, n *inventory.Node) (*Conn, error) {
	client, err := d.Dial(ctx, n)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { client.Close() })
	c, err := Open(client, n)
	if err != nil {
		stop()
		client.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	c.closeSSH = func() { stop(); client.Close() }
	return c, nil
}
