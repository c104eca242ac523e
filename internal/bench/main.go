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
// negotiates.
//
// Every command is timed -rounds times (3 unless told), and the order of
// the tools alternates between rounds: ours then the others, then the
// others then ours. A shared 2-core machine drifts by a tenth from one run
// to the next, and the first command after the nodes start pays for the
// start's aftermath, so one run each in a fixed order measures the drift
// and the order as much as the tools. Each command's figures are medians
// over the rounds (wall time with its range; peak RSS is the highest), and
// ratios are of medians; compare them, not the absolute figures. -rounds 1
// times each command once, ours first.
//
// At scale (docs/development.md, Performance):
//
//	sudo go run ./internal/bench -nodes 20,200,1000 -vs pdsh -sshd default -kex curve25519 -stock-home -concurrency 32
//
// compares push and check with pdcp and pdsh only, on one sshd setup, and
// ends with a table of every size. -simulate 1000,10000 measures the tool
// alone against in-process SSH/SFTP servers run by a child process (see
// simnodes.go), and -rtt counts the round trips a node costs.
package main

import (
	"bytes"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	baseBin string // -baseline's build
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
	seconds float64 // the median over the rounds (see summarize)
	lo, hi  float64 // the fastest and slowest round
	rounds  int
	maxRSS  int64   // KiB, of the command itself (for ours: the one process)
	cpu     float64 // user+system seconds of the command and its children
	machine float64 // busy seconds of every core meanwhile: the nodes' work too
	ok      bool
	note    string
}

// config is what a run of the benchmark compares.
type config struct {
	tokens      int
	concurrency int      // every tool's fan-out
	also        []int    // more fan-outs, ours only
	vs          []string // other tools: "ansible", "pdsh" (pdcp and pdsh)
	sshd        []bool   // internal-sftp or not, one cluster each
	kex         []bool   // OpenSSH tools with curve25519 only, or their default too
	stockHome   bool     // nodes' root home holds Debian's stock start-up files
	rounds      int      // times each command is timed, the tools' order alternating
	baseline    string   // a git revision of the tool, timed beside this checkout's on the same nodes
}

func main() {
	nodesFlag := flag.String("nodes", "10,50", "comma-separated cluster sizes")
	tokensFlag := flag.Int("tokens", 20, "tokens in the pushed file")
	concurrency := flag.Int("concurrency", 16, "nodes at once, for every tool (-f of ansible, pdsh, pdcp)")
	also := flag.String("also-concurrency", "", "time es-service-tokens again at these concurrencies (e.g. 32,64), on the same nodes")
	vs := flag.String("vs", "ansible,pdsh", "tools to time beside es-service-tokens: ansible, pdsh (pdcp and pdsh), floor (a bare client: log in, and start SFTP); none for ours only")
	sshdFlag := flag.String("sshd", "default,internal", "sshd's SFTP: default (sftp-server through the login shell), internal (internal-sftp), or both")
	kexFlag := flag.String("kex", "default,curve25519", "OpenSSH tools' key exchange: default, curve25519 (what x/crypto/ssh negotiates), or both")
	stockHome := flag.Bool("stock-home", false, "nodes' root logs in to a home with Debian's stock start-up files, not this machine's")
	rounds := flag.Int("rounds", 3, "time every command this many times, the tools' order alternating; report medians")
	baseline := flag.String("baseline", "", "also time es-service-tokens built from this git revision (e.g. main~1), on the same nodes, order alternating: a change's cost")
	oursOnly := flag.Bool("ours-only", false, "time es-service-tokens only (no Ansible, pdsh)")
	confirm := flag.String("confirm", "", "instead: measure Elasticsearch confirmation with these reload intervals (e.g. 1s,5s)")
	runs := flag.Int("runs", 10, "with -confirm: creates per interval")
	simulate := flag.String("simulate", "", "instead: measure es-service-tokens alone on simulated nodes, these fleet sizes (e.g. 1000,10000)")
	rtt := flag.Duration("rtt", 0, "with -simulate: also count round trips per node, with answers this late (e.g. 25ms)")
	serve := flag.Int("serve-nodes", 0, "(internal) serve this many simulated nodes")
	floorMode := flag.String("floor-client", "", "(internal) be the floor's bare client: log in to every node of ./cluster.yml (login), and start SFTP (sftp)")
	simDir := flag.String("sim-dir", "", "(internal) the simulated nodes' directory")
	latency := flag.Duration("latency", 0, "(internal) the simulated nodes' answers come this late")
	flag.Parse()
	if *floorMode != "" {
		if err := floorClient(*floorMode, *concurrency); err != nil {
			fmt.Fprintln(os.Stderr, "bench: floor:", err)
			os.Exit(1)
		}
		return
	}
	if *serve > 0 {
		if err := serveNodes(*serve, *simDir, *latency); err != nil {
			fmt.Fprintln(os.Stderr, "bench: simulated nodes:", err)
			os.Exit(1)
		}
		return
	}
	if *rounds < 1 {
		fmt.Fprintf(os.Stderr, "bench: -rounds %d: give 1 or more\n", *rounds)
		os.Exit(1)
	}
	r := newRunner()
	defer r.finish()
	cfg := config{tokens: *tokensFlag, concurrency: *concurrency, stockHome: *stockHome, rounds: *rounds, baseline: *baseline,
		vs: words(*vs, "none"), sshd: choices(*sshdFlag, "internal"), kex: choices(*kexFlag, "curve25519")}
	if *oursOnly || *confirm != "" || *simulate != "" {
		cfg.vs = nil
	}
	needRoot := *simulate == ""
	if needRoot && os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: run as root (sudo go run ./internal/bench): nodes need their own /etc/elasticsearch")
		os.Exit(1)
	}
	if *also != "" {
		cfg.also = sizes(r, *also)
	}
	if cfg.baseline != "" {
		r.buildBaseline(cfg.baseline)
	}
	checkTools(cfg.vs)
	switch {
	case *simulate != "":
		r.simulate(sizes(r, *simulate), append([]int{*concurrency}, cfg.also...))
		if *rtt > 0 {
			r.roundTrips(10, *rtt)
		}
	case *confirm != "":
		r.confirmRuns(sizes(r, *nodesFlag), *confirm, *runs)
	default:
		var rows []scaleRow
		for _, n := range sizes(r, *nodesFlag) {
			for _, internal := range cfg.sshd {
				rows = append(rows, r.bench(n, cfg, internal))
			}
		}
		scaleTable(rows, cfg.rounds)
	}
}

// newRunner makes the benchmark's directory and builds the tool into it.
func newRunner() *runner {
	dir, err := os.MkdirTemp("", "es-service-tokens-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	r := &runner{dir: dir}
	r.Cleanup(func() { os.RemoveAll(dir) })
	r.bin = filepath.Join(dir, "es-service-tokens")
	if out, err := exec.Command("go", "build", "-o", r.bin, "./cmd/es-service-tokens").CombinedOutput(); err != nil {
		r.Fatalf("build: %v\n%s", err, out)
	}
	return r
}

// buildBaseline builds the tool as it was at rev, in a throwaway git
// worktree, beside this checkout's build.
func (r *runner) buildBaseline(rev string) {
	src := filepath.Join(r.dir, "baseline-src")
	if out, err := exec.Command("git", "worktree", "add", "--detach", src, rev).CombinedOutput(); err != nil {
		r.Fatalf("-baseline %s: %v\n%s", rev, err, out)
	}
	remove := func() { exec.Command("git", "worktree", "remove", "--force", src).Run() }
	r.Cleanup(remove) // also when the build fails: Fatalf runs the cleanups
	defer remove()
	r.baseBin = filepath.Join(r.dir, "es-service-tokens-baseline")
	cmd := exec.Command("go", "build", "-o", r.baseBin, "./cmd/es-service-tokens")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		r.Fatalf("-baseline %s: build: %v\n%s", rev, err, out)
	}
}

// checkTools stops the benchmark before any node starts when a tool it
// compares against is missing.
func checkTools(vs []string) {
	need := map[string][]string{"ansible": {"ansible"}, "pdsh": {"pdsh", "pdcp"}, "floor": nil}
	for _, v := range vs {
		tools, ok := need[v]
		if !ok {
			fmt.Fprintf(os.Stderr, "bench: -vs %s: give ansible, pdsh, floor or none\n", v)
			os.Exit(1)
		}
		for _, tool := range tools {
			if _, err := exec.LookPath(tool); err != nil {
				fmt.Fprintf(os.Stderr, "bench: %s not found: apt-get install ansible pdsh\n", tool)
				os.Exit(1)
			}
		}
	}
}

func (r *runner) confirmRuns(ns []int, confirm string, runs int) {
	var ivs []time.Duration
	for _, v := range strings.Split(confirm, ",") {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			r.Fatalf("bad -confirm %q", v)
		}
		ivs = append(ivs, d)
	}
	for _, n := range ns {
		r.confirmBench(n, runs, ivs)
	}
}

func sizes(r *runner, list string) []int {
	var ns []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			r.Fatalf("bad size %q", f)
		}
		ns = append(ns, n)
	}
	return ns
}

// words splits a comma list, without the word that means "nothing".
func words(list, none string) []string {
	var w []string
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f != "" && f != none {
			w = append(w, f)
		}
	}
	return w
}

// choices maps a comma list of two choices to booleans: the word yes is
// true, any other false.
func choices(list, yes string) []bool {
	var c []bool
	for _, w := range words(list, "") {
		c = append(c, w == yes)
	}
	return c
}

func (r *runner) bench(n int, cfg config, internalSFTP bool) scaleRow {
	sftp := "Debian's default: sftp-server started through the login shell"
	if internalSFTP {
		sftp = "Subsystem sftp internal-sftp: no shell for SFTP"
	}
	home := ""
	if cfg.stockHome {
		home = "; root's home: Debian's stock start-up files"
	}
	medians := ""
	if cfg.rounds > 1 {
		medians = fmt.Sprintf("; medians of %d rounds, tools' order alternating", cfg.rounds)
	}
	fmt.Printf("\n== %d nodes, %d tokens, %d at a time; sshd: %s%s%s ==\n", n, cfg.tokens, cfg.concurrency, sftp, home, medians)
	defer r.finishFrom(len(r.cleanup)) // this cluster only
	c := sshdtest.Start(r, sshdtest.Options{Nodes: n, Node: func(_ int, o *sshdtest.NodeOptions) {
		o.InternalSFTP, o.StockRootHome = internalSFTP, cfg.stockHome
	}})
	fmt.Printf("%d sshd nodes started in %.1fs\n", n, c.StartSeconds)
	r.cluster = c
	work := r.TempDir()
	writeTokens(r, filepath.Join(work, "service_tokens"), cfg.tokens)
	writeFile(r, filepath.Join(work, "cluster.yml"), r.inventory())
	writeFile(r, filepath.Join(work, "ssh_config"), r.sshConfig())
	cfgFile := filepath.Join(work, "ssh_config")
	writeFile(r, filepath.Join(work, "hosts.yml"), r.ansibleInventory("-F "+cfgFile))
	writeFile(r, filepath.Join(work, "hosts-kex.yml"), r.ansibleInventory("-F "+cfgFile+" -o KexAlgorithms=curve25519-sha256"))
	t := &timings{r: r, work: work, n: n, cfg: cfg}
	var rounds []set
	for k := range cfg.rounds {
		t.round = k
		// Whoever goes first pays for what came before (the nodes' start,
		// the last round), and the machine drifts meanwhile: alternate.
		// Each tool's commands stay together, so that its no-op push and
		// check find the file its own push left.
		var ours, others set
		if k%2 == 0 {
			ours, others = t.ours(), t.others()
		} else {
			others, ours = t.others(), t.ours()
		}
		if cfg.rounds > 1 {
			fmt.Fprintf(os.Stderr, "bench: %d nodes, round %d of %d done\n", n, k+1, cfg.rounds)
		}
		rounds = append(rounds, ours.add(others))
	}
	sum := summarize(rounds)
	report("push, first (file missing on every node)", sum.push)
	report("push, no-op (every node already right)", sum.noop)
	report("check (drift), read-only", sum.check)
	return sum.row(n, internalSFTP)
}

// timings times one cluster's commands.
type timings struct {
	r     *runner
	work  string
	n     int
	cfg   config
	round int // the round under way, from 0
}

// set is timed commands by kind, in the same order every round: ours, then
// the others'.
type set struct{ push, noop, check []result }

func (s set) add(o set) set {
	return set{append(s.push, o.push...), append(s.noop, o.noop...), append(s.check, o.check...)}
}

// summarize makes one result per command out of every round's: medians of
// wall, client and machine CPU time, which one round slowed by drift or by
// its place does not move, the range of wall times, and the highest peak RSS.
func summarize(rounds []set) set {
	each := func(kind func(set) []result) []result {
		var out []result
		for i := range kind(rounds[0]) {
			var xs []result
			for _, s := range rounds {
				xs = append(xs, kind(s)[i])
			}
			out = append(out, combine(xs))
		}
		return out
	}
	return set{
		each(func(s set) []result { return s.push }),
		each(func(s set) []result { return s.noop }),
		each(func(s set) []result { return s.check }),
	}
}

// combine is one command's rounds as one result; the note is the first
// failure's.
func combine(xs []result) result {
	c := xs[0]
	var wall, cpu, machine []float64
	for _, x := range xs {
		wall, cpu, machine = append(wall, x.seconds), append(cpu, x.cpu), append(machine, x.machine)
		c.maxRSS = max(c.maxRSS, x.maxRSS)
		if c.ok && !x.ok {
			c.ok, c.note = false, x.note
		}
	}
	c.seconds, c.cpu, c.machine = median(wall), median(cpu), median(machine)
	c.lo, c.hi, c.rounds = slices.Min(wall), slices.Max(wall), len(xs)
	return c
}

// median of v; v is not changed.
func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (t *timings) ours() set {
	if t.cfg.baseline == "" {
		return t.build("es-service-tokens", t.r.bin)
	}
	// The baseline's place alternates with this checkout's, as the tools'
	// does; its rows always come after, so that rounds line up.
	base := "baseline " + t.cfg.baseline
	if t.round%2 == 0 {
		s := t.build("es-service-tokens", t.r.bin)
		return s.add(t.build(base, t.r.baseBin))
	}
	b := t.build(base, t.r.baseBin)
	return t.build("es-service-tokens", t.r.bin).add(b)
}

// build times one build of the tool: its push of a fresh file, its no-op
// push and its check, and the same again at each extra fan-out.
func (t *timings) build(name, bin string) set {
	var s set
	argv := func(cmd string) []string {
		return []string{bin, "-i", "cluster.yml", "--file", "service_tokens", cmd, "--concurrency", strconv.Itoa(t.cfg.concurrency)}
	}
	// First pushes: every node starts without the file.
	s.push = append(s.push, t.r.time(t.work, nil, name+" push", t.r.reset, argv("push")...))
	s.noop = append(s.noop, t.r.time(t.work, nil, name+" push", nil, argv("push")...))
	s.check = append(s.check, t.r.time(t.work, nil, name+" check", nil, argv("check")...))
	for _, c := range t.cfg.also {
		label := fmt.Sprintf(" (%d at a time)", c)
		more := []string{"--concurrency", strconv.Itoa(c)}
		s.push = append(s.push, t.r.time(t.work, nil, name+" push"+label, t.r.reset, append(argv("push"), more...)...))
		s.check = append(s.check, t.r.time(t.work, nil, name+" check"+label, nil, append(argv("check"), more...)...))
	}
	return s
}

// others times every other tool, per key exchange.
func (t *timings) others() set {
	var s set
	for _, kex := range t.cfg.kex {
		if slices.Contains(t.cfg.vs, "ansible") {
			s = s.add(t.ansible(kex))
		}
		if slices.Contains(t.cfg.vs, "pdsh") {
			s = s.add(t.pdsh(kex))
		}
	}
	if slices.Contains(t.cfg.vs, "floor") {
		s = s.add(t.floor())
	}
	return s
}

func kexLabel(kex bool) string {
	if kex {
		return " (curve25519)"
	}
	return ""
}

func (t *timings) ansible(kex bool) set {
	inv := "hosts.yml"
	if kex {
		inv = "hosts-kex.yml"
	}
	argv := func(module, args string) []string {
		return []string{"ansible", "all", "-i", inv, "-f", strconv.Itoa(t.cfg.concurrency), "-m", module, "-a", args}
	}
	path := sshdtest.ConfPath + "/service_tokens"
	copyArgs := fmt.Sprintf("src=service_tokens dest=%s owner=root group=elasticsearch mode=0660", path)
	label := kexLabel(kex)
	return set{
		push:  []result{t.r.time(t.work, nil, "ansible -m copy"+label, t.r.reset, argv("copy", copyArgs)...)},
		noop:  []result{t.r.time(t.work, nil, "ansible -m copy"+label, nil, argv("copy", copyArgs)...)},
		check: []result{t.r.time(t.work, nil, "ansible -m stat"+label, nil, argv("stat", "path="+path+" checksum_algorithm=sha256")...)},
	}
}

func (t *timings) pdsh(kex bool) set {
	extra := "-F " + filepath.Join(t.work, "ssh_config")
	if kex {
		extra += " -o KexAlgorithms=curve25519-sha256"
	}
	env := []string{"PDSH_RCMD_TYPE=ssh", "PDSH_SSH_ARGS_APPEND=" + extra}
	hosts := fmt.Sprintf("es-[1-%d]", t.n)
	f := strconv.Itoa(t.cfg.concurrency)
	path := sshdtest.ConfPath + "/service_tokens"
	label := kexLabel(kex)
	return set{
		push:  []result{t.r.time(t.work, env, "pdcp"+label, t.r.reset, "pdcp", "-l", "root", "-f", f, "-w", hosts, "service_tokens", path)},
		check: []result{t.r.time(t.work, env, "pdsh sha256sum"+label, nil, "pdsh", "-l", "root", "-f", f, "-w", hosts, "sha256sum", path)},
	}
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
	busy := machineBusy()
	start := time.Now()
	err := cmd.Run()
	secs := time.Since(start).Seconds()
	res := result{name: name, seconds: secs, lo: secs, hi: secs, rounds: 1, ok: err == nil, machine: machineBusy() - busy}
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
		span := ""
		if x.rounds > 1 {
			span = fmt.Sprintf(" (%.2f-%.2f)", x.lo, x.hi)
		}
		fmt.Printf("  %-36s %7.2fs%s  %5.1fx  client CPU %5.2fs  machine CPU %6.2fs%s %s\n", x.name, x.seconds, span, x.seconds/base, x.cpu, x.machine, mem, x.note)
	}
}

// machineBusy is the seconds every core of the machine has been busy
// (not idle, not waiting for I/O) since boot, from /proc/stat: a command's
// share of it includes the sshd, shells and sftp-servers it made the nodes
// run, which its own CPU time does not. 0 where there is no /proc.
func machineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	busy := 0.0
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is in user already
			continue
		}
		n, _ := strconv.ParseFloat(v, 64)
		busy += n
	}
	return busy / 100 // USER_HZ
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
