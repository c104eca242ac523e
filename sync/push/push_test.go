package push

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sftptest"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/fleet"
	"github.com/es-service-tokens/es-service-tokens/sync/hostkeys"
	"github.com/es-service-tokens/es-service-tokens/sync/remotefile"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// These tests run the push engine against in-process SSH/SFTP servers that
// inject faults real sshd cannot: a connection cut in the middle of a
// write, a server without posix-rename, a full disk, a hung node. The
// end-to-end behaviour against real sshd is in cmd/es-service-tokens.

func tokenFile(t *testing.T, n int) []byte {
	t.Helper()
	f := tokens.NewFile()
	h, _ := tokens.DefaultAlgorithm.Hash("s3cr3t-s3cr3t", rand.Reader)
	for i := 0; i < n; i++ {
		f.Set(fmt.Sprintf("elastic/fleet-server/t%04d", i), h)
	}
	b, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// node is one fake node: a server and a directory playing its config dir.
type node struct {
	srv  *sftptest.Server
	dir  string
	node *inventory.Node
}

func newNode(t *testing.T, name string, opts sftptest.Options, old []byte) *node {
	t.Helper()
	s := sftptest.Start(t, opts)
	dir := t.TempDir()
	if old != nil {
		if err := os.WriteFile(filepath.Join(dir, "service_tokens"), old, 0o660); err != nil {
			t.Fatal(err)
		}
	}
	return &node{srv: s, dir: dir, node: &inventory.Node{
		Name: name,
		Endpoint: inventory.Endpoint{
			Alias: name, Host: s.Host, Port: s.Port, User: s.User,
			IdentityFiles: []string{s.ClientKeyFile}, KnownHostsFiles: []string{s.KnownHostsFile},
			HostKeyCheck: inventory.HostKeyStrict, ConnectTimeout: 2 * time.Second,
		},
		// The test's own user and group: a chown to them works without root.
		Path: filepath.Join(dir, "service_tokens"), Owner: strconv.Itoa(os.Getuid()), Group: strconv.Itoa(os.Getgid()), Mode: 0o640,
	}}
}

func (n *node) file(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(n.node.Path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// onlyFile asserts that no temporary file is left next to the target.
func (n *node) onlyFile(t *testing.T) {
	t.Helper()
	ents, _ := os.ReadDir(n.dir)
	if len(ents) != 1 || ents[0].Name() != "service_tokens" {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("%s: directory holds %q, want only service_tokens", n.node.Name, names)
	}
}

func pusher(timeout time.Duration) *Pusher {
	return &Pusher{
		Dialer: &sshconn.Dialer{HostKeys: &hostkeys.Checker{}, Auth: &sshconn.Auth{Home: "/nonexistent"}},
		Fleet:  fleet.Options{Timeout: timeout, Retries: 1, Backoff: 10 * time.Millisecond},
	}
}

func push(t *testing.T, p *Pusher, req Request, nodes ...*node) map[string]Result {
	t.Helper()
	var ns []*inventory.Node
	for _, n := range nodes {
		ns = append(ns, n.node)
	}
	out := map[string]Result{}
	if req.Local == nil {
		f, err := tokens.Parse(req.Data)
		if err != nil {
			t.Fatal(err)
		}
		req.Local = f
	}
	for _, r := range p.Push(context.Background(), ns, req) {
		out[r.Node] = r
	}
	return out
}

func TestHealthyNodesAreUpdatedAndVerified(t *testing.T) {
	data := tokenFile(t, 3)
	a := newNode(t, "a", sftptest.Options{Fsync: true}, nil)
	b := newNode(t, "b", sftptest.Options{}, tokenFile(t, 1))
	start := time.Now()
	res := push(t, pusher(10*time.Second), Request{Data: data}, a, b)
	for _, n := range []*node{a, b} {
		r := res[n.node.Name]
		if r.Status != Updated || r.SHA256 != digest.SHA256(data) || r.Mode != "0640" {
			t.Errorf("%s: %+v", n.node.Name, r)
		}
		// Elasticsearch confirmation counts from the rename.
		if r.Replaced.Before(start) || r.Replaced.After(time.Now()) {
			t.Errorf("%s: rename time %v not within the push", n.node.Name, r.Replaced)
		}
		if string(n.file(t)) != string(data) {
			t.Errorf("%s: content differs", n.node.Name)
		}
		n.onlyFile(t)
	}
	if a.srv.Stats().Fsyncs < 1 {
		t.Error("the server offers fsync@openssh.com but the file was not synced")
	}
	if got := res["b"].Changes; got == nil || len(got.Added) != 2 || len(got.Removed) != 0 {
		t.Errorf("changes on b = %+v, want 2 added", got)
	}
	// A second push writes nothing, not even a lock.
	before := a.srv.Stats().Writes
	again := push(t, pusher(10*time.Second), Request{Data: data}, a, b)
	if again["a"].Status != Unchanged || again["b"].Status != Unchanged || a.srv.Stats().Writes != before {
		t.Errorf("second push: %+v %+v, writes %d then %d", again["a"], again["b"], before, a.srv.Stats().Writes)
	}
	if !again["a"].Replaced.IsZero() {
		t.Errorf("an unchanged node has a rename time: %v", again["a"].Replaced)
	}
}

// A connection cut in the middle of the write leaves that node's old file
// intact and no temporary file behind; the other node is still updated.
func TestConnectionCutMidWrite(t *testing.T) {
	old := tokenFile(t, 1)
	data := tokenFile(t, 600) // ~85 KB: several SFTP write packets
	cut := newNode(t, "cut", sftptest.Options{DropAtWrite: 2, DropOnce: true}, old)
	ok := newNode(t, "ok", sftptest.Options{}, old)
	res := push(t, pusher(10*time.Second), Request{Data: data}, cut, ok)

	r := res["cut"]
	if r.Status != Failed || !strings.Contains(r.Reason.String(), "the node's file is unchanged") || !strings.Contains(r.Reason.String(), "temporary file removed") {
		t.Errorf("cut node: %+v", r)
	}
	if string(cut.file(t)) != string(old) {
		t.Error("cut node: the previous file was damaged")
	}
	cut.onlyFile(t)
	if res["ok"].Status != Updated || string(ok.file(t)) != string(data) {
		t.Errorf("healthy node: %+v", res["ok"])
	}
}

func TestServerWithoutPosixRenameIsRefused(t *testing.T) {
	old := tokenFile(t, 1)
	n := newNode(t, "old-sftp", sftptest.Options{NoPosixRename: true}, old)
	r := push(t, pusher(10*time.Second), Request{Data: tokenFile(t, 2)}, n)["old-sftp"]
	if r.Status != Failed || !strings.Contains(r.Reason.String(), "posix-rename@openssh.com") || !strings.Contains(r.Reason.String(), "non-atomically") {
		t.Errorf("result: %+v", r)
	}
	if string(n.file(t)) != string(old) {
		t.Error("the previous file changed")
	}
	n.onlyFile(t)
	if n.srv.Stats().Writes != 0 {
		t.Error("data was written although the rename could not be atomic")
	}
}

func TestFullDisk(t *testing.T) {
	old := tokenFile(t, 1)
	n := newNode(t, "full", sftptest.Options{FailWrites: true}, old)
	r := push(t, pusher(10*time.Second), Request{Data: tokenFile(t, 2)}, n)["full"]
	if r.Status != Failed || !strings.Contains(r.Reason.String(), "No space left on device") {
		t.Errorf("result: %+v", r)
	}
	if string(n.file(t)) != string(old) {
		t.Error("the previous file changed")
	}
	n.onlyFile(t)
}

// A node that accepts TCP and never answers fails within its connect
// timeout; the healthy node does not wait for it.
func TestHungNodeFailsAlone(t *testing.T) {
	host, port := sftptest.StartHung(t)
	hung := newNode(t, "hung", sftptest.Options{}, nil)
	hung.node.Host, hung.node.Port, hung.node.ConnectTimeout = host, port, 300*time.Millisecond
	ok := newNode(t, "ok", sftptest.Options{}, nil)
	data := tokenFile(t, 1)
	res := push(t, pusher(30*time.Second), Request{Data: data}, hung, ok)
	r := res["hung"]
	if r.Status != Failed || !strings.Contains(r.Reason.String(), "no SSH handshake within 300ms") {
		t.Errorf("hung node: %+v", r)
	}
	if r.Attempts != 2 {
		t.Errorf("hung node: %d attempts, want 2 (one retry: nothing was written)", r.Attempts)
	}
	if res["ok"].Status != Updated || string(ok.file(t)) != string(data) {
		t.Errorf("healthy node: %+v", res["ok"])
	}
}

// A file changed on the node by someone else is not overwritten by a
// create or delete push, unless forced.
func TestConflictIsNotOverwritten(t *testing.T) {
	before, after := tokenFile(t, 1), tokenFile(t, 2)
	edited := []byte(string(before) + "elastic/kibana/by-hand:" + strings.SplitN(strings.TrimSpace(string(before)), ":", 2)[1] + "\n")
	n := newNode(t, "edited", sftptest.Options{}, edited)
	same := newNode(t, "same", sftptest.Options{}, before)
	res := push(t, pusher(10*time.Second), Request{Data: after, Before: before}, n, same)
	r := res["edited"]
	if r.Status != Conflict || !strings.Contains(r.Reason.String(), "extra on node: elastic/kibana/by-hand") {
		t.Errorf("edited node: %+v", r)
	}
	if strings.Contains(r.Reason.String(), "PBKDF2") {
		t.Error("a hash leaked into the reason")
	}
	if string(n.file(t)) != string(edited) {
		t.Error("the edited file was overwritten")
	}
	if res["same"].Status != Updated {
		t.Errorf("node holding the old file: %+v", res["same"])
	}
	forced := push(t, pusher(10*time.Second), Request{Data: after, Before: before, Force: true}, n)["edited"]
	if forced.Status != Updated || string(n.file(t)) != string(after) {
		t.Errorf("--force: %+v", forced)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	old := tokenFile(t, 1)
	n := newNode(t, "n", sftptest.Options{}, old)
	os.Chmod(n.node.Path, 0o600)
	r := push(t, pusher(10*time.Second), Request{Data: tokenFile(t, 3), DryRun: true}, n)["n"]
	if r.Status != WouldUpdate || !strings.Contains(r.Reason.String(), "content") || !strings.Contains(r.Reason.String(), "mode 0600 -> 0640") {
		t.Errorf("dry run: %+v", r)
	}
	if r.Changes == nil || len(r.Changes.Added) != 2 {
		t.Errorf("dry run changes: %+v", r.Changes)
	}
	if string(n.file(t)) != string(old) || n.srv.Stats().Writes != 0 {
		t.Error("dry run wrote")
	}
}

// Without owner and group in the inventory, a new file gets what the
// server gives it and an existing one keeps its own.
func TestOwnerAndGroupNotEnforced(t *testing.T) {
	n := newNode(t, "n", sftptest.Options{}, nil)
	n.node.Owner, n.node.Group = "", ""
	data := tokenFile(t, 1)
	if r := push(t, pusher(10*time.Second), Request{Data: data}, n)["n"]; r.Status != Updated {
		t.Fatalf("new file: %+v", r)
	}
	if err := os.Chown(n.node.Path, 65534, 65534); err != nil {
		t.Skipf("giving the file another owner needs root: %v", err)
	}
	r := push(t, pusher(10*time.Second), Request{Data: tokenFile(t, 2)}, n)["n"]
	st, _ := os.Stat(n.node.Path)
	if r.Status != Updated || st.Sys().(*syscall.Stat_t).Uid != 65534 || st.Sys().(*syscall.Stat_t).Gid != 65534 {
		t.Errorf("existing file: %+v, owner %d:%d, want 65534:65534 kept", r, st.Sys().(*syscall.Stat_t).Uid, st.Sys().(*syscall.Stat_t).Gid)
	}
}

func TestSymlinkAndMissingDirectoryAreRefused(t *testing.T) {
	link := newNode(t, "link", sftptest.Options{}, nil)
	real := filepath.Join(link.dir, "real")
	old := tokenFile(t, 1)
	os.WriteFile(real, old, 0o640)
	os.Symlink(real, link.node.Path)
	nodir := newNode(t, "nodir", sftptest.Options{}, nil)
	nodir.node.Path = filepath.Join(nodir.dir, "missing", "service_tokens")
	res := push(t, pusher(10*time.Second), Request{Data: tokenFile(t, 2)}, link, nodir)
	if r := res["link"]; r.Status != Failed || !strings.Contains(r.Reason.String(), "is a symbolic link; refusing to replace it") {
		t.Errorf("symlink: %+v", r)
	}
	if b, _ := os.ReadFile(real); string(b) != string(old) {
		t.Error("the link's target changed")
	}
	if r := res["nodir"]; r.Status != Failed || !strings.Contains(r.Reason.String(), "missing does not exist on the node: is Elasticsearch installed there") {
		t.Errorf("missing directory: %+v", r)
	}
}

// Right content with the wrong mode is repaired by a whole new file, not
// by a chmod of the live name: whatever a local user swapped in there
// (a link to another file) would take the chmod.
func TestWrongAttributesAreFixedByANewFile(t *testing.T) {
	data := tokenFile(t, 1)
	n := newNode(t, "n", sftptest.Options{}, data)
	os.Chmod(n.node.Path, 0o644)
	before, _ := os.Stat(n.node.Path)
	r := push(t, pusher(10*time.Second), Request{Data: data}, n)["n"]
	st, _ := os.Stat(n.node.Path)
	if r.Status != Fixed || st.Mode().Perm() != 0o640 || string(n.file(t)) != string(data) {
		t.Errorf("fix: %+v, mode %v", r, st.Mode())
	}
	if os.SameFile(before, st) {
		t.Error("the file was changed in place, not replaced")
	}
	n.onlyFile(t)
}

// A long change list is cut to a few names and a count; short ones are
// listed whole; names cannot inject lines.
func TestDescribeDiffIsBounded(t *testing.T) {
	var added []string
	for i := 0; i < 3000; i++ {
		added = append(added, fmt.Sprintf("elastic/fleet-server/t%04d", i))
	}
	got := DescribeDiff(tokens.Diff{Added: added, Removed: []string{"elastic/kibana/k\nERROR: forged"}}, "adds", "removes")
	want := "adds 3,000 tokens: elastic/fleet-server/t0000, elastic/fleet-server/t0001, elastic/fleet-server/t0002, elastic/fleet-server/t0003, elastic/fleet-server/t0004 and 2,995 more; removes: elastic/kibana/k\\nERROR: forged"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := DescribeDiff(tokens.Diff{Changed: added[:ShownNames]}, "adds", "removes"); strings.Count(got, "elastic/") != ShownNames || strings.Contains(got, "more") {
		t.Errorf("a list of %d is cut: %q", ShownNames, got)
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1000: "-1,000"} {
		if got := Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// The connection dies after the node carried out the rename and before
// its reply arrived. The node is read again over a new connection and
// reported as it is: it has the new file, verified, and nothing is left.
func TestLostReplyAfterRenameIsReportedTruthfully(t *testing.T) {
	old := tokenFile(t, 1)
	data := tokenFile(t, 2)
	n := newNode(t, "lost", sftptest.Options{DropAfterRename: true}, old)
	start := time.Now()
	r := push(t, pusher(10*time.Second), Request{Data: data}, n)["lost"]
	if string(n.file(t)) != string(data) {
		t.Fatal("the rename did not happen: the fault was not injected")
	}
	if r.Status != Updated || r.SHA256 != digest.SHA256(data) || len(r.Notes) != 1 ||
		!strings.Contains(r.Notes[0].String(), "connection lost") || !strings.HasSuffix(r.Notes[0].String(), "read again over a new connection: the node has the new file") {
		t.Errorf("result: %+v", r)
	}
	if strings.Contains(r.Reason.String(), "unchanged") {
		t.Errorf("reason says unchanged although the rename happened: %q", r.Reason.String())
	}
	// Elasticsearch confirmation counts from here: it must be known.
	if r.Replaced.Before(start) || r.Replaced.After(time.Now()) {
		t.Errorf("rename time %v not within the push", r.Replaced)
	}
	n.onlyFile(t)
}

// Cut mid-write, the node keeps its old file, and says so after a new look.
func TestLostConnectionBeforeRenameSaysUnchanged(t *testing.T) {
	old := tokenFile(t, 1)
	n := newNode(t, "cut", sftptest.Options{DropAtWrite: 2, DropOnce: true}, old)
	r := push(t, pusher(10*time.Second), Request{Data: tokenFile(t, 600)}, n)["cut"]
	if r.Status != Failed || r.Failure != "connection lost" ||
		!strings.Contains(r.Reason.String(), "read again over a new connection: the node's file is unchanged; temporary file removed") {
		t.Errorf("result: %+v", r)
	}
	if string(n.file(t)) != string(old) {
		t.Error("the old file changed")
	}
	n.onlyFile(t)
}

// With backups: N, each push keeps the replaced file beside the new one,
// with its owner, group and mode, and only the newest N stay.
// A write that fails after the last look kept a backup (here the new
// file's final mode is refused) says so, names the copy, and leaves the
// node's file as it was.
func TestFailedWriteNamesTheBackupItKept(t *testing.T) {
	old := tokenFile(t, 1)
	n := newNode(t, "b", sftptest.Options{FailChmod: 0o640}, old)
	n.node.Backups = 1
	r := push(t, pusher(10*time.Second), Request{Data: tokenFile(t, 2)}, n)["b"]
	reason := r.Reason.String()
	_, kept, found := strings.Cut(reason, "a copy of the node's file was kept as ")
	if r.Status != Failed || !strings.Contains(reason, "the node's file is unchanged") || !found {
		t.Fatalf("result: %+v", r)
	}
	if got, err := os.ReadFile(filepath.Join(n.dir, kept)); err != nil || string(got) != string(old) {
		t.Errorf("the copy named (%s): %q, %v", kept, got, err)
	}
	if string(n.file(t)) != string(old) {
		t.Error("the node's file changed")
	}
}

func TestBackupsKeepThePreviousFiles(t *testing.T) {
	n := newNode(t, "b", sftptest.Options{}, tokenFile(t, 1))
	n.node.Backups = 2
	var files [][]byte
	for i := 2; i <= 5; i++ {
		files = append(files, tokenFile(t, i))
		before := n.file(t)
		r := push(t, pusher(10*time.Second), Request{Data: files[len(files)-1]}, n)["b"]
		if r.Status != Updated || len(r.Notes) == 0 || !strings.HasPrefix(r.Notes[0].String(), "previous file kept as service_tokens.") {
			t.Fatalf("push %d: %+v", i, r)
		}
		bak := filepath.Join(n.dir, strings.TrimPrefix(r.Notes[0].String(), "previous file kept as "))
		got, err := os.ReadFile(bak)
		if err != nil || string(got) != string(before) {
			t.Fatalf("push %d: backup %s holds %q, %v; want the replaced file", i, bak, got, err)
		}
		if fi, _ := os.Stat(bak); fi.Mode().Perm() != 0o640 && i > 2 {
			t.Errorf("backup mode %v", fi.Mode())
		}
	}
	ents, _ := os.ReadDir(n.dir)
	var baks []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".bak") {
			baks = append(baks, e.Name())
		}
	}
	if len(baks) != 2 {
		t.Errorf("backups left: %q, want the newest 2", baks)
	}
}

// Pusher.Inspect runs in the first look, on the push's own connection
// (one connection per node), before anything is written; its error fails
// the node with nothing written.
func TestInspectRunsBeforeAnythingIsWritten(t *testing.T) {
	old := tokenFile(t, 1)
	n := newNode(t, "n", sftptest.Options{}, old)
	p := pusher(10 * time.Second)
	var seen []string
	p.Inspect = func(ctx context.Context, c *remotefile.Conn, node *inventory.Node) error {
		seen = append(seen, node.Name)
		if _, err := c.Read(filepath.Join(n.dir, "elasticsearch.yml")); err != nil {
			return err
		}
		return errors.New("no node.name")
	}
	r := push(t, p, Request{Data: tokenFile(t, 2)}, n)["n"]
	if r.Status != Failed || !strings.Contains(r.Reason.String(), "no node.name") || len(seen) != 1 || seen[0] != "n" {
		t.Errorf("result %+v, Inspect saw %q", r, seen)
	}
	if n.srv.Stats().Writes != 0 || n.srv.Stats().Connections != 1 || string(n.file(t)) != string(old) {
		t.Errorf("stats %+v: the node was written to, or connected to twice", n.srv.Stats())
	}
}

// A connection lost after the rename, on a node that keeps backups: the
// report names the copy of the replaced file that the lost connection
// made, found again over the new one.
func TestLostReplyAfterRenameNamesTheBackup(t *testing.T) {
	old, data := tokenFile(t, 1), tokenFile(t, 2)
	n := newNode(t, "lost", sftptest.Options{DropAfterRename: true}, old)
	n.node.Backups = 1
	r := push(t, pusher(10*time.Second), Request{Data: data}, n)["lost"]
	if string(n.file(t)) != string(data) {
		t.Fatal("the rename did not happen: the fault was not injected")
	}
	var kept string
	for _, note := range r.Notes {
		if k, ok := strings.CutPrefix(note.String(), "previous file kept as "); ok {
			kept = k
		}
	}
	if r.Status != Updated || kept == "" {
		t.Fatalf("result: %+v", r)
	}
	if got, err := os.ReadFile(filepath.Join(n.dir, kept)); err != nil || string(got) != string(old) {
		t.Errorf("the copy named (%s): %q, %v; want the replaced file", kept, got, err)
	}
}

// A node whose SFTP server ignores the mode a new file is asked to be
// created with (0600) and creates it at its umask: someone on the node
// could open the file before it is made private, so nothing is written to
// it, the node is refused saying why, and nothing of this run's is left.
func TestServerIgnoringTheCreateModeIsRefused(t *testing.T) {
	old := tokenFile(t, 1)
	n := newNode(t, "lax", sftptest.Options{CreateMode: 0o644}, old)
	if sftptest.Umask()&0o044 != 0 {
		t.Skip("the test's umask would hide the server's 0644")
	}
	r := push(t, pusher(10*time.Second), Request{Data: tokenFile(t, 2)}, n)["lax"]
	reason := r.Reason.String()
	if r.Status != Failed || r.Failure != failure.Refused || !strings.Contains(reason, "with mode 0644, not the 0600 asked for") ||
		!strings.Contains(reason, "nothing was written to it") {
		t.Fatalf("result: %+v", r)
	}
	if string(n.file(t)) != string(old) {
		t.Error("the node's file changed")
	}
	n.onlyFile(t)
}
