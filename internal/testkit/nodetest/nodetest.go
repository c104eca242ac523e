// Package nodetest gives an Example, or a test, nodes to work on without
// root or sshd: in-process SSH/SFTP servers (sftptest), each with a config
// directory of its own, as inventory nodes, and a Dialer that reaches
// them. An Example has no *testing.T: Start panics if a node cannot start,
// and Close removes everything.
package nodetest

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sftptest"
	"github.com/es-service-tokens/es-service-tokens/inventory"
	"github.com/es-service-tokens/es-service-tokens/sync/hostkeys"
	"github.com/es-service-tokens/es-service-tokens/sync/sshconn"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

// Cluster is a set of in-process nodes.
type Cluster struct {
	// Nodes log in as the current user, and want the file owned by its
	// user and group with mode 0640, which needs no root.
	Nodes  []*inventory.Node
	Dialer *sshconn.Dialer
	// Servers are the nodes' servers, for their counters and faults.
	Servers []*sftptest.Server
	tb      *Detached
}

// Start starts one node per name.
func Start(names ...string) *Cluster {
	dir, err := os.MkdirTemp("", "nodetest-")
	if err != nil {
		panic(err)
	}
	tb := &Detached{Dir: dir}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	u, err := user.Current()
	if err != nil {
		panic(err)
	}
	c := &Cluster{tb: tb, Dialer: &sshconn.Dialer{HostKeys: &hostkeys.Checker{}, Auth: &sshconn.Auth{Home: dir}}}
	for _, name := range names {
		s := sftptest.Start(tb, sftptest.Options{Users: []string{u.Username}})
		conf := tb.TempDir()
		c.Servers = append(c.Servers, s)
		c.Nodes = append(c.Nodes, &inventory.Node{
			Name: name,
			Endpoint: inventory.Endpoint{
				Alias: name, Host: s.Host, Port: s.Port, User: u.Username,
				IdentityFiles: []string{s.ClientKeyFile}, KnownHostsFiles: []string{s.KnownHostsFile},
				HostKeyCheck: inventory.HostKeyStrict, ConnectTimeout: 2 * time.Second,
			},
			Path:  filepath.Join(conf, "service_tokens"),
			Owner: strconv.Itoa(os.Getuid()), Group: strconv.Itoa(os.Getgid()), Mode: 0o640,
		})
	}
	return c
}

// Close stops the nodes and removes their directories.
func (c *Cluster) Close() {
	c.Dialer.Close()
	c.Dialer.Auth.Close()
	c.tb.Close()
}

// Detached is the testing.TB sftptest wants, for code without one (an
// Example, the benchmark's simulated fleet): it implements what sftptest
// calls, a failure panics, and TempDir makes directories under Dir.
type Detached struct {
	testing.TB // nil: only the methods below are called
	Dir        string
	cleanups   []func()
}

func (d *Detached) Helper()          {}
func (d *Detached) Cleanup(f func()) { d.cleanups = append(d.cleanups, f) }
func (d *Detached) Fatalf(format string, a ...any) {
	panic(fmt.Sprintf(format, a...))
}

func (d *Detached) TempDir() string {
	dir, err := os.MkdirTemp(d.Dir, "node-")
	if err != nil {
		panic(err)
	}
	return dir
}

// Close runs the cleanups, newest first.
func (d *Detached) Close() {
	for i := len(d.cleanups) - 1; i >= 0; i-- {
		d.cleanups[i]()
	}
	d.cleanups = nil
}

// TokenFile is a service_tokens file holding the named tokens (qualified
// names, "elastic/fleet-server/t1"), each hashed from a throwaway secret,
// as create would write it.
func TokenFile(names ...string) []byte {
	f := tokens.NewFile()
	for _, n := range names {
		secret, err := tokens.NewSecret(rand.Reader)
		if err != nil {
			panic(err)
		}
		h, err := tokens.DefaultAlgorithm.Hash(secret, rand.Reader)
		if err != nil {
			panic(err)
		}
		f.Set(n, h)
	}
	data, err := f.Marshal()
	if err != nil {
		panic(err)
	}
	return data
}

// NewToken is a new token of the service account principal (whose secret
// the caller holds, in Bearer) and a service_tokens file holding only it.
func NewToken(principal, name string) (tokens.Token, []byte) {
	acct, ok := tokens.LookupAccount(principal)
	if !ok {
		panic("no service account " + principal)
	}
	tok, hash, err := tokens.New(acct, name, tokens.DefaultAlgorithm, rand.Reader)
	if err != nil {
		panic(err)
	}
	f := tokens.NewFile()
	f.Set(tok.QualifiedName(), hash)
	data, err := f.Marshal()
	if err != nil {
		panic(err)
	}
	return tok, data
}
