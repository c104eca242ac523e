package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// simFleet is a running simulated fleet (serveNodes in a child process).
type simFleet struct {
	dir  string
	in   io.Writer
	out  *bufio.Reader
	stop func() // closes the child's stdin: it stops and exits
}

// counts are the connections and SFTP requests the fleet served so far.
func (f *simFleet) counts() (conns, reqs int) {
	fmt.Fprintln(f.in)
	if _, err := fmt.Fscanf(f.out, "%d %d\n", &conns, &reqs); err != nil {
		return -1, -1
	}
	return conns, reqs
}

// startSim starts n simulated nodes whose answers come rtt late, and
// waits until they listen.
func (r *runner) startSim(n int, rtt time.Duration) *simFleet {
	self, err := os.Executable()
	if err != nil {
		r.Fatalf("%v", err)
	}
	dir := r.TempDir()
	cmd := exec.Command(self, "-serve-nodes", strconv.Itoa(n), "-sim-dir", dir, "-latency", rtt.String())
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		r.Fatalf("%v", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		r.Fatalf("%v", err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		r.Fatalf("simulated nodes: %v", err)
	}
	f := &simFleet{dir: dir, in: in, out: bufio.NewReader(out), stop: func() { in.Close(); cmd.Wait() }}
	r.Cleanup(f.stop)
	if line, err := f.out.ReadString('\n'); err != nil || line != "ready\n" {
		r.Fatalf("simulated nodes did not start: %q %v", line, err)
	}
	fmt.Fprintf(os.Stderr, "bench: %d simulated nodes listening after %.1fs\n", n, time.Since(start).Seconds())
	writeTokens(r, filepath.Join(dir, "service_tokens"), 20)
	return f
}

// simulate measures es-service-tokens alone on simulated fleets of each
// size: wall time, its own CPU time and peak memory for a fresh push and
// a check, per node.
func (r *runner) simulate(sizes []int, concurrency []int) {
	fmt.Printf("\n== simulated nodes (in-process SSH/SFTP servers in another process) ==\n")
	fmt.Printf("  %-8s %-6s %5s %8s %8s %12s %10s %14s\n", "nodes", "", "at once", "wall s", "CPU s", "CPU ms/node", "peak MiB", "requests/node")
	for _, n := range sizes {
		mark := len(r.cleanup)
		f := r.startSim(n, 0)
		for _, c := range concurrency {
			for _, cmd := range []string{"push", "check"} {
				if cmd == "push" {
					os.RemoveAll(filepath.Join(f.dir, "nodes")) // every node without the file
					f.mkdirs(n)
				}
				_, before := f.counts()
				res := r.time(f.dir, nil, cmd, nil, r.bin, "-i", "cluster.yml", "--file", "service_tokens", cmd, "--concurrency", strconv.Itoa(c))
				_, after := f.counts()
				fmt.Printf("  %-8d %-6s %7d %8.2f %8.2f %12.3f %10.1f %14.1f %s\n", n, cmd, c, res.seconds, res.cpu, 1000*res.cpu/float64(n), float64(res.maxRSS)/1024,
					float64(after-before)/float64(n), res.note)
			}
		}
		r.finishFrom(mark)
	}
}

// mkdirs makes every simulated node's configuration directory again.
func (f *simFleet) mkdirs(n int) {
	for i := 1; i <= n; i++ {
		os.MkdirAll(simConf(f.dir, i), 0o755)
	}
}

// roundTrips counts the round trips a push (fresh file) and a check make
// per node: the same n nodes, one at a time, with answers rtt late and
// without; the difference in wall time is round trips times rtt.
func (r *runner) roundTrips(n int, rtt time.Duration) {
	fmt.Printf("\n== round trips per node: %d simulated nodes one at a time, answers %v late vs at once ==\n", n, rtt)
	wall := map[string][2]float64{}
	for k, lat := range []time.Duration{0, rtt} {
		mark := len(r.cleanup)
		f := r.startSim(n, lat)
		for _, cmd := range []string{"push", "check"} {
			res := r.time(f.dir, nil, cmd, nil, r.bin, "-i", "cluster.yml", "--file", "service_tokens", cmd, "--concurrency", "1")
			if !res.ok {
				r.Fatalf("%s: %s", cmd, res.note)
			}
			w := wall[cmd]
			w[k] = res.seconds
			wall[cmd] = w
		}
		r.finishFrom(mark)
	}
	for _, cmd := range []string{"push", "check"} {
		w := wall[cmd]
		fmt.Printf("  %-6s %.2fs vs %.2fs: %.1f round trips per node\n", cmd, w[1], w[0], (w[1]-w[0])/float64(n)/rtt.Seconds())
	}
}
