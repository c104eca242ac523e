// Package remotefile reads and replaces one file on a node over SFTP:
// atomically (a temporary file in the same directory, flushed, given its
// owner, group and mode, then renamed over the target with
// posix-rename@openssh.com), and never leaving the temporary file behind.
package remotefile

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/internal/libtext"
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
		s, err := sftp.NewClient(client)
		if err != nil {
			if !c.alive() {
				return nil, lostError("sftp", "starting SFTP", err)
			}
			return nil, &Error{"sftp", failure.Refused, fmt.Errorf("cannot start the sftp subsystem: %w", err)}
		}
		c.sftp = s
	}
	users, groups := c.readAccounts()
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

// scriptMarker starts the messages of openSudo's shell script.
const scriptMarker = "es-service-tokens: "

// openSudo starts sftp-server as root. The search for its path runs in the
// login user's shell, so sudoers needs to allow only sftp-server itself.
func (c *Conn) openSudo(client *ssh.Client) error {
	s, err := client.NewSession()
	if err != nil {
		return lostError("sudo", "starting sftp-server through sudo", err)
	}
	w, err := s.StdinPipe()
	if err != nil {
		s.Close()
		return &Error{"sudo", "", err}
	}
	r, err := s.StdoutPipe()
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
	sc, err := sftp.NewClientPipe(r, w)
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
	fmt.Fprintf(&cmd, `; do if [ -x "$p" ]; then exec sudo -n -- "$p"; fi; done; %s`,
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
// be unreadable or incomplete (LDAP users); resolve then asks getent.
func (c *Conn) readAccounts() (users, groups accounts) {
	users = accounts{byName: map[string]account{}, byID: map[int]string{}}
	groups = accounts{byName: map[string]account{}, byID: map[int]string{}, memberOf: map[string][]int{}}
	c.eachLine("/etc/passwd", func(f []string) {
		if len(f) >= 4 {
			id, err1 := strconv.Atoi(f[2])
			gid, err2 := strconv.Atoi(f[3])
			if err1 == nil && err2 == nil {
				users.byName[f[0]] = account{id, gid}
				if _, dup := users.byID[id]; !dup {
					users.byID[id] = f[0]
				}
			}
		}
	})
	c.eachLine("/etc/group", func(f []string) {
		if len(f) >= 4 {
			if id, err := strconv.Atoi(f[2]); err == nil {
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
		}
	})
	return users, groups
}

func (c *Conn) eachLine(file string, fn func([]string)) {
	f, err := c.sftp.Open(file)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, MaxSize))
	for sc.Scan() {
		fn(strings.Split(sc.Text(), ":"))
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
			return 0, lostError("resolve", fmt.Sprintf("looking up %s %q", kind, name), err)
		}
		return 0, &Error{"resolve", failure.Refused, fmt.Errorf("no %s %q in the node's /etc/%s, and getent cannot run: %v", kind, name, db, err)}
	}
	defer s.Close()
	// Names are validated by the inventory; quoting is a second defence.
	out, err := s.Output("getent " + db + " " + shellQuote(name))
	if err != nil {
		if !c.alive() {
			return 0, lostError("resolve", fmt.Sprintf("looking up %s %q", kind, name), err)
		}
		return 0, &Error{"resolve", failure.Refused, fmt.Errorf("no %s %q on the node: create it there, or fix owner or group in the inventory", kind, name)}
	}
	f := strings.Split(strings.TrimSpace(string(out)), ":")
	if len(f) < 3 {
		return 0, &Error{"resolve", failure.Refused, fmt.Errorf("getent %s %s gave %q", db, name, out)}
	}
	id, err := strconv.Atoi(f[2])
	if err != nil {
		return 0, &Error{"resolve", failure.Refused, fmt.Errorf("getent %s %s gave %q", db, name, out)}
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

// State is a file as found on the node.
type State struct {
	Exists bool
	Data   []byte
	SHA256 string
	UID    int
	GID    int
	Mode   fs.FileMode
}

// rootHint names the remedy for a permission denied to a login that is
// neither root nor using sudo: Elasticsearch's config directory is
// root:elasticsearch 2750 on every package, so only root can write there.
func (c *Conn) rootHint(err error) string {
	if !errors.Is(err, fs.ErrPermission) || c.node.Sudo || (c.identityKnown && c.uid == 0) || c.node.User == "root" {
		return ""
	}
	return fmt.Sprintf(" (%s is not root): log in as root or set sudo: true", c.node.User)
}

// Read reads path. A missing file is State{Exists: false}; anything but a
// regular file is an error, as replacing it could destroy something else.
func (c *Conn) Read(p string) (State, error) {
	fi, err := c.sftp.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return State{}, &Error{"read", "", fmt.Errorf("stat %s: %w%s", p, err, c.rootHint(err))}
	}
	if !fi.Mode().IsRegular() {
		kind := "not a regular file"
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			kind = "a symbolic link"
		case fi.IsDir():
			kind = "a directory"
		}
		return State{}, &Error{"read", failure.Refused, fmt.Errorf("%s is %s; refusing to replace it (point path at the real file)", p, kind)}
	}
	if fi.Size() > MaxSize {
		return State{}, &Error{"read", failure.Refused, fmt.Errorf("%s is %d bytes, larger than any service_tokens file: point path at the service_tokens file", p, fi.Size())}
	}
	f, err := c.sftp.Open(p)
	if err != nil {
		return State{}, &Error{"read", "", fmt.Errorf("open %s: %w%s", p, err, c.rootHint(err))}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return State{}, &Error{"read", "", fmt.Errorf("read %s: %w", p, err)}
	}
	st := fi.Sys().(*sftp.FileStat)
	return State{Exists: true, Data: data, SHA256: digest.SHA256(data), UID: int(st.UID), GID: int(st.GID), Mode: fi.Mode().Perm()}, nil
}

// Attrs are what a written file must carry; -1 leaves owner or group as
// the server creates them.
type Attrs struct {
	UID, GID int
	Mode     fs.FileMode
}

// CanSet reports, before anything is written, whether this session may give
// a file these attributes, and if not, how to fix that.
func (c *Conn) CanSet(a Attrs) error {
	if !c.identityKnown || c.uid == 0 {
		return nil // unknown: the chown of the temporary file will tell
	}
	need := ""
	if a.UID >= 0 && a.UID != c.uid {
		need = fmt.Sprintf("owner %s (uid %d)", c.UserName(a.UID), a.UID)
	} else if a.GID >= 0 && !containsInt(c.gids, a.GID) {
		need = fmt.Sprintf("group %s (gid %d)", c.GroupName(a.GID), a.GID)
	}
	if need == "" {
		return nil
	}
	return &Error{"permission", failure.Permission, fmt.Errorf("setting %s needs root on the node, and %s is uid %d: log in as root, or set sudo: true", need, c.node.User, c.uid)}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TempName is the temporary file Replace writes next to target.
func TempName(target string) string {
	var b [6]byte
	rand.Read(b[:])
	dir, base := path.Split(target)
	return dir + "." + base + ".es-service-tokens-" + hex.EncodeToString(b[:]) + ".tmp"
}

// ErrNoPosixRename is a server that cannot replace a file atomically.
var ErrNoPosixRename = errors.New("the node's SFTP server lacks posix-rename@openssh.com, so the file cannot be replaced atomically; refusing to write it non-atomically (use OpenSSH's sftp-server)")

// Replace writes data to tmp, then renames it over target. beforeRename,
// if not nil, runs last and may still call the replacement off. On failure
// Replace removes tmp if the connection still allows; when it reports
// leftTemp the caller must remove tmp over a new connection.
func (c *Conn) Replace(target, tmp string, data []byte, a Attrs, beforeRename func() error) (leftTemp bool, err error) {
	if _, ok := c.sftp.HasExtension("posix-rename@openssh.com"); !ok {
		return false, &Error{"write", failure.Refused, ErrNoPosixRename}
	}
	f, err := c.sftp.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		if _, serr := c.sftp.Stat(path.Dir(target)); errors.Is(serr, fs.ErrNotExist) {
			return false, &Error{"write", failure.RemoteIO, fmt.Errorf("the directory %s does not exist on the node: is Elasticsearch installed there, and is path right?", path.Dir(target))}
		}
		return false, &Error{"write", "", fmt.Errorf("create %s: %w%s%s", tmp, err, c.rootHint(err), c.diagnose(path.Dir(target), len(data)))}
	}
	defer func() {
		if err != nil {
			f.Close()
			if rmErr := c.sftp.Remove(tmp); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
				leftTemp = true
			}
		}
	}()
	// The file is created with the server's umask; tighten it before any
	// hash is written into it.
	if err = f.Chmod(0o600); err != nil {
		return false, &Error{"write", "", fmt.Errorf("chmod %s: %w", tmp, err)}
	}
	if _, err = f.Write(data); err != nil {
		return false, &Error{"write", "", fmt.Errorf("write %s: %w%s", tmp, err, c.diagnose(path.Dir(target), len(data)))}
	}
	if _, ok := c.sftp.HasExtension("fsync@openssh.com"); ok {
		if err = f.Sync(); err != nil {
			return false, &Error{"write", "", fmt.Errorf("fsync %s: %w", tmp, err)}
		}
	}
	if a.UID >= 0 || a.GID >= 0 {
		if err = f.Chown(a.UID, a.GID); err != nil {
			return false, &Error{"write", failure.Permission, fmt.Errorf("chown %s: %w; setting owner and group needs root on the node: log in as root, or set sudo: true", tmp, err)}
		}
	}
	// After chown, which may clear mode bits.
	if err = f.Chmod(a.Mode); err != nil {
		return false, &Error{"write", "", fmt.Errorf("chmod %s: %w", tmp, err)}
	}
	if err = f.Close(); err != nil {
		return false, &Error{"write", "", fmt.Errorf("close %s: %w", tmp, err)}
	}
	if beforeRename != nil {
		if err = beforeRename(); err != nil {
			return false, err
		}
	}
	if err = c.sftp.PosixRename(tmp, target); err != nil {
		return false, &Error{"write", "", fmt.Errorf("rename %s over %s: %w", tmp, target, err)}
	}
	c.syncDir(path.Dir(target))
	return false, nil
}

// diagnose explains a failed create or write. OpenSSH's sftp-server sends
// a bare "Failure" for a read-only or full file system; statvfs@openssh.com
// tells which.
func (c *Conn) diagnose(dir string, need int) string {
	if _, ok := c.sftp.HasExtension("statvfs@openssh.com"); !ok {
		return ""
	}
	vfs, err := c.sftp.StatVFS(dir)
	if err != nil {
		return ""
	}
	const stRdonly = 1
	switch free := vfs.Frsize * vfs.Bavail; {
	case vfs.Flag&stRdonly != 0:
		return fmt.Sprintf(" (%s is on a read-only file system)", dir)
	case free < uint64(need)+vfs.Frsize:
		return fmt.Sprintf(" (no space left on the node: %d bytes free in %s, %d needed)", free, dir, need)
	case vfs.Favail == 0:
		return fmt.Sprintf(" (no free inodes on the file system of %s)", dir)
	}
	return ""
}

// syncDir flushes the directory so the rename survives a power cut. SFTP
// has no request for it, but OpenSSH's sftp-server opens a directory
// read-only like a file and fsync@openssh.com then syncs it. Best effort:
// the rename is already visible to Elasticsearch.
func (c *Conn) syncDir(dir string) {
	if _, ok := c.sftp.HasExtension("fsync@openssh.com"); !ok {
		return
	}
	d, err := c.sftp.OpenFile(dir, os.O_RDONLY)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// SetAttrs changes owner, group and mode of an existing file in place,
// for a file whose content is already right.
func (c *Conn) SetAttrs(p string, a Attrs) error {
	if a.UID >= 0 || a.GID >= 0 {
		if err := c.sftp.Chown(p, a.UID, a.GID); err != nil {
			return &Error{"fix", "", fmt.Errorf("chown %s: %w", p, err)}
		}
	}
	if err := c.sftp.Chmod(p, a.Mode); err != nil {
		return &Error{"fix", "", fmt.Errorf("chmod %s: %w", p, err)}
	}
	return nil
}

// Remove deletes a file, for cleaning up a temporary file after a failure.
func (c *Conn) Remove(p string) error {
	err := c.sftp.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
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
