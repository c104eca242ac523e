package main

import (
	"cmp"
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	"gopkg.in/yaml.v3"
)

// The floor (-vs floor) is what any tool that reaches these nodes over SSH
// pays before it does anything: a bare client, built on the libraries the
// tool uses, that logs in to every node and, in its second row, also
// starts the node's sftp-server and closes it at once. The tool's figures
// less the floor's are what its own work on the nodes costs.
const (
	floorLogin = "login"
	floorSFTP  = "sftp"
)

// floor times the bare client on the same nodes, in the bench's own
// process started again (-floor-client).
func (t *timings) floor() set {
	self, err := os.Executable()
	if err != nil {
		t.r.Fatalf("floor: %v", err)
	}
	f := strconv.Itoa(t.cfg.concurrency)
	return set{check: []result{
		t.r.time(t.work, nil, "floor: log in", nil, self, "-floor-client", floorLogin, "-concurrency", f),
		t.r.time(t.work, nil, "floor: log in, start sftp-server", nil, self, "-floor-client", floorSFTP, "-concurrency", f),
	}}
}

// floorClient is the bare client: every node of ./cluster.yml (as the
// bench writes it), concurrency at a time.
func floorClient(mode string, concurrency int) error {
	b, err := os.ReadFile("cluster.yml")
	if err != nil {
		return err
	}
	var inv struct {
		Defaults struct {
			User         string `yaml:"user"`
			IdentityFile string `yaml:"identity_file"`
			KnownHosts   string `yaml:"known_hosts"`
		} `yaml:"defaults"`
		Nodes []struct {
			Host string `yaml:"host"`
			Port int    `yaml:"port"`
		} `yaml:"nodes"`
	}
	if err := yaml.Unmarshal(b, &inv); err != nil {
		return err
	}
	key, err := os.ReadFile(inv.Defaults.IdentityFile)
	if err != nil {
		return err
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		return err
	}
	hostKeys, err := knownhosts.New(inv.Defaults.KnownHosts)
	if err != nil {
		return err
	}
	cfg := &ssh.ClientConfig{User: inv.Defaults.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: hostKeys}
	sem := make(chan struct{}, concurrency)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for _, n := range inv.Nodes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := floorNode(fmt.Sprintf("%s:%d", n.Host, n.Port), cfg, mode); err != nil {
				mu.Lock()
				first = cmp.Or(first, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

func floorNode(addr string, cfg *ssh.ClientConfig, mode string) error {
	c, err := ssh.Dial("tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	if mode == floorLogin {
		return nil
	}
	s, err := sftp.NewClient(c)
	if err != nil {
		return err
	}
	return s.Close()
}
