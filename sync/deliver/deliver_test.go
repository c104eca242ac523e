package deliver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sshdtest"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/failure"
	"github.com/es-service-tokens/es-service-tokens/sync/fleet"
	"github.com/es-service-tokens/es-service-tokens/sync/hostkeys"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// fixture is real sshd machines for consumers, and a directory each one
// sees at the same path as this test.
type fixture struct {
	cluster *sshdtest.Cluster
	dir     string
	d       *Deliverer
}

func start(t *testing.T, machines int) *fixture {
	t.Helper()
	c := sshdtest.Start(t, sshdtest.Options{Nodes: machines, NamePrefix: "kb-"})
	dir, err := os.MkdirTemp("", "deliver-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Mkdir(filepath.Join(dir, "bin"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "bin", "kibana-keystore"), []byte(sshdtest.KibanaKeystore), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kibana.keystore"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	d := &Deliverer{Dialer: &sshconn.Dialer{HostKeys: &hostkeys.Checker{}, Auth: &sshconn.Auth{Home: dir}}, Fleet: fleet.Options{Concurrency: 4, Timeout: 20 * time.Second}}
	t.Cleanup(d.Dialer.Close)
	return &fixture{cluster: c, dir: dir, d: d}
}

// consumer makes a consumer on machine i.
func (f *fixture) consumer(i int, name string, m inventory.Method, set func(*inventory.Consumer)) *inventory.Consumer {
	n := f.cluster.Nodes[i]
	host := &inventory.Node{Name: name, Endpoint: inventory.Endpoint{Host: n.Host, Port: n.Port, User: currentUser(),
		IdentityFiles: []string{f.cluster.ClientKeyFile}, KnownHostsFiles: []string{f.cluster.KnownHostsFile},
		HostKeyCheck: inventory.HostKeyStrict, ConnectTimeout: 5 * time.Second}, Mode: inventory.DefaultConsumerMode}
	c := &inventory.Consumer{Name: name, Token: "elastic/kibana/k1", Method: m, Host: host, HealthTimeout: 5 * time.Second}
	if m == inventory.MethodKibanaKeystore {
		c.Keystore, c.Setting = filepath.Join(f.dir, "bin", "kibana-keystore"), inventory.DefaultKeystoreSetting
	}
	if set != nil {
		set(c)
	}
	return c
}

func currentUser() string {
	if os.Geteuid() == 0 {
		return "root"
	}
	return os.Getenv("USER")
}

func newBearer(t *testing.T) (string, string) {
	t.Helper()
	acct, _ := tokens.LookupAccount("elastic/kibana")
	alg, _ := tokens.ParseAlgorithm("pbkdf2_stretch_1000")
	tok, _, err := tokens.New(acct, "k1", alg, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Bearer(), tok.Secret
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// noSecret fails when the report holds the bearer or its secret.
func noSecret(t *testing.T, rep Report, bearer, secret string) {
	t.Helper()
	s := fmt.Sprintf("%+v", rep)
	if strings.Contains(s, bearer) || strings.Contains(s, secret) {
		t.Errorf("the report holds the secret: %s", s)
	}
}

// Every method stores the secret where it belongs, over one connection
// per machine, then restart and health run; an env file keeps its other
// lines and its mode.
func TestDeliverEveryMethod(t *testing.T) {
	f := start(t, 2)
	bearer, secret := newBearer(t)
	env := filepath.Join(f.dir, "kibana.env")
	os.WriteFile(env, []byte("# env\nA=1\r\nELASTICSEARCH_SERVICEACCOUNTTOKEN=old\nB=2"), 0o640)
	file, got := filepath.Join(f.dir, "fleet.token"), filepath.Join(f.dir, "from-command")
	restarted := filepath.Join(f.dir, "restarted")
	consumers := []*inventory.Consumer{
		f.consumer(0, "kibana", inventory.MethodKibanaKeystore, func(c *inventory.Consumer) {
			c.Restart = "touch " + restarted
			c.Health = "test -f " + restarted
		}),
		f.consumer(0, "app", inventory.MethodEnvFile, func(c *inventory.Consumer) {
			c.Host.Path, c.Host.Mode, c.EnvKey = env, 0, "ELASTICSEARCH_SERVICEACCOUNTTOKEN"
		}),
		f.consumer(1, "fleet", inventory.MethodFile, func(c *inventory.Consumer) { c.Host.Path = file }),
		f.consumer(1, "vault", inventory.MethodCommand, func(c *inventory.Consumer) { c.Command = "cat > " + got }),
	}
	rep := f.d.Deliver(context.Background(), consumers, bearer)
	for _, r := range rep.Results {
		if !r.OK() {
			t.Errorf("%s: %+v", r.Consumer, r)
		}
		t.Logf("%s (%s): %.2fs %v", r.Consumer, r.Method, r.Seconds, r.Phases) // the figures in docs/consumers.md
	}
	if !rep.Activated || !rep.OK() {
		t.Fatalf("report: %+v", rep)
	}
	checks := map[string]string{
		filepath.Join(f.dir, "kibana.keystore"): "elasticsearch.serviceAccountToken=" + bearer + "\n",
		env:                                     "# env\nA=1\r\nELASTICSEARCH_SERVICEACCOUNTTOKEN=" + bearer + "\nB=2",
		file:                                    bearer + "\n",
		got:                                     bearer + "\n",
	}
	for p, want := range checks {
		if s := read(t, p); s != want {
			t.Errorf("%s holds %q, want %q", filepath.Base(p), s, want)
		}
	}
	if st, _ := os.Stat(env); st.Mode().Perm() != 0o640 {
		t.Errorf("env file mode %04o, want its own 0640", st.Mode().Perm())
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %04o, want 0600", st.Mode().Perm())
	}
	if rep.Results[0].HealthAttempts != 1 {
		t.Errorf("health attempts %d", rep.Results[0].HealthAttempts)
	}
	for i, n := range f.cluster.Nodes {
		if c := strings.Count(n.Log(), "Accepted publickey"); c != 1 {
			t.Errorf("machine %d: %d logins, want 1 (one connection per machine)", i, c)
		}
	}
	noSecret(t, rep, bearer, secret)
}

// A failed write on one machine leaves every consumer unrestarted, and
// says what each store holds.
func TestFailedStoreRestartsNobody(t *testing.T) {
	f := start(t, 2)
	bearer, secret := newBearer(t)
	restarted := filepath.Join(f.dir, "restarted")
	consumers := []*inventory.Consumer{
		f.consumer(0, "good", inventory.MethodFile, func(c *inventory.Consumer) {
			c.Host.Path, c.Restart = filepath.Join(f.dir, "good.token"), "touch "+restarted
		}),
		f.consumer(1, "bad", inventory.MethodCommand, func(c *inventory.Consumer) { c.Command = "cat; echo it failed >&2; exit 3" }),
	}
	rep := f.d.Deliver(context.Background(), consumers, bearer)
	good, bad := rep.Results[0], rep.Results[1]
	if rep.Activated || good.Store != StoreNew || good.Restarted || good.Step != StepRestart {
		t.Errorf("good: %+v", good)
	}
	if bad.Store != StoreUnknown || bad.Step != StepStore || !strings.Contains(bad.Reason, "exited 3: it failed") {
		t.Errorf("bad: %+v", bad)
	}
	if _, err := os.Stat(restarted); err == nil {
		t.Error("a consumer was restarted")
	}
	noSecret(t, rep, bearer, secret)
}

// What a command prints is scrubbed of the secret before it is quoted.
func TestCommandOutputIsScrubbed(t *testing.T) {
	f := start(t, 1)
	bearer, secret := newBearer(t)
	c := f.consumer(0, "echoer", inventory.MethodCommand, func(c *inventory.Consumer) { c.Command = "cat >&2; exit 1" })
	rep := f.d.Deliver(context.Background(), []*inventory.Consumer{c}, bearer)
	if r := rep.Results[0]; !strings.Contains(r.Reason, "[secret]") {
		t.Errorf("reason %q", r.Reason)
	}
	noSecret(t, rep, bearer, secret)
}

// A health check is retried until it passes, or until its timeout.
func TestHealthRetriesUntilTimeout(t *testing.T) {
	f := start(t, 1)
	bearer, _ := newBearer(t)
	count := filepath.Join(f.dir, "count")
	slow := f.consumer(0, "slow", inventory.MethodFile, func(c *inventory.Consumer) {
		c.Host.Path = filepath.Join(f.dir, "slow.token")
		c.Health = "echo x >> " + count + "; [ $(wc -l < " + count + ") -ge 3 ]"
	})
	never := f.consumer(0, "never", inventory.MethodFile, func(c *inventory.Consumer) {
		c.Host.Path, c.Health, c.HealthTimeout = filepath.Join(f.dir, "never.token"), "false", 4*time.Second
	})
	rep := f.d.Deliver(context.Background(), []*inventory.Consumer{slow, never}, bearer)
	if r := rep.Results[0]; !r.OK() || r.HealthAttempts != 3 {
		t.Errorf("slow: %+v", r)
	}
	r := rep.Results[1]
	if r.OK() || r.Step != StepHealth || r.Failure != failure.Timeout || r.HealthAttempts < 2 || r.Store != StoreNew || !strings.Contains(r.Reason, "it holds the new secret") {
		t.Errorf("never: %+v", r)
	}
}

// A secret is never written into a file every user can read, nor through
// a symbolic link.
func TestFileGuards(t *testing.T) {
	f := start(t, 1)
	bearer, _ := newBearer(t)
	open := filepath.Join(f.dir, "open.env")
	os.WriteFile(open, []byte("A=1\n"), 0o644)
	target := filepath.Join(f.dir, "elsewhere")
	os.WriteFile(target, []byte("keep\n"), 0o600)
	link := filepath.Join(f.dir, "link.token")
	os.Symlink(target, link)
	consumers := []*inventory.Consumer{
		f.consumer(0, "open", inventory.MethodEnvFile, func(c *inventory.Consumer) { c.Host.Path, c.Host.Mode, c.EnvKey = open, 0, "T" }),
		f.consumer(0, "link", inventory.MethodFile, func(c *inventory.Consumer) { c.Host.Path = link }),
	}
	rep := f.d.Deliver(context.Background(), consumers, bearer)
	if r := rep.Results[0]; r.Store != StoreUnchanged || !strings.Contains(r.Reason, "every user of the machine could read the secret") {
		t.Errorf("open: %+v", r)
	}
	if r := rep.Results[1]; r.Store != StoreUnchanged || !strings.Contains(r.Reason, "symbolic link") {
		t.Errorf("link: %+v", r)
	}
	if read(t, open) != "A=1\n" || read(t, target) != "keep\n" {
		t.Error("a refused file changed")
	}
}

// An unreachable machine fails its consumers at connect; nothing else runs.
func TestUnreachableMachine(t *testing.T) {
	f := start(t, 1)
	bearer, _ := newBearer(t)
	c := f.consumer(0, "gone", inventory.MethodCommand, func(c *inventory.Consumer) { c.Command = "cat" })
	f.cluster.Nodes[0].Stop()
	rep := f.d.Deliver(context.Background(), []*inventory.Consumer{c}, bearer)
	if r := rep.Results[0]; r.Step != StepConnect || r.Failure != failure.Unreachable || r.Store != StoreUnchanged {
		t.Errorf("gone: %+v", r)
	}
}

// A command that prints more than is kept, then the secret across the
// cut, leaves no part of it in the reason: what could be a secret's start
// at the cut goes too.
func TestOutputCutAcrossTheSecretIsScrubbed(t *testing.T) {
	f := start(t, 1)
	bearer, secret := newBearer(t)
	at := maxOutput - len(bearer) + 3 // the cut falls just before the echoed bearer's end
	c := f.consumer(0, "long", inventory.MethodCommand, func(c *inventory.Consumer) {
		c.Command = fmt.Sprintf("{ yes junkline | head -c %d; cat; } >&2; exit 1", at)
	})
	rep := f.d.Deliver(context.Background(), []*inventory.Consumer{c}, bearer)
	r := rep.Results[0]
	if r.Store != StoreUnknown || !strings.Contains(r.Reason, "exited 1") {
		t.Fatalf("got %+v", r)
	}
	noSecret(t, rep, bearer, secret)
	if part := bearer[len(bearer)/2 : len(bearer)-3]; strings.Contains(r.Reason, part) { // the secret's part
		t.Errorf("the reason holds part of the bearer (%s): %s", part, r.Reason)
	}
}

// What a command prints is kept up to maxOutput: a consumer's command (or
// a hostile machine) printing without end cannot fill this run's memory.
func TestCommandOutputIsBounded(t *testing.T) {
	f := start(t, 1)
	bearer, _ := newBearer(t)
	c := f.consumer(0, "chatty", inventory.MethodCommand, nil)
	client, err := f.d.Dialer.Dial(context.Background(), c.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	out, err := run(context.Background(), client, "head -c 20000000 /dev/zero; head -c 20000000 /dev/zero >&2; exit 1", nil, bearer)
	var re *remoteError
	if !errors.As(err, &re) || len(out) != maxOutput {
		t.Errorf("kept %d bytes of 20 MB (want %d), err %v", len(out), maxOutput, err)
	}
}

// A consumer's file in a directory its machine does not have is named as
// such, in a consumer's words.
func TestMissingDirectory(t *testing.T) {
	f := start(t, 1)
	bearer, _ := newBearer(t)
	missing := filepath.Join(f.dir, "no-such-dir")
	c := f.consumer(0, "agent", inventory.MethodFile, func(c *inventory.Consumer) { c.Host.Path = filepath.Join(missing, "agent.token") })
	r := f.d.Deliver(context.Background(), []*inventory.Consumer{c}, bearer).Results[0]
	want := "the directory " + missing + " does not exist on " + c.Host.Host + ": create it, or fix the consumer's file path"
	if r.Store != StoreUnchanged || r.Failure != failure.RemoteIO || !strings.Contains(r.Reason, want) || strings.Contains(r.Reason, "Elasticsearch") {
		t.Errorf("got %+v\nwant %s", r, want)
	}
}

// A health check interrupted (Ctrl-C) is reported as interrupted, not as
// a timeout that never ran out: the admin is told the truth, and that the
// consumer holds the new secret.
func TestHealthInterrupted(t *testing.T) {
	f := start(t, 1)
	bearer, secret := newBearer(t)
	started := filepath.Join(f.dir, "started")
	c := f.consumer(0, "hang", inventory.MethodFile, func(c *inventory.Consumer) {
		c.Host.Path, c.HealthTimeout = filepath.Join(f.dir, "hang.token"), time.Minute
		c.Health = "touch " + started + "; sleep 60"
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// The health command is running once it made its file: cancel then.
		for {
			if _, err := os.Stat(started); err == nil {
				cancel()
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	rep := f.d.Deliver(ctx, []*inventory.Consumer{c}, bearer)
	r := rep.Results[0]
	if r.OK() || r.Step != StepHealth || r.Failure != failure.Interrupted || r.Store != StoreNew {
		t.Errorf("interrupted health: %+v", r)
	}
	if !strings.Contains(r.Reason, "interrupted") || strings.Contains(r.Reason, "ran out") || strings.Contains(r.Reason, "no success in") || !strings.Contains(r.Reason, "it holds the new secret") {
		t.Errorf("reason %q", r.Reason)
	}
	noSecret(t, rep, bearer, secret)
}
