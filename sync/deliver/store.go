package deliver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/internal/safetext"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/remotefile"
)

// store writes bearer into c's store by its method and records the
// outcome in r.
func (d *Deliverer) store(ctx context.Context, client *ssh.Client, c *inventory.Consumer, bearer string, r *Result) {
	start := time.Now()
	sctx, cancel := d.stepContext(ctx)
	defer cancel()
	var st Store
	var err error
	switch c.Method {
	case inventory.MethodKibanaKeystore:
		st, err = storeKeystore(sctx, client, c, bearer)
	case inventory.MethodFile:
		st, err = storeFile(sctx, client, c, []byte(bearer+"\n"), nil)
	case inventory.MethodEnvFile:
		st, err = storeFile(sctx, client, c, nil, func(old []byte) ([]byte, error) { return setEnv(old, c.EnvKey, bearer) })
	case inventory.MethodCommand:
		st, err = storeCommand(sctx, client, c, bearer)
	default:
		st, err = StoreUnchanged, fmt.Errorf("unknown delivery method %q", safetext.Input(c.Method))
	}
	r.Store = st
	r.Phases = append(r.Phases, Phase{StepStore, time.Since(start).Seconds()})
	if err != nil {
		r.Step = StepStore
		kind, reason := failure.Describe(sctx, err)
		r.Failure, r.Reason = kind, scrub(reason.String(), bearer)
	}
}

// storeKeystore runs `kibana-keystore add --stdin --force SETTING` (through
// sudo -n when the consumer has sudo), the bearer on its standard input,
// then `kibana-keystore list` to see the setting there: kibana-keystore
// exits 0 even when it finds no keystore to add to.
func storeKeystore(ctx context.Context, client *ssh.Client, c *inventory.Consumer, bearer string) (Store, error) {
	prog := shellQuote(c.Keystore)
	if c.Host.Sudo {
		prog = "sudo -n -- " + prog
	}
	add := prog + " add --stdin --force " + shellQuote(c.Setting)
	if _, err := run(ctx, client, add, []byte(bearer), bearer); err != nil {
		return StoreUnknown, keystoreError(err, c, "add")
	}
	out, err := run(ctx, client, prog+" list", nil, bearer)
	if err != nil {
		return StoreUnknown, keystoreError(err, c, "list")
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(l) == c.Setting {
			return StoreNew, nil
		}
	}
	return StoreUnknown, failure.New(failure.RemoteIO, fmt.Errorf("%s add exited 0 but %s list does not show %s: is there a keystore (kibana-keystore create)?", c.Keystore, c.Keystore, c.Setting))
}

// keystoreError explains a failed kibana-keystore command.
func keystoreError(err error, c *inventory.Consumer, sub string) error {
	var re *remoteError
	if errors.As(err, &re) && c.Host.Sudo && strings.Contains(re.stderr, "sudo:") {
		return failure.New(failure.Permission, fmt.Errorf("`sudo -n %s %s` failed: %s; allow it without a password (sudoers: %s ALL=(root) NOPASSWD: %s) or log in as root",
			c.Keystore, sub, re.stderr, c.Host.User, c.Keystore))
	}
	return fmt.Errorf("%s %s: %w", c.Keystore, sub, err)
}

// storeCommand runs the consumer's command with the bearer and a newline
// on its standard input; exit 0 means it took it.
func storeCommand(ctx context.Context, client *ssh.Client, c *inventory.Consumer, bearer string) (Store, error) {
	if _, err := run(ctx, client, c.Command, []byte(bearer+"\n"), bearer); err != nil {
		return StoreUnknown, fmt.Errorf("command: %w", err)
	}
	return StoreNew, nil
}

// storeFile replaces c's file over SFTP as a node's file is replaced: a
// temporary file beside it, flushed, owner, group and mode set, renamed
// over it, read back. data is the new content, or edit makes it from the
// old one (an env_file keeps every other line).
func storeFile(ctx context.Context, client *ssh.Client, c *inventory.Consumer, data []byte, edit func([]byte) ([]byte, error)) (Store, error) {
	n := c.Host
	conn, err := remotefile.Open(client, n)
	if err != nil {
		return StoreUnchanged, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, conn.Close)
	defer stop()
	// Nothing is written through a directory someone else could swap.
	if err := conn.TrustDir(path.Dir(n.Path)); err != nil {
		if errors.Is(err, fs.ErrNotExist) { // not a node: its words would be wrong
			err = failure.New(failure.RemoteIO, fmt.Errorf("the directory %s does not exist on %s: create it, or fix the consumer's %s path", path.Dir(n.Path), n.Host, c.Method))
		}
		return StoreUnchanged, err
	}
	old, err := conn.Read(n.Path)
	if err != nil {
		return StoreUnchanged, err
	}
	if takesFromOld(conn.Target(), old, edit != nil) {
		// The new file takes content, owner or mode from the one read:
		// only if nobody else could have swapped it for a link meanwhile.
		if err := conn.TrustEntry(n.Path); err != nil {
			if edit == nil {
				err = fmt.Errorf("%w (or give the consumer owner and group, which the new file then takes instead of the old one's)", err)
			}
			return StoreUnchanged, err
		}
	}
	want := fileTarget(conn.Target(), old)
	if err := checkSecretMode(n.Path, want); err != nil {
		return StoreUnchanged, err
	}
	if edit != nil {
		if data, err = edit(old.Data); err != nil {
			return StoreUnchanged, failure.New(failure.Refused, fmt.Errorf("%s: %w", n.Path, err))
		}
	}
	if err := conn.CanSet(want); err != nil {
		return StoreUnchanged, err
	}
	return replaceFile(conn, n.Path, data, want, old)
}

// replaceFile writes and reads back; old is the file as read before.
func replaceFile(conn *remotefile.Conn, p string, data []byte, want remotefile.Attrs, old remotefile.State) (Store, error) {
	tmp := remotefile.TempName(p)
	lastLook := func() error {
		again, err := conn.Read(p)
		if err != nil {
			return err
		}
		if again.Exists != old.Exists || again.SHA256 != old.SHA256 {
			return failure.New(failure.Conflict, fmt.Errorf("%s changed while it was being written; not replaced: deliver again", p))
		}
		return nil
	}
	leftTemp, err := conn.Replace(p, tmp, data, want, lastLook)
	if err != nil {
		if leftTemp {
			conn.Remove(tmp)
		}
		if failure.Of(err) == failure.ConnectionLost {
			return StoreUnknown, fmt.Errorf("%w; whether %s was replaced is unknown", err, p)
		}
		return StoreUnchanged, fmt.Errorf("%w; %s is unchanged", err, p)
	}
	st, err := conn.Read(p)
	conn.Flushed() // the directory's flush, alongside the read-back
	if err != nil {
		return StoreUnknown, fmt.Errorf("read-back of %s: %w", p, err)
	}
	var bad []string
	for _, m := range remotefile.Mismatches(st, want, digest.SHA256(data), conn) {
		if m.What == "content" {
			bad = append(bad, "content differs")
		} else {
			bad = append(bad, fmt.Sprintf("%s %s, expected %s", m.What, m.Seen, m.Want))
		}
	}
	if !st.Exists || len(bad) > 0 {
		return StoreUnknown, failure.New(failure.RemoteIO, fmt.Errorf("read-back of %s: %s", p, strings.Join(append(bad, missing(st)...), "; ")))
	}
	return StoreNew, nil
}

func missing(st remotefile.State) []string {
	if st.Exists {
		return nil
	}
	return []string{"the file is gone"}
}

// fileTarget is what the consumer's file must end as: what the inventory
// enforces, and where it does not, what the existing file has (0600 for
// a new file without a mode).
func fileTarget(want remotefile.Attrs, old remotefile.State) remotefile.Attrs {
	if old.Exists {
		if want.UID < 0 {
			want.UID = old.UID
		}
		if want.GID < 0 {
			want.GID = old.GID
		}
		if want.Mode == 0 {
			want.Mode = old.Mode
		}
	}
	if want.Mode == 0 {
		want.Mode = inventory.DefaultConsumerMode
	}
	return want
}

// takesFromOld reports whether the new file takes anything from the old
// one: its content (an edit), or an owner, group or mode the inventory
// leaves to the existing file.
func takesFromOld(want remotefile.Attrs, old remotefile.State, edits bool) bool {
	return old.Exists && (edits || want.UID < 0 || want.GID < 0 || want.Mode == 0)
}

// checkSecretMode refuses to put a secret in a file every user of the
// machine can read (an env_file kept at 0644).
func checkSecretMode(p string, want remotefile.Attrs) error {
	if want.Mode&0o007 != 0 {
		return failure.New(failure.Refused, fmt.Errorf("%s has mode %04o: every user of the machine could read the secret; set the consumer's mode (e.g. \"0640\"), then deliver again", p, want.Mode))
	}
	return nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
