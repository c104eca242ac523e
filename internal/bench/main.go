// Command bench times es-service-tokens against Ansible and pdsh/pdcp on
// the same real sshd nodes, in one run, and prints the ratios.
//
//	sudo go run ./internal/bench -nodes 10,50
//
// For each N it starts N sshd nodes (as the tests do), then times:
//   - push, first (every node's file missing) and no-op (all in place),
//     against `ansible all -m copy` (with owner, group, mode) and `pdcp`;
//   - check, against `ansible all -m stat` and `pdsh ... sha256sum`.
//
// Each size runs twice: with Debian's sshd default, where sftp-server (like
// every command) starts through the login shell, and with internal-sftp.
// The login shell's start-up files are a cost every tool pays per session.
//
// With -confirm 1s,5s it measures instead how long create -i waits for the
// fake Elasticsearch cluster (internal/testkit/estest) to confirm, per reload
// interval (see confirm.go).
//
// OpenSSH-based tools run twice: with OpenSSH's default key exchange and
// with -o KexAlgorithms=curve25519-sha256, which is what x/crypto/ssh
// negotiates. Timings are wall-clock seconds of one run each; compare the
// ratios, not the absolute figures: machines here are noisy.
package main

import (
	"bytes"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/es-service-tokens/es-service-tokens/internal/testkit/sshdtest"
	"github.com/es-service-tokens/es-service-tokens/tokens"
)

type runner struct {
	dir     string
	bin     string
	cluster *sshdtest.Cluster
	cleanup []func()
}

func (r *runner) Helper()                         {}
func (r *runner) Logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
func (r *runner) Cleanup(f func())                { r.cleanup = append(r.cleanup, f) }
func (r *runner) Fatalf(format string, args ...any) {
	r.finish()
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}
func (r *runner) TempDir() string {
	d, err := os.MkdirTemp(r.dir, "t-")
	if err != nil {
		r.Fatalf("%v", err)
	}
	return d
}
func (r *runner) finish() { r.finishFrom(0) }

// finishFrom runs the cleanups registered since the mark, newest first.
func (r *runner) finishFrom(mark int) {
	for i := len(r.cleanup) - 1; i >= mark; i-- {
		r.cleanup[i]()
	}
	r.cleanup = r.cleanup[:mark]
}

// result is one timed command.
type result struct {
	name    string
	seconds float64
	maxRSS  int64   // KiB, of the command itself (for ours: the one process)
	cpu     float64 // user+system seconds of the command and its children
	ok      bool
	note    string
}

func main() {
	nodesFlag := flag.String("nodes", "10,50", "comma-separated cluster sizes")
	tokensFlag := flag.Int("tokens", 20, "tokens in the pushed file")
	oursOnly := flag.Bool("ours-only", false, "time es-service-tokens only (no Ansible, pdsh)")
	confirm := flag.String("confirm", "", "instead: measure Elasticsearch confirmation with these reload intervals (e.g. 1s,5s)")
	runs := flag.Int("runs", 10, "with -confirm: creates per interval")
	flag.Parse()
	*oursOnly = *oursOnly || *confirm != ""
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: run as root (sudo go run ./internal/bench): nodes need their own /etc/elasticsearch")
		os.Exit(1)
	}
	for _, tool := range []string{"ansible", "pdsh", "pdcp"} {
		if *oursOnly {
			break
		}
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s not found: apt-get install ansible pdsh\n", tool)
			os.Exit(1)
		}
	}
	dir, err := os.MkdirTemp("", "es-service-tokens-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	r := &runner{dir: dir}
	r.Cleanup(func() { os.RemoveAll(dir) })
	defer r.finish()
	r.bin = filepath.Join(dir, "es-service-tokens")
	if out, err := exec.Command("go", "build", "-o", r.bin, "./cmd/es-service-tokens").CombinedOutput(); err != nil {
		r.Fatalf("build: %v\n%s", err, out)
	}
	for _, f := range strings.Split(*nodesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			r.Fatalf("bad -nodes %q", f)
		}
		if *confirm != "" {
			var ivs []time.Duration
			for _, v := range strings.Split(*confirm, ",") {
				d, err := time.ParseDuration(v)
				if err != nil || d <= 0 {
					r.Fatalf("bad -confirm %q", v)
				}
				ivs = append(ivs, d)
			}
			r.confirmBench(n, *runs, ivs)
			continue
		}
		for _, internal := range []bool{false, true} {
			r.bench(n, *tokensFlag, *oursOnly, internal)
		}
	}
}

func (r *runner) bench(n, ntokens int, oursOnly, internalSFTP bool) {
	sftp := "Debian's default: sftp-server started through the login shell"
	if internalSFTP {
		sftp = "Subsystem sftp internal-sftp: no shell for SFTP"
	}
	fmt.Printf("\n== %d nodes, %d tokens, 16 at a time; sshd: %s ==\n", n, ntokens, sftp)
	defer r.finishFrom(len(r.cleanup)) // this cluster only
	c := sshdtest.Start(r, sshdtest.Options{Nodes: n, Node: func(_ int, o *sshdtest.NodeOptions) { o.InternalSFTP = internalSFTP }})
	r.cluster = c
	work := r.TempDir()
	local := filepath.Join(work, "service_tokens")
	writeTokens(r, local, ntokens)
	writeFile(r, filepath.Join(work, "cluster.yml"), r.inventory())
	writeFile(r, filepath.Join(work, "ssh_config"), r.sshConfig())
	cfg := filepath.Join(work, "ssh_config")
	writeFile(r, filepath.Join(work, "hosts.yml"), r.ansibleInventory("-F "+cfg))
	writeFile(r, filepath.Join(work, "hosts-kex.yml"), r.ansibleInventory("-F "+cfg+" -o KexAlgorithms=curve25519-sha256"))
	path := sshdtest.ConfPath + "/service_tokens"
	hostlist := fmt.Sprintf("es-[1-%d]", n)

	ours := func(args ...string) []string {
		return append([]string{r.bin, "-i", "cluster.yml", "--file", "service_tokens"}, args...)
	}
	ansible := func(kex bool, module, args string) []string {
		inv := "hosts.yml"
		if kex {
			inv = "hosts-kex.yml"
		}
		return []string{"ansible", "all", "-i", inv, "-f", "16", "-m", module, "-a", args}
	}
	pdshEnv := func(kex bool) []string {
		extra := "-F " + filepath.Join(work, "ssh_config")
		if kex {
			extra += " -o KexAlgorithms=curve25519-sha256"
		}
		return []string{"PDSH_RCMD_TYPE=ssh", "PDSH_SSH_ARGS_APPEND=" + extra}
	}
	copyArgs := fmt.Sprintf("src=service_tokens dest=%s owner=root group=elasticsearch mode=0660", path)

	var push, noop, check []result
	// First pushes: every node starts without the file.
	push = append(push, r.time(work, nil, "es-service-tokens push", r.reset, ours("push")...))
	noop = append(noop, r.time(work, nil, "es-service-tokens push", nil, ours("push")...))
	check = append(check, r.time(work, nil, "es-service-tokens check", nil, ours("check")...))
	for _, kex := range []bool{false, true} {
		if oursOnly {
			break
		}
		label := ""
		if kex {
			label = " (curve25519)"
		}
		push = append(push, r.time(work, nil, "ansible -m copy"+label, r.reset, ansible(kex, "copy", copyArgs)...))
		noop = append(noop, r.time(work, nil, "ansible -m copy"+label, nil, ansible(kex, "copy", copyArgs)...))
		push = append(push, r.time(work, pdshEnv(kex), "pdcp"+label, r.reset, "pdcp", "-l", "root", "-f", "16", "-w", hostlist, "service_tokens", path))
		check = append(check, r.time(work, nil, "ansible -m stat"+label, nil, ansible(kex, "stat", "path="+path+" checksum_algorithm=sha256")...))
		check = append(check, r.time(work, pdshEnv(kex), "pdsh sha256sum"+label, nil, "pdsh", "-l", "root", "-f", "16", "-w", hostlist, "sha256sum", path))
	}
	report("push, first (file missing on every node)", push)
	report("push, no-op (every node already right)", noop)
	report("check (drift), read-only", check)
}

// reset removes every node's file, so a push starts from scratch.
func (r *runner) reset() {
	for _, n := range r.cluster.Nodes {
		os.Remove(n.HostPath())
	}
}

func (r *runner) time(dir string, env []string, name string, before func(), argv ...string) result {
	if before != nil {
		before()
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "ANSIBLE_HOST_KEY_CHECKING=True", "ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3"), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	res := result{name: name, seconds: time.Since(start).Seconds(), ok: err == nil}
	if cmd.ProcessState != nil {
		res.maxRSS = cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
		res.cpu = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	}
	if err != nil {
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		res.note = "FAILED: " + lines[len(lines)-1]
	}
	return res
}

func report(title string, rs []result) {
	fmt.Printf("\n%s\n", title)
	base := rs[0].seconds
	for _, x := range rs {
		mem := ""
		if x == rs[0] {
			mem = fmt.Sprintf("  peak RSS %.1f MiB", float64(x.maxRSS)/1024)
		}
		fmt.Printf("  %-36s %7.2fs  %5.1fx  client CPU %5.2fs%s %s\n", x.name, x.seconds, x.seconds/base, x.cpu, mem, x.note)
	}
}

func (r *runner) inventory() string {
	var b strings.Builder
	fmt.Fprintf(&b, "defaults:\n  user: root\n  identity_file: %s\n  known_hosts: %s\n  owner: root\n  group: elasticsearch\n  mode: \"0660\"\nnodes:\n",
		r.cluster.ClientKeyFile, r.cluster.KnownHostsFile)
	for _, n := range r.cluster.Nodes {
		fmt.Fprintf(&b, "  - {name: %s, host: %s, port: %d}\n", n.Name, n.Host, n.Port)
	}
	return b.String()
}

func (r *runner) sshConfig() string {
	var b strings.Builder
	for _, n := range r.cluster.Nodes {
		fmt.Fprintf(&b, "Host %s\n  HostName %s\n  Port %d\n", n.Name, n.Host, n.Port)
	}
	fmt.Fprintf(&b, "Host *\n  User root\n  IdentityFile %s\n  IdentitiesOnly yes\n  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n  BatchMode yes\n",
		r.cluster.ClientKeyFile, r.cluster.KnownHostsFile)
	return b.String()
}

func (r *runner) ansibleInventory(sshArgs string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "all:\n  vars:\n    ansible_user: root\n    ansible_ssh_common_args: '%s'\n  hosts:\n", sshArgs)
	for _, n := range r.cluster.Nodes {
		fmt.Fprintf(&b, "    %s:\n", n.Name)
	}
	return b.String()
}

func writeTokens(r *runner, path string, n int) {
	f := tokens.NewFile()
	for i := 0; i < n; i++ {
		h, err := tokens.DefaultAlgorithm.Hash(fmt.Sprintf("secret-%d-secret", i), rand.Reader)
		if err != nil {
			r.Fatalf("%v", err)
		}
		f.Set(fmt.Sprintf("elastic/fleet-server/token-%03d", i), h)
	}
	data, err := f.Marshal()
	if err != nil {
		r.Fatalf("%v", err)
	}
	writeFile(r, path, string(data))
}

func writeFile(r *runner, path, content string) {
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		r.Fatalf("%v", err)
	}
}
