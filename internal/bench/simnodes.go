package main

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/nodetest"
	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sftptest"
	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sshdtest"
)

// serveNodes is the simulated fleet's own process (bench -serve-nodes N):
// n in-process SSH/SFTP servers (sftptest), each on its own loopback
// address with its own host key and directory, letting in one admin key.
// It writes dir/cluster.yml, dir/known_hosts and dir/id_ed25519, prints
// "ready" and serves until its standard input closes; each line it reads
// there it answers with the connections and SFTP requests served so far.
// It runs apart from the tool so that the tool's CPU time and peak memory
// are its own.
func serveNodes(n int, dir string, latency time.Duration) error {
	tb := &nodetest.Detached{Dir: filepath.Join(dir, "servers")}
	if err := os.Mkdir(tb.Dir, 0o700); err != nil {
		return err
	}
	defer tb.Close()
	_, admin, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	block, err := ssh.MarshalPrivateKey(admin, "")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "id_ed25519"), pem.EncodeToMemory(block), 0o600); err != nil {
		return err
	}
	var inv, known strings.Builder
	var servers []*sftptest.Server
	fmt.Fprintf(&inv, "defaults:\n  user: root\n  identity_file: id_ed25519\n  known_hosts: known_hosts\n  owner: \"%d\"\n  group: \"%d\"\n  mode: \"0640\"\nnodes:\n", os.Getuid(), os.Getgid())
	for i, host := range sshdtest.LoopbackAddrs(n) {
		s := sftptest.Start(tb, sftptest.Options{Host: host, ClientKey: admin, Latency: latency})
		servers = append(servers, s)
		conf := simConf(dir, i+1)
		if err := os.MkdirAll(conf, 0o755); err != nil {
			return err
		}
		fmt.Fprintf(&inv, "  - {name: sim-%d, host: %s, port: %d, path: %s}\n", i+1, host, s.Port, filepath.Join(conf, "service_tokens"))
		known.WriteString(knownhosts.Line([]string{knownhosts.Normalize(s.Addr())}, s.HostKey.PublicKey()) + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(known.String()), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "cluster.yml"), []byte(inv.String()), 0o600); err != nil {
		return err
	}
	fmt.Println("ready")
	// Each line asks for the counts so far; the end of input stops.
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var conns, reqs int
		for _, s := range servers {
			st := s.Stats()
			conns, reqs = conns+st.Connections, reqs+st.Requests
		}
		fmt.Printf("%d %d\n", conns, reqs)
	}
	return nil
}

// simConf is simulated node i's configuration directory (1-based).
func simConf(dir string, i int) string {
	return filepath.Join(dir, "nodes", fmt.Sprintf("sim-%d", i))
}
