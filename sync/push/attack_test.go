package push

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/digest"
	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sshdtest"
	"github.com/es-service-tokens/es-service-tokens/internal/testkit/swaptest"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/fleet"
	"github.com/es-service-tokens/es-service-tokens/sync/hostkeys"
	"github.com/es-service-tokens/es-service-tokens/sync/nodelock"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// The swap attack of issue 16: a local user of a node who can write the
// configuration directory (a member of group elasticsearch in a 2770
// package directory, or the elasticsearch user owning a tarball's config
// directory) swaps service_tokens, again and again, between a copy with
// the right content and the wrong mode and a symbolic link to a file it
// must not control. Before the fix a root push that found the copy
// repaired its attributes by path, and the link took the chown and chmod:
// the victim became root:elasticsearch 0660.
//
// The test binary doubles as the attacker (internal/testkit/swaptest).

func TestMain(m *testing.M) {
	swaptest.Main()
	os.Exit(m.Run())
}

// attackCase is one directory layout and one kind of session.
type attackCase struct {
	name     string
	login    string // the SSH user
	sudo     bool
	attacker string // the node's local user who swaps
	// The configuration directory: owner, group and mode.
	dirOwner, dirGroup string
	dirMode            uint32
	// What the inventory asks of the file.
	owner, group string
	mode         os.FileMode
	// The victim's owner and group: a file only the session's user may
	// change.
	victimOwner, victimGroup string
}

var attackCases = []attackCase{
	{name: "root/package dir root:elasticsearch 2770", login: "root", attacker: "est-attacker",
		dirOwner: "root", dirGroup: "elasticsearch", dirMode: 0o2770,
		owner: "root", group: "elasticsearch", mode: 0o660, victimOwner: "root", victimGroup: "root"},
	{name: "root/config dir owned by elasticsearch", login: "root", attacker: "elasticsearch",
		dirOwner: "elasticsearch", dirGroup: "elasticsearch", dirMode: 0o750,
		owner: "elasticsearch", group: "elasticsearch", mode: 0o600, victimOwner: "root", victimGroup: "root"},
	{name: "sudo/config dir owned by elasticsearch", login: sshdtest.DeployUser, sudo: true, attacker: "elasticsearch",
		dirOwner: "elasticsearch", dirGroup: "elasticsearch", dirMode: 0o750,
		owner: "elasticsearch", group: "elasticsearch", mode: 0o600, victimOwner: "root", victimGroup: "root"},
	{name: "plain login/package dir root:elasticsearch 2770", login: "est-plain", attacker: "est-attacker",
		dirOwner: "root", dirGroup: "elasticsearch", dirMode: 0o2770,
		owner: "est-plain", group: "elasticsearch", mode: 0o660, victimOwner: "est-plain", victimGroup: "elasticsearch"},
}

// At least 60 pushes per layout against the swap attacker, each followed
// by a look at the victim: its content, owner, mode and ctime never change
// (ctime: not even a chown to the same owner reaches it), no report shows
// a byte of it, and every report that says the node is right names the
// local file and the inventory's attributes. ES_SERVICE_TOKENS_ATTACK_PUSHES
// raises the count.
func TestSwapAttackNeverReachesTheVictim(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: nodes with their own /etc/elasticsearch, local users, nsenter")
	}
	pushes := 60
	if s := os.Getenv("ES_SERVICE_TOKENS_ATTACK_PUSHES"); s != "" {
		pushes, _ = strconv.Atoi(s)
	}
	for _, tc := range attackCases {
		t.Run(tc.name, func(t *testing.T) { runSwapAttack(t, tc, pushes) })
	}
}

func runSwapAttack(t *testing.T, tc attackCase, pushes int) {
	c := sshdtest.Start(t, sshdtest.Options{Nodes: 1, NamePrefix: "attacked-"})
	n := c.Nodes[0]
	ids := ensureUsers(t, c, tc)
	layOut(t, n.ConfDir, ids[tc.dirOwner].uid, ids[tc.dirGroup].gid, tc.dirMode)
	victim := filepath.Join(c.Dir, "victim")
	// Shaped like /etc/shadow: no byte of it may reach a report.
	writeOwned(t, victim, []byte("estvictim:$6$VICTIMSALT$VICTIMHASH:19000:0:99999:7:::\n"), 0o600, ids[tc.victimOwner].uid, ids[tc.victimGroup].gid)
	before := victimState(t, victim)

	data := tokenFile(t, 2)
	local, err := tokens.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	stop := startAttacker(t, c, n, ids[tc.attacker], victim, data)
	node := attackedNode(c, n, tc)
	p := &Pusher{
		Dialer: &sshconn.Dialer{HostKeys: &hostkeys.Checker{}, Auth: &sshconn.Auth{Home: "/nonexistent"}},
		Fleet:  fleet.Options{Timeout: 30 * time.Second, Retries: 0},
		Me:     nodelock.Holder{User: "attack-test", Host: "test", PID: os.Getpid(), Started: time.Now()},
	}
	counts := map[string]int{}
	for i := 1; i <= pushes; i++ {
		r := p.Push(context.Background(), []*inventory.Node{node}, Request{Data: data, Local: local})[0]
		counts[string(r.Status)]++
		if now := victimState(t, victim); now != before {
			t.Fatalf("push %d of %d reached the victim: %+v, was %+v; report: %+v", i, pushes, now, before, r)
		}
		checkAttackedReport(t, i, r, data, tc)
	}
	swaps := stop()
	t.Logf("%d pushes against %s: %v", pushes, swaps, counts)
	convergeAfterAttack(t, p, node, n, data, local, tc)
}

type account struct{ uid, gid int }

// ensureUsers creates the case's accounts and returns every name's ids.
func ensureUsers(t *testing.T, c *sshdtest.Cluster, tc attackCase) map[string]account {
	t.Helper()
	ids := map[string]account{"root": {0, 0}}
	for _, u := range []string{"elasticsearch", "est-attacker", "est-plain"} {
		uid, gid, err := sshdtest.EnsureUser(u, "elasticsearch")
		if err != nil {
			t.Fatal(err)
		}
		ids[u] = account{uid, gid}
	}
	uid, gid, err := sshdtest.EnsureUser(sshdtest.DeployUser, sshdtest.DeployUser)
	if err != nil {
		t.Fatal(err)
	}
	ids[sshdtest.DeployUser] = account{uid, gid}
	if tc.login == "est-plain" {
		// The cluster lets root and the deploy user in; a plain login
		// needs its own authorized_keys.
		key, err := os.ReadFile(filepath.Join(c.Dir, "authorized_keys_root"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(c.Dir, "authorized_keys_est-plain"), key, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// layOut gives dir its owner, group and mode; mode is octal as chmod(1)
// takes it (0o2770: setgid), so it goes to the system call as it is.
func layOut(t *testing.T, dir string, uid, gid int, mode uint32) {
	t.Helper()
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}

func writeOwned(t *testing.T, p string, data []byte, mode os.FileMode, uid, gid int) {
	t.Helper()
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

type fileState struct {
	content  string
	uid, gid uint32
	mode     os.FileMode
	ctime    syscall.Timespec
}

func victimState(t *testing.T, p string) fileState {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return fileState{string(b), st.Uid, st.Gid, fi.Mode(), ctime(st)}
}

// startAttacker swaps the node's service_tokens, as who, in the node's
// mount namespace (where /etc/elasticsearch is the node's): between a
// copy of content of its own (mode 0640) and a link to victim.
func startAttacker(t *testing.T, c *sshdtest.Cluster, n *sshdtest.Node, who account, victim string, content []byte) (stop func() string) {
	t.Helper()
	return swaptest.Start(t, swaptest.Spec{
		Live: filepath.Join(sshdtest.ConfPath, "service_tokens"), Other: filepath.Join(sshdtest.ConfPath, ".evil"),
		Victim: victim, Content: content, Mode: 0o640,
	}, swaptest.Attacker{UID: who.uid, GID: who.gid, Dir: c.Dir, NamespacePID: n.NamespacePID()})
}

func attackedNode(c *sshdtest.Cluster, n *sshdtest.Node, tc attackCase) *inventory.Node {
	return &inventory.Node{
		Name: n.Name,
		Endpoint: inventory.Endpoint{
			Alias: n.Name, Host: n.Host, Port: n.Port, User: tc.login,
			IdentityFiles: []string{c.ClientKeyFile}, KnownHostsFiles: []string{c.KnownHostsFile},
			HostKeyCheck: inventory.HostKeyStrict, ConnectTimeout: 10 * time.Second,
		},
		Path: n.Path(), Owner: tc.owner, Group: tc.group, Mode: tc.mode, Sudo: tc.sudo,
	}
}

// checkAttackedReport: no byte of the victim in any report, and a node
// reported right was read back right.
func checkAttackedReport(t *testing.T, i int, r Result, data []byte, tc attackCase) {
	t.Helper()
	all := fmt.Sprintf("%+v %+v", r, r.Changes)
	for _, secret := range []string{"estvictim", "VICTIM", "$6$"} {
		if strings.Contains(all, secret) {
			t.Errorf("push %d: the report shows the victim's content (%s): %s", i, secret, all)
		}
	}
	if r.Status.Verified() && (r.SHA256 != digest.SHA256(data) || r.Owner != tc.owner || r.Group != tc.group || r.Mode != fmt.Sprintf("%04o", tc.mode)) {
		t.Errorf("push %d: reported %s with sha256:%s %s:%s %s, want the local file as %s:%s %04o", i, r.Status, r.SHA256, r.Owner, r.Group, r.Mode, tc.owner, tc.group, tc.mode)
	}
}

// convergeAfterAttack: once the attacker has stopped and its link is gone
// (as an admin would remove it), a push leaves the right file.
func convergeAfterAttack(t *testing.T, p *Pusher, node *inventory.Node, n *sshdtest.Node, data []byte, local *tokens.File, tc attackCase) {
	t.Helper()
	if fi, err := os.Lstat(n.HostPath()); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		os.Remove(n.HostPath())
	}
	r := p.Push(context.Background(), []*inventory.Node{node}, Request{Data: data, Local: local})[0]
	if !r.Status.Verified() {
		t.Fatalf("after the attack: %+v", r)
	}
	got, err := os.ReadFile(n.HostPath())
	fi, _ := os.Lstat(n.HostPath())
	if err != nil || string(got) != string(data) || !fi.Mode().IsRegular() || fi.Mode().Perm() != tc.mode {
		t.Fatalf("after the attack the node holds %v (%v), want the local file with mode %04o", fi.Mode(), err, tc.mode)
	}
}
