//go:build linux

package deliver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sshdtest"
	"github.com/es-service-tokens/es-service-tokens/internal/testkit/swaptest"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
)

func TestMain(m *testing.M) {
	swaptest.Main() // the attacker of the tests below, when started as one
	os.Exit(m.Run())
}

// victimContent is shaped like /etc/shadow: no byte of it may reach a
// consumer's file or a report.
const victimContent = "estvictim:$6$VICTIMSALT$VICTIMHASH:19000:0:99999:7:::\n"

// hostile is a consumer machine's directory where a local user (the
// attacker) owns or may write some directories, and a root file it must
// not read or change (the victim).
type hostile struct {
	f        *fixture
	uid, gid int    // the attacker's
	victim   string // a root file, 0600, in a root directory
}

func startHostile(t *testing.T) *hostile {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: local users, a consumer machine")
	}
	f := start(t, 1)
	uid, gid, err := sshdtest.EnsureUser("est-attacker", "elasticsearch")
	if err != nil {
		t.Fatal(err)
	}
	vdir := filepath.Join(f.dir, "root-only")
	os.Mkdir(vdir, 0o755)
	victim := filepath.Join(vdir, "shadow")
	if err := os.WriteFile(victim, []byte(victimContent), 0o600); err != nil {
		t.Fatal(err)
	}
	return &hostile{f: f, uid: uid, gid: gid, victim: victim}
}

// dir makes a directory with owner uid, group gid and exactly mode.
func (h *hostile) dir(t *testing.T, p string, uid, gid int, mode uint32) string {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

type fileState struct {
	content  string
	uid      uint32
	mode     os.FileMode
	ctime    syscall.Timespec
	entryIno uint64
}

func stateOf(t *testing.T, p string) fileState {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	st := fi.Sys().(*syscall.Stat_t)
	return fileState{string(b), st.Uid, fi.Mode(), st.Ctim, st.Ino}
}

// noVictim fails when any regular file under dir, or the report, holds a
// byte of the victim.
func noVictim(t *testing.T, i int, dir string, rep Report) {
	t.Helper()
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			if b, uid := readNoFollow(p); strings.Contains(string(b), "VICTIM") {
				t.Errorf("delivery %d: %s holds the victim's content (owner uid %d)", i, p, uid)
			}
		}
		return nil
	})
	if s := fmt.Sprintf("%+v", rep); strings.Contains(s, "VICTIM") || strings.Contains(s, "estvictim") {
		t.Errorf("delivery %d: the report shows the victim's content: %s", i, s)
	}
}

// readNoFollow reads p unless it is a link by now: the attacker swaps
// names while the test looks, and only what the delivery wrote counts.
func readNoFollow(p string) ([]byte, uint32) {
	fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, 0
	}
	f := os.NewFile(uintptr(fd), p)
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, 0
	}
	b, _ := io.ReadAll(f)
	return b, fi.Sys().(*syscall.Stat_t).Uid
}

// A consumer's file is written only where nobody but root and the login
// can redirect the write, and takes nothing (content, owner, mode) from a
// file someone else could have swapped in: each case says why, and
// changes nothing.
func TestHostileConsumerDirectories(t *testing.T) {
	h := startHostile(t)
	bearer, secret := newBearer(t)
	base := h.f.dir
	owned := h.dir(t, filepath.Join(base, "owned"), h.uid, h.gid, 0o755)
	group := h.dir(t, filepath.Join(base, "group"), 0, h.gid, 0o2770)
	sticky := h.dir(t, filepath.Join(base, "sticky"), 0, 0, 0o1777)
	above := h.dir(t, filepath.Join(base, "above"), h.uid, h.gid, 0o755)
	below := h.dir(t, filepath.Join(above, "conf"), 0, 0, 0o755)
	write := func(p, s string, uid int) string {
		os.WriteFile(p, []byte(s), 0o640)
		os.Chown(p, uid, h.gid)
		return p
	}
	cases := []struct {
		name, path, content string
		fileUID             int
		method              inventory.Method
		set                 func(*inventory.Consumer)
		want                string // "" delivered; else a refusal's words
	}{
		{"env_file in a directory the attacker owns", filepath.Join(owned, "app.env"), "A=1\n", 0, inventory.MethodEnvFile, nil,
			owned + " is owned by est-attacker (mode 0755): whoever can write it can swap " + filepath.Join(owned, "app.env") + " for a link to another file"},
		{"env_file in a group-writable directory", filepath.Join(group, "app.env"), "A=1\n", 0, inventory.MethodEnvFile, nil,
			group + " is writable by group elasticsearch (mode 0770)"},
		{"file keeping its owner in a group-writable directory", filepath.Join(group, "agent.token"), "old\n", 0, inventory.MethodFile, nil,
			"or give the consumer owner and group, which the new file then takes instead of the old one's"},
		{"file with owner and group given, in a group-writable directory", filepath.Join(group, "given.token"), "old\n", 0, inventory.MethodFile,
			func(c *inventory.Consumer) { c.Host.Owner, c.Host.Group = "root", "elasticsearch" }, ""},
		// Sticky: others cannot move root's file, but could have put a
		// hard link to a root file at the name first.
		{"env_file of root in a sticky directory", filepath.Join(sticky, "root.env"), "A=1\n", 0, inventory.MethodEnvFile, nil,
			sticky + " is writable by others (mode 0777)"},
		{"env_file in a directory of root's", filepath.Join(base, "root.env"), "A=1\n", 0, inventory.MethodEnvFile, nil, ""},
		{"a new env_file in a directory the attacker owns", filepath.Join(owned, "new.env"), "", 0, inventory.MethodEnvFile, nil, ""},
		{"file below a directory the attacker owns", filepath.Join(below, "agent.token"), "old\n", 0, inventory.MethodFile,
			func(c *inventory.Consumer) { c.Host.Owner, c.Host.Group = "root", "root" },
			above + " is owned by est-attacker (mode 0755): whoever can write it can replace " + below + " with a link"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.content != "" {
				write(tc.path, tc.content, tc.fileUID)
			}
			c := h.f.consumer(0, "c", tc.method, func(c *inventory.Consumer) {
				c.Host.Path = tc.path
				if tc.method == inventory.MethodEnvFile {
					c.Host.Mode, c.EnvKey = 0, "T"
				}
				if tc.set != nil {
					tc.set(c)
				}
			})
			rep := h.f.d.Deliver(context.Background(), []*inventory.Consumer{c}, bearer)
			r := rep.Results[0]
			noSecret(t, rep, bearer, secret)
			if tc.want == "" {
				if !r.OK() || !strings.Contains(read(t, tc.path), bearer) {
					t.Fatalf("not delivered: %+v", r)
				}
				return
			}
			if r.Store != StoreUnchanged || r.Failure != failure.Refused || !strings.Contains(r.Reason, tc.want) {
				t.Errorf("got %+v\nwant refused: %s", r, tc.want)
			}
			if got, err := os.ReadFile(tc.path); tc.content != "" && (err != nil || string(got) != tc.content) {
				t.Errorf("the file changed: %q, %v", got, err)
			}
		})
	}
}

// The swap attack on a consumer machine, run many times, the invariant
// checked after each delivery. ES_SERVICE_TOKENS_ATTACK_DELIVERIES raises
// the count (default 60).
//
//   - content: the attacker owns the env file's directory and swaps the
//     env file between a file of its own and a link to the victim. A
//     delivery that read through the link would copy the victim's content
//     into the new env file, which the consumer's owner (the attacker)
//     may read.
//   - directory: the attacker owns the directory above the consumer's
//     file and swaps the file's directory between one of its own and a
//     link to the victim's directory. A delivery that followed it would
//     replace the victim with the bearer.
//
// Before the directory checks, both reached the victim within 60
// deliveries.
func TestSwapAttackOnConsumers(t *testing.T) {
	if testing.Short() {
		t.Skip("many deliveries against a running attacker")
	}
	runs := 60
	if s := os.Getenv("ES_SERVICE_TOKENS_ATTACK_DELIVERIES"); s != "" {
		runs, _ = strconv.Atoi(s)
	}
	t.Run("content", func(t *testing.T) { swapContent(t, runs) })
	t.Run("directory", func(t *testing.T) { swapDirectory(t, runs) })
}

func swapContent(t *testing.T, runs int) {
	h := startHostile(t)
	bearer, _ := newBearer(t)
	d := h.dir(t, filepath.Join(h.f.dir, "app"), h.uid, h.gid, 0o755)
	env := filepath.Join(d, "app.env")
	before := stateOf(t, h.victim)
	stop := swaptest.Start(t, swaptest.Spec{Live: env, Other: filepath.Join(d, ".evil"), Victim: h.victim,
		Content: []byte("A=1\n"), Mode: 0o640}, swaptest.Attacker{UID: h.uid, GID: h.gid, Dir: h.f.dir})
	c := h.f.consumer(0, "app", inventory.MethodEnvFile, func(c *inventory.Consumer) {
		c.Host.Path, c.Host.Owner, c.Host.Mode, c.EnvKey = env, "est-attacker", 0o640, "T"
	})
	counts := map[string]int{}
	for i := 1; i <= runs; i++ {
		rep := h.f.d.Deliver(context.Background(), []*inventory.Consumer{c}, bearer)
		counts[string(rep.Results[0].Store)+"/"+string(rep.Results[0].Failure)]++
		if now := stateOf(t, h.victim); now != before {
			t.Fatalf("delivery %d changed the victim", i)
		}
		noVictim(t, i, d, rep)
		if t.Failed() {
			t.Fatalf("delivery %d: %+v", i, rep.Results[0])
		}
	}
	t.Logf("%d deliveries against %s: %v", runs, stop(), counts)
}

func swapDirectory(t *testing.T, runs int) {
	h := startHostile(t)
	bearer, _ := newBearer(t)
	above := h.dir(t, filepath.Join(h.f.dir, "srv"), h.uid, h.gid, 0o755)
	vdir := filepath.Dir(h.victim)
	token := filepath.Join(vdir, "agent.token") // the name the consumer's file has
	if err := os.WriteFile(token, []byte(victimContent), 0o600); err != nil {
		t.Fatal(err)
	}
	before, beforeVictim := stateOf(t, token), stateOf(t, h.victim)
	conf := filepath.Join(above, "conf")
	stop := swaptest.Start(t, swaptest.Spec{Live: conf, Other: filepath.Join(above, ".evil"), Victim: vdir, Dir: true},
		swaptest.Attacker{UID: h.uid, GID: h.gid, Dir: h.f.dir})
	c := h.f.consumer(0, "agent", inventory.MethodFile, func(c *inventory.Consumer) {
		c.Host.Path, c.Host.Owner, c.Host.Group = filepath.Join(conf, "agent.token"), "root", "root"
	})
	counts := map[string]int{}
	for i := 1; i <= runs; i++ {
		rep := h.f.d.Deliver(context.Background(), []*inventory.Consumer{c}, bearer)
		counts[string(rep.Results[0].Store)+"/"+string(rep.Results[0].Failure)]++
		if now := stateOf(t, token); now != before {
			t.Fatalf("delivery %d replaced %s in the victim's directory: %+v", i, token, rep.Results[0])
		}
		if now := stateOf(t, h.victim); now != beforeVictim {
			t.Fatalf("delivery %d changed the victim", i)
		}
		ents, _ := os.ReadDir(vdir)
		if len(ents) != 2 {
			t.Fatalf("delivery %d left files in the victim's directory: %v", i, ents)
		}
	}
	t.Logf("%d deliveries against %s: %v", runs, stop(), counts)
}

// A local user who may only read a consumer's directory (root's, mode
// 0755, as /etc/default is) watches it and opens every file the moment its
// name appears, to read through that descriptor what is written into the
// file after. The new file is 0600 from its creation, so the reader is
// refused every time it gets there in time, and reads no bearer token.
// Without the mode on OPEN it opened 38 of 40 new files and read tokens.
func TestReaderGetsNoSecretFromANewFile(t *testing.T) {
	if testing.Short() {
		t.Skip("many deliveries against a running reader")
	}
	h := startHostile(t)
	d := h.dir(t, filepath.Join(h.f.dir, "default"), 0, 0, 0o755)
	env := filepath.Join(d, "kibana.env")
	const runs = 40
	stop := swaptest.Start(t, swaptest.Spec{Snoop: d}, swaptest.Attacker{UID: h.uid, GID: h.gid, Dir: h.f.dir})
	c := h.f.consumer(0, "kibana", inventory.MethodEnvFile, func(c *inventory.Consumer) {
		c.Host.Path, c.EnvKey = env, "ELASTICSEARCH_SERVICEACCOUNTTOKEN"
	})
	var bearers []string
	for i := 1; i <= runs; i++ {
		bearer, _ := newBearer(t)
		bearers = append(bearers, bearer)
		rep := h.f.d.Deliver(context.Background(), []*inventory.Consumer{c}, bearer)
		if r := rep.Results[0]; !r.OK() || !strings.Contains(read(t, env), bearer) {
			t.Fatalf("delivery %d: %+v", i, r)
		}
	}
	got, err := swaptest.Snooped(stop())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bearers {
		if bytes.Contains(got.Read, []byte(b)) {
			t.Fatalf("the reader opened %d of %d new files and read a bearer token through them", got.Opened, got.Tried)
		}
	}
	if got.Opened > 0 {
		t.Errorf("the reader opened %d of %d new files (their mode let it)", got.Opened, got.Tried)
	}
	// The attack must have been real: the reader reached the new files
	// while they existed (refused, not too late), in most deliveries.
	if got.Denied < runs/2 {
		t.Fatalf("the reader got to %d of %d new files in time (%d tried): too slow to prove anything", got.Denied, runs, got.Tried)
	}
	t.Logf("%d deliveries: the reader tried %d new names, was refused %d times, opened none", runs, got.Tried, got.Denied)
}
